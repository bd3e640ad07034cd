import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Reactor

/// The HTTP client on one reactor talking to our HTTP server on another, over loopback.
@Suite(.timeLimit(.minutes(1))) struct HTTPClientTests {
    private func startClient(
        clock: any ReactorClock = MonotonicReactorClock(), configuration: HTTPClient.Configuration = HTTPClient.Configuration()
    ) throws -> (ReactorHandle, SharedHTTPClient) {
        let slot = ClientSlot()
        let handle = try ReactorThread.start(clock: clock, workers: WorkerPool(size: 1), logger: quietLogger) { reactor in
            slot.client = SharedHTTPClient(reactor: reactor, configuration: configuration)
        }
        return (handle, slot.client!)
    }

    private func stop(_ handle: ReactorHandle) async {
        handle.stop()
        await handle.waitUntilStopped()
    }

    @Test func getAndPostReuseOneKeepAliveConnection() async throws {
        let server = try TestHTTPServer.start()
        let (handle, client) = try startClient()
        let first = try await client.execute(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/a?b=1")!)
        #expect(first.status == 200)
        #expect(String(decoding: first.body, as: UTF8.self) == "GET /a?b=1 0\n")
        let second = try await client.execute(
            HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/echo", body: Array("payload".utf8))!)
        #expect(String(decoding: second.body, as: UTF8.self) == "POST /echo 7\npayload")
        #expect(try await client.idleConnectionCount() == 1)
        #expect(try await server.connectionCount() == 1)
        client.close()
        await stop(handle)
        _ = try await server.stop()
    }

    @Test func namesAreResolvedOffTheReactor() async throws {
        let server = try TestHTTPServer.start()
        let (handle, client) = try startClient()
        let response = try await client.execute(HTTPClientRequest(method: "GET", url: "http://localhost:\(server.port)/named")!)
        #expect(response.status == 200)
        await stop(handle)
        _ = try await server.stop()
    }

    @Test func aRefusedConnectionFailsCleanly() async throws {
        let (handle, client) = try startClient()
        let unused = try closedPort()
        await #expect(throws: ReactorError.self) {
            try await client.execute(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(unused)/")!)
        }
        await stop(handle)
    }

    @Test func aServerThatNeverAnswersTimesOutOnTheClientsClock() async throws {
        let server = try TestHTTPServer.start()
        let clock = ManualReactorClock()
        let (handle, client) = try startClient(clock: clock)
        let request = Task { try await client.execute(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/never")!) }
        // Wait until the request is on the server, then move the client's time past its deadline.
        while try await server.connectionCount() == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(20))
        clock.advance(milliseconds: 30_000)
        let error = await #expect(throws: ReactorError.self) { try await request.value }
        #expect(error?.isTimeout == true)
        await stop(handle)
        _ = try await server.stop()
    }

    @Test func requestsBeyondTheOriginLimitWaitTheirTurn() async throws {
        let server = try TestHTTPServer.start()
        var configuration = HTTPClient.Configuration()
        configuration.maxConnectionsPerOrigin = 1
        let (handle, client) = try startClient(configuration: configuration)
        let url = "http://127.0.0.1:\(server.port)/slow?ms=20"
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<5 { group.addTask { try await client.execute(HTTPClientRequest(method: "GET", url: url)!).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == [200, 200, 200, 200, 200])
        #expect(try await server.connectionCount() == 1)
        await stop(handle)
        _ = try await server.stop()
    }

    @Test(arguments: ["ftp://x/", "http://", "https://", "http://host:99999/", "http://user@host/", "http://[::1/"])
    func unusableURLsAreRefused(url: String) {
        #expect(HTTPClientRequest(method: "GET", url: url) == nil)
    }

    /// A port with nothing listening: bind, read the port, close.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, __CONST_SOCKADDR_ARG(__sockaddr__: $0), length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, __SOCKADDR_ARG(__sockaddr__: $0), &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Holds the client made during reactor setup; written before `start` returns.
final class ClientSlot: @unchecked Sendable {
    var client: SharedHTTPClient?
}
