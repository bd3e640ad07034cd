import TestSupport
import Foundation
import Testing
@testable import Reactor

/// The HTTP server through real loopback sockets.
@Suite(.timeLimit(.minutes(1))) struct HTTPServerTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        let server = try TestHTTPServer.start()
        let client = try await blocking { try LoopbackClient(port: server.port) }
        let responses = try await blocking {
            var all: [TestResponse] = []
            for index in 0..<3 {
                client.send("GET /item/\(index) HTTP/1.1\r\nHost: x\r\n\r\n")
                all += client.readResponses(1)
            }
            return all
        }
        #expect(responses.map(\.status) == [200, 200, 200])
        #expect(responses.map(\.text) == ["GET /item/0 0\n", "GET /item/1 0\n", "GET /item/2 0\n"])
        #expect(responses[0].header("date") != nil)
        #expect(try await server.connectionCount() == 1)
        let left = try await server.stop()
        #expect(left.registrations == 0 && left.timers == 0)
    }

    @Test func pipelinedResponsesComeBackInRequestOrder() async throws {
        let server = try TestHTTPServer.start()
        let responses = try await blocking {
            let client = try LoopbackClient(port: server.port)
            // The first request is answered last by the responder; order must still hold.
            client.send(
                "GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
            return client.readResponses(3)
        }
        #expect(responses.map(\.text) == ["slow", "POST /b 3\nabc", "GET /c 0\n"])
        _ = try await server.stop()
    }

    @Test func chunkedBodiesAreDecoded() async throws {
        let server = try TestHTTPServer.start()
        let response = try await blocking {
            let client = try LoopbackClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
            return client.readResponse()
        }
        #expect(response?.text == "POST /echo 11\nhello world")
        _ = try await server.stop()
    }

    @Test func expectContinueGetsAnInterimResponseBeforeTheBody() async throws {
        let server = try TestHTTPServer.start()
        let (interim, final) = try await blocking { () -> (TestResponse?, TestResponse?) in
            let client = try LoopbackClient(port: server.port)
            client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            let interim = client.readResponse()
            client.send("data")
            return (interim, client.readResponse())
        }
        #expect(interim?.status == 100)
        #expect(final?.text == "POST /upload 4\ndata")
        _ = try await server.stop()
    }

    @Test func oversizedBodyIsRefusedWith413BeforeItIsRead() async throws {
        var configuration = HTTPServer.Configuration()
        configuration.limits = HTTPRequestParser.Limits(maxBodyBytes: 1_000)
        let server = try TestHTTPServer.start(configuration: configuration)
        let (response, closed) = try await blocking { () -> (TestResponse?, Bool) in
            let client = try LoopbackClient(port: server.port)
            client.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
            return (client.readResponse(), client.isClosedByPeer())
        }
        #expect(response?.status == 413)
        #expect(response?.header("connection") == "close")
        #expect(closed)
        _ = try await server.stop()
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: x\r\n" + "X-Big: " + String(repeating: "a", count: 40_000) + "\r\n\r\n", 431),
        ("GET /" + String(repeating: "p", count: 9_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431),
        ("GET / HTTP/1.1\r\nHost x\r\n\r\n", 400),
        ("BAD REQUEST LINE\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ])
    func brokenRequestsGetTheirStatusAndTheConnectionCloses(request: String, status: Int) async throws {
        let server = try TestHTTPServer.start()
        let (response, closed) = try await blocking { () -> (TestResponse?, Bool) in
            let client = try LoopbackClient(port: server.port)
            client.send(request)
            return (client.readResponse(), client.isClosedByPeer())
        }
        #expect(response?.status == status)
        #expect(closed)
        // Everyone else is still served.
        let good = try await blocking {
            let client = try LoopbackClient(port: server.port)
            client.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            return client.readResponse()
        }
        #expect(good?.status == 200)
        _ = try await server.stop()
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() async throws {
        let server = try TestHTTPServer.start()
        let (plain, plainClosed, kept) = try await blocking { () -> (TestResponse?, Bool, TestResponse?) in
            let first = try LoopbackClient(port: server.port)
            first.send("GET /a HTTP/1.0\r\n\r\n")
            let plain = first.readResponse()
            let closed = first.isClosedByPeer()
            let second = try LoopbackClient(port: server.port)
            second.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            return (plain, closed, second.readResponse())
        }
        #expect(plain?.status == 200 && plainClosed)
        #expect(kept?.header("connection")?.lowercased() == "keep-alive")
        _ = try await server.stop()
    }

    @Test func largeResponsesReachASlowReaderWhole() async throws {
        let server = try TestHTTPServer.start()
        let count = 8 << 20
        let received = try await blocking { () -> Int in
            let client = try LoopbackClient(port: server.port)
            client.send("GET /big?bytes=\(count) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            Thread.sleep(forTimeInterval: 0.2)  // let the server hit the socket's limit first
            return client.readToEnd().count
        }
        #expect(received > count)
        _ = try await server.stop()
    }

    @Test func manyAbusiveClientsDoNotStopTheServer() async throws {
        let server = try TestHTTPServer.start()
        try await blocking {
            for index in 0..<50 {
                let client = try LoopbackClient(port: server.port)
                switch index % 3 {
                case 0: client.send([0xFF, 0x00, 0x13, 0x37])
                case 1: client.send("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
                default: client.send("POST")
                }
            }
        }
        let good = try await blocking {
            let client = try LoopbackClient(port: server.port)
            client.send("GET /still-here HTTP/1.1\r\nHost: x\r\n\r\n")
            return client.readResponse()
        }
        #expect(good?.text == "GET /still-here 0\n")
        _ = try await server.stop()
    }
}

/// Graceful shutdown: in-flight requests finish, idle connections close, nothing new is accepted.
@Suite(.timeLimit(.minutes(1))) struct HTTPServerShutdownTests {
    @Test func shutdownLetsInFlightRequestsFinishWithConnectionClose() async throws {
        // A manual clock holds the slow response until shutdown has begun, however loaded the
        // machine is.
        let clock = ManualReactorClock()
        let slot = ServerSlot()
        let port = PortBox()
        let handle = try ReactorThread.start(clock: clock, workers: WorkerPool(size: 1), logger: quietLogger) { reactor in
            let server = try HTTPServer(reactor: reactor, configuration: HTTPServer.Configuration(), responder: EchoResponder(reactor: reactor))
            slot.server = server
            port.set(server.port)
        }
        let busy = try await blocking { try LoopbackClient(port: port.get()) }
        let idle = try await blocking { try LoopbackClient(port: port.get()) }
        try await blocking { busy.send("GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n") }
        // Both connections must be accepted before the listener closes, or the idle one would
        // be reset from the backlog instead of closed by the server.
        while true {
            let (inFlight, open) = try await handle.submit { [slot] _ in
                (slot.server?.inFlightRequestCount ?? 0, slot.server?.connectionCount ?? 0)
            }
            if inFlight >= 1, open >= 2 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let drained = AtomicCounter()
        _ = try await handle.submit { [slot] _ in
            slot.server?.shutdown(timeoutMilliseconds: 5_000) { drained.add(1) }
        }
        clock.advance(milliseconds: 300)  // the slow response is due now, after shutdown began
        let response = try await blocking { busy.readResponse() }
        #expect(response?.text == "slow")
        #expect(response?.header("connection") == "close")
        #expect(try await blocking { idle.isClosedByPeer() })
        #expect(try await blocking { busy.isClosedByPeer() })
        // The listener is gone: new connections are refused.
        await #expect(throws: (any Error).self) { try await blocking { try LoopbackClient(port: port.get()) } }
        let left = try await handle.submit { reactor -> (Int, Int) in (reactor.registrationCount, reactor.timerCount) }
        #expect(drained.load() == 1)
        #expect(left.0 == 0)
        handle.stop()
        await handle.waitUntilStopped()
    }

    @Test func shutdownClosesStragglersAfterTheTimeout() async throws {
        let clock = ManualReactorClock()
        let slot = ServerSlot()
        let port = PortBox()
        let handle = try ReactorThread.start(clock: clock, workers: WorkerPool(size: 1), logger: quietLogger) { reactor in
            let server = try HTTPServer(reactor: reactor, configuration: HTTPServer.Configuration(), responder: EchoResponder(reactor: reactor))
            slot.server = server
            port.set(server.port)
        }
        let stuck = try await blocking { try LoopbackClient(port: port.get()) }
        try await blocking { stuck.send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n") }
        while try await handle.submit({ [slot] _ in slot.server?.inFlightRequestCount ?? 0 }) < 1 {
            try await Task.sleep(for: .milliseconds(5))
        }
        let drained = AtomicCounter()
        _ = try await handle.submit { [slot] _ in slot.server?.shutdown(timeoutMilliseconds: 10_000) { drained.add(1) } }
        clock.advance(milliseconds: 9_999)
        _ = try await handle.submit { _ in 0 }
        #expect(drained.load() == 0)
        clock.advance(milliseconds: 1)
        #expect(try await blocking { stuck.isClosedByPeer() })
        _ = try await handle.submit { _ in 0 }
        #expect(drained.load() == 1)
        handle.stop()
        await handle.waitUntilStopped()
    }
}
