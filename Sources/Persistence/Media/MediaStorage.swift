import Foundation
import Reactor

/// Pulls an object's bytes in chunks: returns the next chunk, or nil at the end.
package typealias MediaChunkSource = @Sendable () async throws -> [UInt8]?
/// Receives an object's bytes chunk by chunk, in order.
package typealias MediaChunkSink = @Sendable ([UInt8]) async throws -> Void

/// Where media files live: local files or an S3 bucket. Objects stream through in chunks, so a
/// large file is never held whole in memory. Keys are relative paths (`session/abc.jpg`): no
/// leading `/`, no `..` segment, no NUL. Failures throw `PersistenceError` (`isStorageFailure`;
/// `resultCode` carries S3's HTTP status); nothing falls back silently.
package protocol MediaStorage: Sendable {
    /// Stores the object; returns its size in bytes.
    @discardableResult
    func put(key: String, contentType: String?, from source: @escaping MediaChunkSource) async throws -> Int
    /// Streams the object into `sink`; returns its size. Throws `storage(… status: 404)` when absent.
    /// Stores the complete file at `path` (`length` bytes). A storage that can send a file as it
    /// is (S3) reads it itself; the others take it through `chunks`, which reads the same file.
    func put(key: String, contentType: String?, file path: String, length: Int, chunks: @escaping MediaChunkSource) async throws
    @discardableResult
    func get(key: String, into sink: @escaping MediaChunkSink) async throws -> Int
    func delete(key: String) async throws
    func exists(key: String) async throws -> Bool
    /// A URL that lets anyone GET the object until it expires; nil when the storage has none
    /// (local files are served by the gateway itself).
    func presignedGetURL(key: String, expiresSeconds: Int) async throws -> String?
    /// The object opened as a response body the HTTP server streams from disk; nil when the
    /// storage has no file to give (S3: `get` it instead). Throws `storage(… status: 404)` when
    /// absent.
    func servingFile(key: String) async throws -> HTTPResponseFile?
}

extension MediaStorage {
    package func servingFile(key: String) async throws -> HTTPResponseFile? { nil }

    package func put(
        key: String, contentType: String?, file path: String, length: Int, chunks: @escaping MediaChunkSource
    ) async throws {
        try await put(key: key, contentType: contentType, from: chunks)
    }

    /// Stores `bytes` in one go (small objects, tests).
    @discardableResult
    package func put(key: String, contentType: String?, bytes: [UInt8]) async throws -> Int {
        let sent = SentOnce(bytes)
        return try await put(key: key, contentType: contentType) { sent.take() }
    }

    /// Reads a whole object into memory (small objects, tests).
    package func getBytes(key: String) async throws -> [UInt8] {
        let collected = Collected()
        try await get(key: key) { collected.append($0) }
        return collected.bytes
    }
}

package enum MediaKey {
    /// Refuses keys that could leave the storage root or confuse S3.
    package static func validate(_ key: String) throws {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, key.utf8.count <= 1024, !key.hasPrefix("/"), !key.utf8.contains(0),
            !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty })
        else { throw PersistenceError.storage("invalid media key \"\(key)\"") }
    }
}

private final class SentOnce: @unchecked Sendable {
    // Used by one put at a time, which pulls chunks sequentially.
    private var bytes: [UInt8]?
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func take() -> [UInt8]? {
        defer { bytes = nil }
        return bytes
    }
}

private final class Collected: @unchecked Sendable {
    // Appended to by one get, whose sink calls are sequential; read after it returns.
    var bytes: [UInt8] = []
    func append(_ chunk: [UInt8]) { bytes += chunk }
}

