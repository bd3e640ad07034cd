import TestSupport
import Foundation
import Testing
@testable import Reactor

/// Slow and idle clients, on a manual clock: nothing here sleeps for the timeout itself.
@Suite(.timeLimit(.minutes(1))) struct HTTPServerTimeoutTests {
    private let configuration = HTTPServer.Configuration(
        headersTimeoutMilliseconds: 65_000, requestTimeoutMilliseconds: 300_000, keepAliveTimeoutMilliseconds: 5_000)

    @Test func idleKeepAliveConnectionIsClosedAfterTheKeepAliveTimeout() async throws {
        let clock = ManualReactorClock()
        let server = try TestHTTPServer.start(configuration: configuration, clock: clock)
        let client = try await blocking { try LoopbackClient(port: server.port) }
        let response = try await blocking { () -> TestResponse? in
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            return client.readResponse()
        }
        #expect(response?.status == 200)
        clock.advance(milliseconds: 4_999)
        #expect(try await server.connectionCount() == 1)
        clock.advance(milliseconds: 1)
        _ = try await server.connectionCount()
        #expect(try await blocking { client.isClosedByPeer() })
        #expect(try await server.connectionCount() == 0)
        _ = try await server.stop()
    }

    @Test func slowHeadersGet408AfterTheHeadersTimeout() async throws {
        let clock = ManualReactorClock()
        let server = try TestHTTPServer.start(configuration: configuration, clock: clock)
        let client = try await blocking { try LoopbackClient(port: server.port) }
        try await blocking { client.send("GET / HTTP/1.1\r\nHost: x\r\n") }
        try await server.settle()  // accepted, and the bytes have been read
        clock.advance(milliseconds: 64_999)
        #expect(try await server.connectionCount() == 1)
        clock.advance(milliseconds: 1)
        let response = try await blocking { client.readResponse() }
        #expect(response?.status == 408)
        #expect(try await blocking { client.isClosedByPeer() })
        _ = try await server.stop()
    }

    @Test func aSilentNewConnectionIsDroppedLikeASlowOne() async throws {
        let clock = ManualReactorClock()
        let server = try TestHTTPServer.start(configuration: configuration, clock: clock)
        let client = try await blocking { try LoopbackClient(port: server.port) }
        try await server.settle()
        #expect(try await server.connectionCount() == 1)
        clock.advance(milliseconds: 65_000)
        let response = try await blocking { client.readResponse() }
        #expect(response?.status == 408)
        _ = try await server.stop()
    }

    @Test func aBodyThatStopsArrivingGets408AfterTheRequestTimeout() async throws {
        let clock = ManualReactorClock()
        let server = try TestHTTPServer.start(configuration: configuration, clock: clock)
        let client = try await blocking { try LoopbackClient(port: server.port) }
        try await blocking { client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf") }
        try await server.settle()
        clock.advance(milliseconds: 65_000)  // past the headers timeout: the head was complete
        #expect(try await server.connectionCount() == 1)
        clock.advance(milliseconds: 235_000)
        let response = try await blocking { client.readResponse() }
        #expect(response?.status == 408)
        _ = try await server.stop()
    }

    @Test func aPendingResponseIsNotCutByTheKeepAliveTimer() async throws {
        let clock = ManualReactorClock()
        let server = try TestHTTPServer.start(configuration: configuration, clock: clock)
        let client = try await blocking { try LoopbackClient(port: server.port) }
        try await blocking { client.send("GET /slow?ms=20000 HTTP/1.1\r\nHost: x\r\n\r\n") }
        try await server.settle()
        clock.advance(milliseconds: 20_000)
        let response = try await blocking { client.readResponse() }
        #expect(response?.text == "slow")
        _ = try await server.stop()
    }
}
