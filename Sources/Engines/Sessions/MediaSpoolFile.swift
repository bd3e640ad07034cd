import Foundation

/// Media bytes kept in a temporary file instead of memory: a send's media fetched from a URL,
/// its encrypted blob, a downloaded blob and its plaintext. The file lives in the system's
/// temporary directory under a fresh name and is removed when the last reference goes, so every
/// path out of a send or download (success, refusal, error, cancellation) cleans up after itself.
///
/// Removal happens in `deinit`, on whatever thread lets go last: one unlink(2), a metadata call
/// that does not wait on file contents, and the owners are tasks and workers, not the reactor.
package final class MediaSpoolFile: Sendable, Equatable {
    package let path: String
    /// Bytes in the file.
    package let length: Int
    /// What owns the file when this does not (an upload the HTTP server spooled): kept alive as
    /// long as this is, and left to remove the file itself.
    private let owner: (any AnyObject & Sendable)?

    /// Takes ownership of the complete file at `path`.
    package init(path: String, length: Int) {
        self.path = path
        self.length = length
        self.owner = nil
    }

    /// The complete file at `path`, which `owner` removes once nothing holds it.
    package init(path: String, length: Int, owner: any AnyObject & Sendable) {
        self.path = path
        self.length = length
        self.owner = owner
    }

    /// A fresh path for a spool file; nothing is created yet.
    package static func freshPath(_ label: String) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("openwa-\(label)-\(UUID().uuidString)")
    }

    /// The whole file in memory, for the few consumers that need it there anyway (the browser
    /// engine hands media to the page as base64). Blocking file I/O.
    package func contents() throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw EngineError.unavailable("media spool file is gone") }
        defer { try? handle.close() }
        return [UInt8](try handle.readToEnd() ?? Data())
    }

    /// The names spool files get (`freshPath` labels), for the sweep.
    /// `upload` is the HTTP server's (`HTTPUploadFile.namePrefix`): its form parts, which the
    /// same sweep clears.
    static let labels = ["url-media", "media-blob", "media-download", "media-plain", "media-serve", "upload"]

    /// Removes spool files in `directory` last written more than `age` seconds ago: what a process
    /// killed mid-transfer left behind. No live transfer is that old (downloads are bounded by
    /// `MEDIA_DOWNLOAD_TIMEOUT_MS`, at most ten minutes), so gateways sharing the directory are
    /// safe. Blocking file I/O: run it on a worker. Returns how many files went.
    @discardableResult
    package static func sweepStale(in directory: String = NSTemporaryDirectory(), olderThan age: TimeInterval = 3_600) -> Int {
        let files = FileManager.default
        let cutoff = Date().addingTimeInterval(-age)
        var removed = 0
        for name in (try? files.contentsOfDirectory(atPath: directory)) ?? []
        where labels.contains(where: { name.hasPrefix("openwa-\($0)-") }) {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let written = (try? files.attributesOfItem(atPath: path))?[.modificationDate] as? Date, written < cutoff else {
                continue
            }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    package static func == (left: MediaSpoolFile, right: MediaSpoolFile) -> Bool { left === right }

    deinit { if owner == nil { unlink(path) } }
}
