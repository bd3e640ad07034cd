import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport

/// Deterministic chunks of a pattern, pulled one by one, counting how much was pulled.
final class PatternSource: Sendable {
    let total: Int
    let chunkSize: Int
    private let pulled = Mutex(0)

    init(total: Int, chunkSize: Int = 64 << 10) {
        self.total = total
        self.chunkSize = chunkSize
    }

    var pulledBytes: Int { pulled.withLock { $0 } }

    static func byte(at offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: offset &* 31 &+ offset >> 11) }

    func next() -> [UInt8]? {
        pulled.withLock { offset -> [UInt8]? in
            guard offset < total else { return nil }
            let count = min(chunkSize, total - offset)
            let chunk = (offset..<offset + count).map(Self.byte(at:))
            offset += count
            return chunk
        }
    }
}

/// Checks a streamed download against the pattern without keeping it.
final class PatternSink: Sendable {
    private struct State {
        var received = 0
        var largestChunk = 0
        var mismatch: Int?
    }

    private let state = Mutex(State())
    var received: Int { state.withLock { $0.received } }
    var largestChunk: Int { state.withLock { $0.largestChunk } }
    var mismatch: Int? { state.withLock { $0.mismatch } }

    func take(_ chunk: [UInt8]) {
        state.withLock { state in
            for (index, byte) in chunk.enumerated() where state.mismatch == nil && byte != PatternSource.byte(at: state.received + index) {
                state.mismatch = state.received + index
            }
            state.received += chunk.count
            state.largestChunk = max(state.largestChunk, chunk.count)
        }
    }
}

@Suite("Local media storage")
struct LocalMediaStorageTests {
    @Test func putGetExistsDeleteAndKeyRules() async throws {
        let root = NSTemporaryDirectory() + "openwa-media-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let storage = LocalMediaStorage(root: root, workers: WorkerPool(size: 1))
        let source = PatternSource(total: 1_000_000)
        #expect(try await storage.put(key: "s1/a b.jpg", contentType: "image/jpeg") { source.next() } == 1_000_000)
        #expect(try await storage.exists(key: "s1/a b.jpg"))
        let sink = PatternSink()
        #expect(try await storage.get(key: "s1/a b.jpg") { sink.take($0) } == 1_000_000)
        #expect(sink.mismatch == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/s1") == ["a b.jpg"], "no temporary file left")
        #expect(try await storage.presignedGetURL(key: "s1/a b.jpg", expiresSeconds: 60) == nil)
        try await storage.delete(key: "s1/a b.jpg")
        #expect(try await !storage.exists(key: "s1/a b.jpg"))
        let missing = await #expect(throws: PersistenceError.self) { _ = try await storage.getBytes(key: "s1/a b.jpg") }
        #expect(missing?.isStorageFailure == true)
        #expect(missing?.resultCode == 404)
        for bad in ["", "/abs", "../up", "a/../b", "a//b", "a/./b"] {
            await #expect(throws: PersistenceError.self, "\(bad)") { _ = try await storage.put(key: bad, contentType: nil, bytes: [1]) }
        }
    }
}

/// S3 end to end against moto_server. One serialized suite: the last test stops the server.
@Suite("S3 media storage", .enabled(if: S3TestEnvironment.isAvailable), .serialized, .timeLimit(.minutes(2)))
struct S3MediaStorageTests {
    static func configuration(endpoint: String? = S3TestEnvironment.endpoint) -> S3Configuration {
        S3Configuration(
            endpoint: endpoint, bucket: "b-" + UUID().uuidString.prefix(8).lowercased(), region: "us-east-1",
            accessKeyID: "test-key", secretAccessKey: "test-secret", partSize: 5 << 20)
    }

    /// Runs `body` with a reactor, a shared HTTP client and a storage on a fresh bucket.
    func withS3<T>(
        _ configuration: S3Configuration = configuration(), createBucket: Bool = true,
        _ body: (S3MediaStorage, SharedHTTPClient) async throws -> T
    ) async throws -> T {
        try await withReactor { handle in
            let http = try await handle.submit { reactor in SharedHTTPClient(reactor: reactor) }
            do {
                let storage = try S3MediaStorage(configuration: configuration, http: http, timeoutMilliseconds: 10_000)
                if createBucket { try await storage.createBucket() }
                let result = try await body(storage, http)
                http.close()
                _ = try await handle.submit { _ in }
                return result
            } catch {
                http.close()
                _ = try await handle.submit { _ in }
                throw error
            }
        }
    }

    @Test func smallObjectRoundTrip() async throws {
        try await withS3 { storage, _ in
            let key = "session-1/dir/a b+c é.bin"
            let bytes: [UInt8] = [0, 1, 2, 255, 13, 10] + Array(repeating: 9, count: 1000)
            #expect(try await !storage.exists(key: key))
            #expect(try await storage.put(key: key, contentType: "application/octet-stream", bytes: bytes) == bytes.count)
            #expect(try await storage.exists(key: key))
            #expect(try await storage.getBytes(key: key) == bytes)
            try await storage.delete(key: key)
            #expect(try await !storage.exists(key: key))
            let missing = await #expect(throws: PersistenceError.self) { _ = try await storage.getBytes(key: key) }
            #expect(missing?.isStorageFailure == true)
            #expect(missing?.resultCode == 404)
        }
    }

