import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Reactor

/// WebSockets end to end: our client against our server, over ws:// and wss://.
@Suite(.timeLimit(.minutes(1))) struct WebSocketTests {
    private func startServer(tls: TLSContext? = nil) throws -> TestHTTPServer {
        var configuration = HTTPServer.Configuration()
        configuration.tls = tls
        return try TestHTTPServer.start(configuration: configuration) { reactor in EchoSocketResponder(reactor: reactor) }
    }

    private func connect(_ url: String, tls: TLSContext? = nil) async throws -> (ReactorHandle, ClientSocket) {
        let client = ClientSocket()
        let handle = try ReactorThread.start(workers: WorkerPool(size: 1), logger: quietLogger)
        _ = try await handle.submit { reactor in
            WebSocketConnector.connect(reactor: reactor, url: url, tls: tls, timeoutMilliseconds: 5_000) { result in
                client.opened(result)
            }
        }
        try await client.waitOpen()
        return (handle, client)
    }

    @Test func textBinaryAndPingEchoOverPlainWebSocket() async throws {
        let server = try startServer()
        let (handle, client) = try await connect("ws://127.0.0.1:\(server.port)/ws")
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        try await client.send(.text("hello ✓"), on: handle)
        try await client.send(.binary(big), on: handle)
        let received = try await client.waitMessages(2)
        #expect(received == [.text("hello ✓"), .binary(big)])
        try await client.close(on: handle)
        let closed = try await client.waitClosed()
        #expect(closed.code == 1000)
        handle.stop()
        await handle.waitUntilStopped()
        _ = try await server.stop()
    }

    @Test func secureWebSocketWithOurTLS() async throws {
        let (certificate, key) = try TLSCertificateFactory.selfSigned(commonName: "ws test")
        let server = try startServer(tls: try TLSContext(serverCertificatePEM: certificate, keyPEM: key))
        let ca = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-ws-\(UUID().uuidString).pem")
        try certificate.write(to: ca, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: ca) }
        let (handle, client) = try await connect("wss://localhost:\(server.port)/ws", tls: try TLSContext(clientTrusting: ca.path))
        try await client.send(.text("over tls"), on: handle)
        #expect(try await client.waitMessages(1) == [.text("over tls")])
        handle.stop()
        await handle.waitUntilStopped()
        _ = try await server.stop()
    }

    @Test func aPlainRequestToTheSocketPathIsNotUpgraded() async throws {
        let server = try startServer()
        let response = try await blocking { try LoopbackClient(port: server.port).request("GET", "/ws") }
        #expect(response?.status == 426)
        _ = try await server.stop()
    }
}

/// Upgrades `/ws` requests and echoes every message back.
final class EchoSocketResponder: HTTPResponder, WebSocketDelegate {
    private unowned let reactor: Reactor
    private var sockets: [ObjectIdentifier: WebSocketConnection] = [:]

    init(reactor: Reactor) { self.reactor = reactor }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        guard let key = WebSocketHandshake.clientKey(of: request.head) else {
            return sink.send(HTTPResponse(status: 426, body: Array("upgrade required".utf8)))
        }
        let box = UnsafeTransfer(self)
        sink.switchProtocols(headers: WebSocketHandshake.switchingProtocolsHeaders(key: key)) { stream, leftover in
            let responder = box.value
            let socket = WebSocketConnection(reactor: responder.reactor, stream: stream, role: .server, leftover: leftover)
            socket.delegate = responder
            responder.sockets[ObjectIdentifier(socket)] = socket
        }
    }

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) { socket.send(message) }
    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) {
        sockets.removeValue(forKey: ObjectIdentifier(socket))
    }
}

/// Moves a reactor-confined reference into a `Sendable` closure that runs on the same reactor.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    // Only dereferenced on the reactor thread that created it.
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The test's end of a client socket: records what arrives, from the reactor thread.
final class ClientSocket: WebSocketDelegate, @unchecked Sendable {
    // `socket` is touched only on the reactor thread; the recorded state is under `state`.
    private var socket: WebSocketConnection?
    private let state = Mutex<(open: Result<Void, ReactorError>?, messages: [WebSocketMessage], closed: (UInt16, String)?)>((nil, [], nil))

    func opened(_ result: Result<WebSocketConnection, ReactorError>) {
        if case .success(let socket) = result {
            self.socket = socket
            socket.delegate = self
        }
        state.withLock { $0.open = result.map { _ in () } }
    }

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) {
        state.withLock { $0.messages.append(message) }
    }

    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) {
        state.withLock { $0.closed = (code, reason) }
    }

    func send(_ message: WebSocketMessage, on handle: ReactorHandle) async throws {
        _ = try await handle.submit { _ in self.socket?.send(message) }
    }

    func close(on handle: ReactorHandle) async throws {
        _ = try await handle.submit { _ in self.socket?.close() }
    }

    func waitOpen() async throws {
        while true {
            if let open = state.withLock({ $0.open }) { return try open.get() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func waitMessages(_ count: Int) async throws -> [WebSocketMessage] {
        while true {
            let messages = state.withLock { $0.messages }
            if messages.count >= count { return messages }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func waitClosed() async throws -> (code: UInt16, reason: String) {
        while true {
            if let closed = state.withLock({ $0.closed }) { return closed }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
