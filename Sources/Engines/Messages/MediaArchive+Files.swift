import Foundation
import Persistence
import Reactor

/// Storing media that sits in a spool file (a download's checked plaintext, a send fetched from a
/// URL): S3 sends the file itself as streaming request bodies; local storage takes it in chunks
/// read on a worker lane (written chunk by chunk, then renamed into place). Neither ever holds
/// the whole file.
extension MediaArchive {
    /// Bytes read from the spool file per chunk.
    static let fileChunkBytes = 256 << 10

    /// Stores the media in `file` for the message and points its row at it; the storage key.
    @discardableResult
    package func save(
        sessionID: String, messageID: String, mimetype: String, file: MediaSpoolFile, workers: WorkerPool
    ) async throws -> String {
        let reader = SpoolFileReader(file: file, lane: workers.anyLane())
        defer { reader.close() }
        return try await save(sessionID: sessionID, messageID: messageID, mimetype: mimetype) { key in
            try await self.storage.put(key: key, contentType: mimetype, file: file.path, length: file.length) {
                try await reader.next()
            }
        }
    }
}

/// Reads a spool file front to back in `MediaArchive.fileChunkBytes` pieces on one worker lane.
private final class SpoolFileReader: @unchecked Sendable {
    // `handle` and `offset` are touched only inside jobs on `lane`, which is serial, and the
    // storage pulls chunks one after the other.
    private let file: MediaSpoolFile
    private let lane: WorkerLane
    private var handle: FileHandle?
    private var offset = 0

    init(file: MediaSpoolFile, lane: WorkerLane) {
        self.file = file
        self.lane = lane
    }

    /// The next chunk, nil at the end; a file shorter than its recorded length is an error.
    func next() async throws -> [UInt8]? {
        try await lane.run { () throws -> [UInt8]? in
            guard self.offset < self.file.length else { return nil }
            if self.handle == nil {
                guard let opened = FileHandle(forReadingAtPath: self.file.path) else {
                    throw EngineError.unavailable("media spool file \(self.file.path) is gone")
                }
                self.handle = opened
            }
            let want = min(MediaArchive.fileChunkBytes, self.file.length - self.offset)
            var chunk: [UInt8] = []
            chunk.reserveCapacity(want)
            // A short read is not the end of a regular file unless nothing comes at all.
            while chunk.count < want, let data = try self.handle?.read(upToCount: want - chunk.count), !data.isEmpty {
                chunk += data
            }
            guard chunk.count == want else { throw EngineError.unavailable("media spool file \(self.file.path) is short") }
            self.offset += want
            return chunk
        }
    }

    func close() {
        lane.submit({ try self.handle?.close() }, completion: { _ in })
    }
}

/// Serving media from a storage without files of its own (S3): the object is fetched range by
/// range into a spool file, which is opened and unlinked at once. The open descriptor keeps the
/// bytes for the response, so nothing is left on disk whatever happens to the connection, and
/// at most one range is ever in memory.
extension MediaArchive {
    func spooled(key: String) async throws -> HTTPResponseFile {
        let lane = workers.anyLane()
        let path = MediaSpoolFile.freshPath("media-serve")
        let writer = try await lane.run { () throws -> SpoolFileWriter in
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: path)
            else { throw EngineError.unavailable("cannot create a media spool file") }
            return SpoolFileWriter(handle: handle)
        }
        do {
            _ = try await storage.get(key: key) { chunk in try await lane.run { try writer.write(chunk) } }
            return try await lane.run { () throws -> HTTPResponseFile in
                try writer.close()
                defer { unlink(path) }
                return try HTTPResponseFile.open(path: path)
            }
        } catch {
            _ = try? await lane.run { () -> Void in
                try? writer.close()
                unlink(path)
            }
            throw error
        }
    }
}

/// The write side of a spool file, used only inside jobs on one worker lane.
private final class SpoolFileWriter: @unchecked Sendable {
    private let handle: FileHandle
    private var closed = false

    init(handle: FileHandle) { self.handle = handle }

    func write(_ chunk: [UInt8]) throws { try handle.write(contentsOf: chunk) }

    func close() throws {
        guard !closed else { return }
        closed = true
        try handle.close()
    }
}
