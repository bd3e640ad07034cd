import Foundation
import Reactor
import Synchronization

/// A webhook endpoint on 127.0.0.1 for tests: records every POST (raw body and headers) and
/// answers with what `behaviour` says: a status, or silence (the sender's timeout fires).
package final class WebhookReceiver: Sendable {
    package struct Delivery: Sendable {
        package let headers: [String: String]
        package let body: [UInt8]
        package var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        package var event: String { json["event"] as? String ?? "" }
        package var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
        package func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    package enum Behaviour: Sendable {
        case status(Int)
        case silent
    }

    private let handle: ReactorHandle
    package let port: Int
    package static func start() async throws -> WebhookReceiver {
        let handle = try ReactorThread.start(name: "receiver", workers: WorkerPool(size: 1), logger: quietLogger)
        let box = ReceiverState()
        let port = try await handle.submit { reactor in
            let server = try HTTPServer(
                reactor: reactor, configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0),
                responder: ReceiverResponder(state: box))
            reactor.onShutdown { server.closeNow() }
            return server.port
        }
        return WebhookReceiver(handle: handle, port: port, state: box)
    }

    private init(handle: ReactorHandle, port: Int, state: ReceiverState) {
        self.handle = handle
        self.port = port
        self.box = state
    }

    private let box: ReceiverState

    package var url: String { "http://127.0.0.1:\(port)/hook" }
    package var deliveries: [Delivery] { box.state.withLock { $0.deliveries } }
    package func behave(_ behaviour: Behaviour) { box.state.withLock { $0.behaviour = behaviour } }

    /// Waits until `condition` holds over the deliveries (10 s at most).
    @discardableResult
    package func wait(_ what: String, seconds: Double = 10, _ condition: ([Delivery]) -> Bool) async throws -> [Delivery] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let seen = deliveries
            if condition(seen) { return seen }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ReceiverError.timedOut(what, deliveries.count)
    }

    package func stop() async {
        handle.stop()
        await handle.waitUntilStopped()
    }
}

package enum ReceiverError: Error { case timedOut(String, Int) }

private final class ReceiverState: Sendable {
    let state: Mutex<(deliveries: [WebhookReceiver.Delivery], behaviour: WebhookReceiver.Behaviour)>
    init() { state = Mutex(([], .status(200))) }
}

private final class ReceiverResponder: HTTPResponder {
    let state: ReceiverState
    init(state: ReceiverState) { self.state = state }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        var headers: [String: String] = [:]
        for field in request.head.headers { headers[field.name.lowercased()] = field.value }
        let behaviour = state.state.withLock { state -> WebhookReceiver.Behaviour in
            state.deliveries.append(.init(headers: headers, body: request.body))
            return state.behaviour
        }
        if case .status(let status) = behaviour { sink.send(HTTPResponse(status: status, body: Array("ok".utf8))) }
    }
}
