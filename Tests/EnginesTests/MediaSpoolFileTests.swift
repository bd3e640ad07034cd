import Engines
import Foundation
import Testing

/// Spool files: removed when their last owner lets go, and swept at start-up when a killed process
/// left them behind, without touching fresh ones or anything that is not a spool file.
@Suite struct MediaSpoolFileTests {
    private func scratch() throws -> String {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("spool-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    private func write(_ directory: String, _ name: String, age: TimeInterval) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: path)
    }

    @Test func staleSpoolFilesAreSweptAndNothingElse() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(directory, "openwa-url-media-OLD", age: 7_200)
        try write(directory, "openwa-media-plain-OLD", age: 7_200)
        try write(directory, "openwa-media-blob-FRESH", age: 5)
        try write(directory, "openwa-sim-OLD", age: 7_200)
        try write(directory, "unrelated-OLD", age: 7_200)
        #expect(MediaSpoolFile.sweepStale(in: directory, olderThan: 3_600) == 2)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        #expect(left == ["openwa-media-blob-FRESH", "openwa-sim-OLD", "unrelated-OLD"])
    }

    @Test func theFileGoesWithItsLastOwner() throws {
        let path = MediaSpoolFile.freshPath("media-blob")
        try Data([9]).write(to: URL(fileURLWithPath: path))
        var spool: MediaSpoolFile? = MediaSpoolFile(path: path, length: 1)
        #expect(FileManager.default.fileExists(atPath: path))
        _ = spool
        spool = nil
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
