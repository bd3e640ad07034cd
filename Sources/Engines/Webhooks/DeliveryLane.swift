import Persistence
import Reactor

/// A first-in first-out queue taken from the front by index (no shifting of the rest), compacted
/// now and then so a long-lived queue does not keep what it handed out.
struct FIFOQueue<Element> {
    private var entries: [Element] = []
    private var head = 0

    var first: Element? { head < entries.count ? entries[head] : nil }
    var isEmpty: Bool { head >= entries.count }
    var count: Int { entries.count - head }

    mutating func append(_ element: Element) { entries.append(element) }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard head < entries.count else { return nil }
        let element = entries[head]
        head += 1
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.capacity <= 1_024)
            head = 0
        } else if head > 1_024, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return element
    }

    func forEach(_ body: (Element) -> Void) { entries[head...].forEach(body) }
}

/// A row waiting in a lane, with when it was queued (the start of its commit-to-delivery time).
/// A class so that passing it through the dispatcher and into completions is one retain.
final class QueuedDelivery: Sendable {
    let row: OutboxRow
    let since: ContinuousClock.Instant

    init(_ row: OutboxRow) {
        self.row = row
        self.since = .now
    }
}

/// One lane's rows (one webhook, one order key), in order; only its head is ever being sent.
struct DeliveryLane {
    var rows = FIFOQueue<QueuedDelivery>()
    /// The head is being sent, retried or waited on; the lane is not in its destination's `ready`.
    var busy = false
}

/// One webhook's deliveries: its lanes, the lanes whose head may be sent now, and how many of
/// those sends are in flight (at most `WEBHOOK_DISPATCH_CONCURRENCY`).
///
/// A class so the dispatcher mutates it in place through the actor's dictionary; it belongs to
/// `WebhookService` and is touched only on its executor.
final class DeliveryDestination {
    var lanes: [String: DeliveryLane] = [:]
    /// Order keys of idle lanes with rows, in the order they became ready (fair across chats).
    var ready = FIFOQueue<String>()
    /// First attempts on the fast path whose response has not come back yet, and deliveries
    /// still putting their media in.
    var inFlight = 0

    var queuedCount: Int { lanes.values.reduce(0) { $0 + $1.rows.count } }
}

/// A webhook body as sent: its bytes and, when the webhook has a secret, OpenWA's signature
/// header value (`sha256=` and the hex HMAC-SHA256 of the bytes).
struct SignedBody: Sendable {
    let bytes: [UInt8]
    let signature: String?

    init(_ body: String, secret: String?) {
        let bytes = Array(body.utf8)
        self.bytes = bytes
        signature = secret.flatMap { $0.isEmpty ? nil : "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array($0.utf8), bytes)) }
    }
}

extension WebhookService {
    /// Nonisolated and async: runs on the global executor, not on the reactor this actor uses.
    nonisolated static func signedOffReactor(_ body: String, secret: String?) async -> SignedBody {
        SignedBody(body, secret: secret)
    }
}