/// Media under a local directory (`STORAGE_LOCAL_PATH`). Writes go to a temporary file that is
/// renamed into place when complete, so readers never see half an object. File I/O runs on the
/// worker pool, never on the reactor thread.
package final class LocalMediaStorage: MediaStorage {
    package let root: String
    private let workers: WorkerPool
    private static let chunkSize = 256 << 10

    package init(root: String, workers: WorkerPool) {
        self.root = root
        self.workers = workers
    }

    private func path(_ key: String) throws -> String {
        try MediaKey.validate(key)
        return root + "/" + key
    }

    package func put(key: String, contentType: String?, from source: @escaping MediaChunkSource) async throws -> Int {
        let path = try path(key)
        let temporary = path + ".part-" + UUID().uuidString.prefix(8)
        let lane = workers.anyLane()
        let handle = try await lane.run { () throws -> FileHandleBox in
            let directory = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: temporary)
            else { throw PersistenceError.storage("cannot create \(temporary)") }
            return FileHandleBox(handle)
        }
        var total = 0
        do {
            while let chunk = try await source() {
                total += chunk.count
                try await lane.run { try handle.handle.write(contentsOf: chunk) }
            }
            try await lane.run {
                try handle.handle.close()
                guard rename(temporary, path) == 0 else {
                    throw PersistenceError.storage("cannot move \(temporary) into place: errno \(errno)")
                }
            }
        } catch {
            _ = try? await lane.run {
                try? handle.handle.close()
                unlink(temporary)
            }
            if error is PersistenceError { throw error }
            throw PersistenceError.storage("writing \(path) failed: \(error)")
        }
        return total
    }

    package func get(key: String, into sink: @escaping MediaChunkSink) async throws -> Int {
        let path = try path(key)
        let lane = workers.anyLane()
        let handle = try await lane.run { () throws -> FileHandleBox in
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw PersistenceError.storage("media \"\(key)\" not found", status: 404)
            }
            return FileHandleBox(handle)
        }
        // The size is read up front: Foundation can hand back an empty read before the end (a
        // signal such as SIGCHLD interrupting read(2)), which must not be taken for end of file.
        let size = (try? await lane.run { try handle.handle.seekToEnd() }).map(Int.init) ?? Int.max
        _ = try? await lane.run { try handle.handle.seek(toOffset: 0) }
        var total = 0
        var emptyReads = 0
        do {
            while total < size {
                let chunk = try await lane.run { try handle.handle.read(upToCount: Self.chunkSize) ?? Data() }
                if chunk.isEmpty {
                    emptyReads += 1
                    if size == Int.max || emptyReads > 3 { break }
                    continue
                }
                total += chunk.count
                try await sink([UInt8](chunk))
            }
            _ = try? await lane.run { try handle.handle.close() }
        } catch {
            _ = try? await lane.run { try handle.handle.close() }
            throw error
        }
        return total
    }

    package func delete(key: String) async throws {
        let path = try path(key)
        try await workers.anyLane().run {
            guard unlink(path) == 0 || errno == ENOENT else {
                throw PersistenceError.storage("cannot delete \(path): errno \(errno)")
            }
        }
    }

    package func exists(key: String) async throws -> Bool {
        let path = try path(key)
        return try await workers.anyLane().run { FileManager.default.fileExists(atPath: path) }
    }

    package func presignedGetURL(key: String, expiresSeconds: Int) async throws -> String? {
        try MediaKey.validate(key)
        return nil
    }

    /// Opened on a worker: the descriptor keeps the bytes readable even if the object is replaced
    /// or deleted while it is being served.
    package func servingFile(key: String) async throws -> HTTPResponseFile? {
        let path = try path(key)
        return try await workers.anyLane().run { () throws -> HTTPResponseFile in
            do {
                return try HTTPResponseFile.open(path: path)
            } catch let error as ReactorError where error.errno == ENOENT {
                throw PersistenceError.storage("media \"\(key)\" not found", status: 404)
            }
        }
    }
}

/// Carries a FileHandle between worker-lane calls of one operation.
private final class FileHandleBox: @unchecked Sendable {
    // Used by one put or get at a time, only inside its sequential lane calls.
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }
}
