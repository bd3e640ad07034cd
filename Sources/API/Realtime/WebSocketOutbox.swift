import Reactor

/// Text frames on their way to one WebSocket, with a cap on what may wait for a slow reader.
///
/// Frames go straight to the socket while its transport is below the high-water mark; past it
/// they wait here until the transport drains. When what waits exceeds `maxQueuedBytes` the
/// client is aborted: one stalled reader must not hold an unbounded share of memory.
final class WebSocketOutbox {
    let socket: WebSocketConnection
    private let maxQueuedBytes: Int
    private var queued: [String] = []
    private var queuedStart = 0
    private var queuedBytes = 0

    init(socket: WebSocketConnection, maxQueuedBytes: Int) {
        self.socket = socket
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// Sends or queues `text`; false when the cap was crossed and the socket was aborted.
    @discardableResult
    func send(_ text: String) -> Bool {
        guard socket.isOpen else { return false }
        if queuedStart == queued.count, socket.isWritable {
            socket.send(.text(text))
            return true
        }
        queued.append(text)
        queuedBytes += text.utf8.count
        guard queuedBytes <= maxQueuedBytes else {
            queued = []
            queuedStart = 0
            queuedBytes = 0
            socket.abort(reason: "client too slow: output queue over \(maxQueuedBytes) bytes")
            return false
        }
        return true
    }

    /// The transport drained: send what waited, until it fills again.
    func drain() {
        while queuedStart < queued.count, socket.isWritable, socket.isOpen {
            let text = queued[queuedStart]
            queuedStart += 1
            queuedBytes -= text.utf8.count
            socket.send(.text(text))
        }
        if queuedStart == queued.count {
            queued.removeAll(keepingCapacity: false)
            queuedStart = 0
        }
    }

    /// Closes after the queued frames went out (the close frame follows them).
    func close(code: UInt16, reason: String) {
        drain()
        if queuedStart < queued.count {
            // Still backed up: the close frame would wait behind frames the peer is not reading.
            socket.abort(reason: reason)
        } else {
            socket.close(code: code, reason: reason)
        }
    }
}
