import Foundation
import Testing
import TestSupport
@testable import Reactor

/// The HTTP client's streaming modes over loopback: a request body pumped from a file and a
/// response body spooled to a file, both larger than every buffer on the way, and the response
/// byte cap enforced while spooling (the failed spool file removed before the error is seen).
@Suite(.timeLimit(.minutes(1))) struct HTTPClientStreamingTests {
    private func startClient(maxResponseBytes: Int = 64 << 20) throws -> (ReactorHandle, SharedHTTPClient) {
        let slot = StreamingClientSlot()
        var settings = HTTPClient.Configuration()
        settings.maxResponseBytes = maxResponseBytes
        let configuration = settings
        let handle = try ReactorThread.start(clock: MonotonicReactorClock(), workers: WorkerPool(size: 2), logger: quietLogger) {
            slot.client = SharedHTTPClient(reactor: $0, configuration: configuration)
        }
        return (handle, slot.client!)
    }

    private func stop(_ handle: ReactorHandle) async {
        handle.stop()
        await handle.waitUntilStopped()
    }

    private func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "openwa-stream-\(name)-\(UUID().uuidString)"
    }

    @Test func aLargeBodyGoesUpFromAFileAndComesBackIntoOne() async throws {
        let server = try TestHTTPServer.start()
        let (handle, client) = try startClient()
        var payload = [UInt8](repeating: 0, count: 5 << 20 + 12_345)
        for index in stride(from: 0, to: payload.count, by: 4096) { payload[index] = UInt8(truncatingIfNeeded: index >> 12) }
        let source = temporaryPath("up")
        let spool = temporaryPath("down")
        defer {
            unlink(source)
            unlink(spool)
        }
        try Data(payload).write(to: URL(fileURLWithPath: source))
        // Twice on one connection: the first spool must end cleanly for the keep-alive reuse.
        for round in 0..<2 {
            var request = try #require(HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/echo"))
            request.bodyFile = HTTPBodyFile(path: source, length: payload.count)
            request.responseBodyPath = spool
            let response = try await client.execute(request)
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
            let prefix = Array("POST /echo \(payload.count)\n".utf8)
            #expect(response.bodyLength == prefix.count + payload.count)
            let echoed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: spool)))
            #expect(echoed.count == prefix.count + payload.count, "round \(round)")
            #expect(echoed == prefix + payload, "round \(round)")
        }
        #expect(try await server.connectionCount() == 1)
        client.close()
        await stop(handle)
        _ = try await server.stop()
    }

    @Test func aRangeOfAFileIsSentAsTheBody() async throws {
        let server = try TestHTTPServer.start()
        let (handle, client) = try startClient()
        let payload = (0..<1_200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        let source = temporaryPath("range")
        defer { unlink(source) }
        try Data(payload).write(to: URL(fileURLWithPath: source))
        var request = try #require(HTTPClientRequest(method: "PUT", url: "http://127.0.0.1:\(server.port)/echo"))
        request.bodyFile = HTTPBodyFile(path: source, offset: 300_000, length: 700_001)
        let response = try await client.execute(request)
        #expect(response.body == Array("PUT /echo 700001\n".utf8) + payload[300_000..<1_000_001])
        await stop(handle)
        _ = try await server.stop()
    }

    @Test func aFileShorterThanItsDeclaredLengthFailsTheRequest() async throws {
        let server = try TestHTTPServer.start()
        let (handle, client) = try startClient()
        let source = temporaryPath("short")
        defer { unlink(source) }
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: source))
        var request = try #require(HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/echo"))
        request.bodyFile = HTTPBodyFile(path: source, length: 5000)
        await #expect(throws: ReactorError.self) { try await client.execute(request, timeoutMilliseconds: 5_000) }
        await stop(handle)
        _ = try await server.stop()
    }

    @Test func aDeclaredLengthOverTheCapIsRefusedBeforeAnyFileIsMade() async throws {
        let server = try TestHTTPServer.start()
        let (handle, client) = try startClient(maxResponseBytes: 1 << 20)
        let spool = temporaryPath("declared")
        var request = try #require(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/big?bytes=3000000"))
        request.responseBodyPath = spool
        let error = await #expect(throws: ReactorError.self) { try await client.execute(request) }
        #expect(error?.operation.hasPrefix("response body exceeds") == true)
        #expect(!FileManager.default.fileExists(atPath: spool))
        await stop(handle)
        _ = try await server.stop()
    }

    /// A body without a length (it runs until the server closes) passes the cap mid-stream,
    /// after part of it has been written to the spool file.
    @Test func aBodyPassingTheCapMidStreamFailsAndLeavesNoSpoolFile() async throws {
        let server = try UntilCloseServer(bodyBytes: 4 << 20)
        let (handle, client) = try startClient(maxResponseBytes: 2 << 20)
        let spool = temporaryPath("mid")
        var request = try #require(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/"))
        request.responseBodyPath = spool
        let error = await #expect(throws: ReactorError.self) { try await client.execute(request) }
        #expect(error?.operation.hasPrefix("response body exceeds") == true)
        #expect(!FileManager.default.fileExists(atPath: spool))
        // Under the cap the same body arrives whole.
        let (roomy, roomyClient) = try startClient(maxResponseBytes: 8 << 20)
        let second = try UntilCloseServer(bodyBytes: 4 << 20)
        request = try #require(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(second.port)/"))
        request.responseBodyPath = spool
        let response = try await roomyClient.execute(request)
        defer { unlink(spool) }
        #expect(response.bodyLength == 4 << 20)
        #expect(try Data(contentsOf: URL(fileURLWithPath: spool)) == Data(UntilCloseServer.body(4 << 20)))
        await stop(handle)
        await stop(roomy)
    }
}

private final class StreamingClientSlot: @unchecked Sendable {
    // Written once on the reactor thread before `start` returns, read after.
    var client: SharedHTTPClient?
}

/// Answers one connection with a head that has no length and `bodyBytes` of body, then closes:
/// a body whose size the client only learns by reading it. Runs on a thread of its own.
private final class UntilCloseServer: @unchecked Sendable {
    // `port` is set in init and only read afterwards; the socket belongs to the thread.
    let port: Int

    static func body(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0x33, count: count)
        for index in stride(from: 0, to: count, by: 1024) { bytes[index] = UInt8(truncatingIfNeeded: index >> 10) }
        return bytes
    }

    init(bodyBytes: Int) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, __CONST_SOCKADDR_ARG(__sockaddr__: $0), length) == 0
                    && getsockname(listener, __SOCKADDR_ARG(__sockaddr__: $0), &length) == 0
            }
        }
        guard bound, listen(listener, 1) == 0 else { throw ReactorError.syscall("listen", errno: errno) }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            let connection = accept(listener, __SOCKADDR_ARG(__sockaddr__: nil), nil)
            close(listener)
            guard connection >= 0 else { return }
            var request = [UInt8](repeating: 0, count: 4096)
            _ = read(connection, &request, request.count)
            let bytes = Array("HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n\r\n".utf8) + Self.body(bodyBytes)
            var sent = 0
            while sent < bytes.count {
                let put = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if put <= 0 { break }
                sent += put
            }
            close(connection)
        }
    }
}