    @Test func fortyEightMegabytesStreamUpAndDownInBoundedMemory() async throws {
        try await withS3 { storage, _ in
            // Large enough that whole-object buffering (2 x size for the upload alone) stands far
            // above the few parts streaming keeps, and above the noise of suites running beside it.
            let size = 48 << 20
            let source = PatternSource(total: size)
            let before = ProcessMemory.residentBytes()
            let peak = Mutex(before)
            let sampledSource: MediaChunkSource = {
                // Never more than one part ahead of what has been uploaded: pulled lazily.
                let chunk = source.next()
                let now = ProcessMemory.residentBytes()
                peak.withLock { $0 = max($0, now) }
                return chunk
            }
            #expect(try await storage.put(key: "big/object", contentType: "video/mp4", from: sampledSource) == size)
            let sink = PatternSink()
            #expect(
                try await storage.get(key: "big/object") { chunk in
                    sink.take(chunk)
                    let now = ProcessMemory.residentBytes()
                    peak.withLock { $0 = max($0, now) }
                } == size)
            #expect(sink.received == size)
            #expect(sink.mismatch == nil)
            #expect(sink.largestChunk <= S3MediaStorage.rangeBytes, "downloaded in ranges")
            let growth = peak.withLock { $0 } - before
            // One part lives in a few copies at most (our part buffer, the HTTP client's serialized
            // request, the response parser's body and the body handed over): about 4 x 5 MiB
            // measured alone. Whole-object buffering needs 2 x 48 MiB for the upload alone, plus
            // the download. Resident memory is process-wide and other suites run in parallel, so
            // the bound leaves room for their noise.
            #expect(growth < 2 * size, "resident memory grew by \(growth >> 20) MiB for a \(size >> 20) MiB object")
            try await storage.delete(key: "big/object")
        }
    }

    /// A file goes up as streaming bodies read from disk: one PUT below a part, ranges of the
    /// file as parts above it; both read back byte for byte.
    @Test(arguments: [1 << 20, 12 << 20 + 4321])
    func aFileIsSentFromDisk(size: Int) async throws {
        let path = NSTemporaryDirectory() + "openwa-s3-file-\(UUID().uuidString)"
        defer { unlink(path) }
        let bytes = (0..<size).map(PatternSource.byte(at:))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try await withS3 { storage, _ in
            let refusedChunks: MediaChunkSource = {
                Issue.record("S3 should read the file itself")
                return nil
            }
            try await storage.put(
                key: "files/doc", contentType: "application/pdf", file: path, length: size, chunks: refusedChunks)
            #expect(try await storage.getBytes(key: "files/doc") == bytes)
            try await storage.delete(key: "files/doc")
        }
    }

    @Test func presignedURLWorksWithOurHTTPClient() async throws {
        try await withS3 { storage, http in
            let bytes = Array("presigned body".utf8)
            try await storage.put(key: "p/file.txt", contentType: "text/plain", bytes: bytes)
            let url = try #require(try await storage.presignedGetURL(key: "p/file.txt", expiresSeconds: 300))
            #expect(url.hasPrefix(S3TestEnvironment.endpoint! + "/\(storage.configuration.bucket)/p/file.txt?X-Amz-Algorithm="))
            let response = try await http.execute(try #require(HTTPClientRequest(method: "GET", url: url)))
            #expect(response.status == 200)
            #expect(response.body == bytes)
        }
    }

    @Test func aMissingBucketIsAClearError() async throws {
        try await withS3(createBucket: false) { storage, _ in
            let error = await #expect(throws: PersistenceError.self) { _ = try await storage.put(key: "k", contentType: nil, bytes: [1]) }
            #expect(error?.isStorageFailure == true)
            #expect(error?.resultCode == 404)
        }
    }

    @Test func aStoppedServerIsAClearError() async throws {
        try await withS3 { storage, _ in
            try await storage.put(key: "k", contentType: nil, bytes: [1])
            try await S3TestEnvironment.stopServer()
            do {
                try #require(S3TestEnvironment.endpoint != nil)
                let error = await #expect(throws: PersistenceError.self) { _ = try await storage.getBytes(key: "k") }
                #expect(error?.isStorageFailure == true)
                #expect(error?.message.contains(S3TestEnvironment.endpoint ?? "?") == true, "\(String(describing: error))")
                await #expect(throws: PersistenceError.self) { _ = try await storage.put(key: "k2", contentType: nil, bytes: [2]) }
            } catch {
                try await S3TestEnvironment.startServer()
                throw error
            }
            try await S3TestEnvironment.startServer()
            // moto keeps nothing: the bucket is gone, and saying so is S3's clear 404.
            try await storage.createBucket()
            try await storage.put(key: "k", contentType: nil, bytes: [3])
            #expect(try await storage.getBytes(key: "k") == [3])
        }
    }
}
