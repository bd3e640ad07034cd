import Foundation
import Reactor
import Synchronization

/// A client of the plain WebSocket event stream, built on our own `WebSocketConnector` and run
/// on the test gateway's reactor; what it receives is recorded for the test to wait on.
final class EventStreamClient: WebSocketDelegate, @unchecked Sendable {
    // `socket` is touched only on the reactor thread; the recorded state is under `state`.
    private var socket: WebSocketConnection?
    private let state = Mutex<(open: Result<Void, ReactorError>?, messages: [JSONValue], closed: UInt16?)>((nil, [], nil))
    private let consumed = Mutex(0)
    private let handle: ReactorHandle

    private init(handle: ReactorHandle) {
        self.handle = handle
    }

    /// Connects to `/api/events/ws` with `headers` (the key) and waits for the upgrade.
    static func connect(_ gateway: TestGateway, headers: [(String, String)]) async throws -> EventStreamClient {
        let client = EventStreamClient(handle: gateway.handle)
        let url = "ws://127.0.0.1:\(gateway.port)/api/events/ws"
        let fields = HTTPHeaders(headers)
        _ = try await gateway.handle.submit { reactor in
            WebSocketConnector.connect(reactor: reactor, url: url, headers: fields, timeoutMilliseconds: 5_000) { result in
                client.opened(result)
            }
        }
        let opened: Result<Void, ReactorError> = try await client.wait { $0.open }
        try opened.get()
        return client
    }

    private func opened(_ result: Result<WebSocketConnection, ReactorError>) {
        if case .success(let socket) = result {
            self.socket = socket
            socket.delegate = self
        }
        state.withLock { $0.open = result.map { _ in () } }
    }

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) {
        guard case .text(let text) = message, let value = try? JSONParser.parse(Array(text.utf8)) else { return }
        state.withLock { $0.messages.append(value) }
    }

    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) {
        state.withLock { $0.closed = code }
    }

    func send(_ message: JSONValue) async throws {
        try await sendText(JSONWriter.string(message))
    }

    func sendText(_ text: String) async throws {
        _ = try await handle.submit { _ in self.socket?.send(.text(text)) }
    }

    func close() async throws {
        _ = try await handle.submit { _ in self.socket?.close() }
    }

    /// The next message received, in order.
    func next() async throws -> JSONValue {
        let index = consumed.withLock { $0 }
        // Spelled out: JSONValue is nil-literal expressible, so a bare nil would be `.null`.
        let message = try await wait { state -> JSONValue? in
            index < state.messages.count ? Optional.some(state.messages[index]) : Optional.none
        }
        consumed.withLock { $0 += 1 }
        return message
    }

    /// The close code, once the socket closed.
    func closed() async throws -> UInt16 {
        try await wait { $0.closed }
    }

    private func wait<T>(
        within seconds: Double = 10,
        _ probe: ((open: Result<Void, ReactorError>?, messages: [JSONValue], closed: UInt16?)) throws -> T?
    ) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let snapshot = state.withLock { $0 }
            if let value = try probe(snapshot) { return value }
            if Date() > deadline { throw SocketIOPeerError("the event stream gave nothing within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
