import Logging
import TestSupport
@testable import Reactor

/// A reactor thread serving HTTP on 127.0.0.1:0 for one test.
final class TestHTTPServer: Sendable {
    let handle: ReactorHandle
    let port: Int
    private let slot: ServerSlot

    private init(handle: ReactorHandle, port: Int, slot: ServerSlot) {
        self.handle = handle
        self.port = port
        self.slot = slot
    }

    static func start(
        configuration: HTTPServer.Configuration = HTTPServer.Configuration(),
        clock: any ReactorClock = MonotonicReactorClock(),
        responder: @escaping @Sendable (Reactor) -> any HTTPResponder = { EchoResponder(reactor: $0) }
    ) throws -> TestHTTPServer {
        let port = PortBox()
        let slot = ServerSlot()
        let handle = try ReactorThread.start(clock: clock, workers: WorkerPool(size: 2), logger: quietLogger) { reactor in
            let server = try HTTPServer(reactor: reactor, configuration: configuration, responder: responder(reactor))
            port.set(server.port)
            reactor.onShutdown { server.closeNow() }
            slot.server = server
        }
        return TestHTTPServer(handle: handle, port: port.get(), slot: slot)
    }

    /// Connection count as the server sees it.
    func connectionCount() async throws -> Int {
        try await handle.submit { [slot] _ in slot.server?.connectionCount ?? -1 }
    }

    /// Waits until the reactor has accepted pending connections and read what they sent: the
    /// accept happens in one tick and the first read in the next, so two round trips suffice.
    func settle() async throws {
        for _ in 0..<3 { _ = try await handle.submit { _ in 0 } }
    }

    /// Stops the loop and checks that nothing was left registered.
    func stop() async throws -> (registrations: Int, timers: Int) {
        let left = try await handle.submit { [slot] reactor -> (Int, Int) in
            slot.server?.closeNow()
            slot.server = nil
            return (reactor.registrationCount, reactor.timerCount)
        }
        handle.stop()
        await handle.waitUntilStopped()
        return left
    }
}

/// Holds a test reactor's server; read and written only on that reactor's thread.
final class ServerSlot: @unchecked Sendable {
    var server: HTTPServer?
}

import Synchronization

final class PortBox: Sendable {
    private let value = Atomic<Int>(0)
    func set(_ port: Int) { value.store(port, ordering: .relaxed) }
    func get() -> Int { value.load(ordering: .relaxed) }
}

/// Answers every request with its method, path and body; `/slow?ms=N` answers after N ms of the
/// reactor's clock, `/big?bytes=N` with N bytes, `/never` not at all.
final class EchoResponder: HTTPResponder {
    private unowned let reactor: Reactor
    init(reactor: Reactor) { self.reactor = reactor }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        let query = Dictionary(request.head.queryItems(), uniquingKeysWith: { $1 })
        var headers = HTTPHeaders()
        headers.add("content-type", "text/plain")
        switch request.head.path {
        case "/slow":
            let milliseconds = Int(query["ms"] ?? "") ?? 10
            reactor.schedule(afterMilliseconds: milliseconds) {
                sink.send(HTTPResponse(status: 200, headers: headers, body: Array("slow".utf8)))
            }
        case "/big":
            let count = Int(query["bytes"] ?? "") ?? 1 << 20
            sink.send(HTTPResponse(status: 200, headers: headers, body: [UInt8](repeating: 0x61, count: count)))
        case "/never":
            break
        default:
            let text = "\(request.head.method) \(request.head.target) \(request.body.count)\n"
            sink.send(HTTPResponse(status: 200, headers: headers, body: Array(text.utf8) + request.body))
        }
    }
}
