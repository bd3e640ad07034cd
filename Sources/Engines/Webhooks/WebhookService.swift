import Foundation
import Logging
import Persistence
import Reactor
import Synchronization

/// How webhooks are delivered (`WEBHOOK_*`, reference 4.6).
package struct WebhookSettings: Sendable {
    /// Per attempt (`WEBHOOK_TIMEOUT`).
    package var timeoutMilliseconds = 10_000
    /// Backoff base (`WEBHOOK_RETRY_DELAY`): attempt n waits base × 2^(n-1), ±25 % jitter.
    package var retryDelayMilliseconds = 5_000
    /// Connections per destination (`WEBHOOK_DISPATCH_CONCURRENCY`); more requests wait in order.
    package var destinationConcurrency = 16
    /// `WEBHOOK_MAX_PER_SESSION`; 0 = unlimited.
    package var maxPerSession = 16
    /// `WEBHOOK_MAX_PAYLOAD_BYTES`: larger bodies are recorded as failed, never sent.
    package var maxPayloadBytes = 1_048_576
    /// `WEBHOOK_OUTBOX_RETENTION_DAYS`: delivered rows are kept this long.
    package var outboxRetentionDays = 7
    package var urlPolicy = WebhookURLPolicy()

    package init() {}
}

/// A webhook as the dispatcher uses it: the row with its JSON columns parsed.
struct LiveWebhook: Sendable {
    var record: WebhookRecord
    var events: [String]
    var headers: [(String, String)]
    var filters: WebhookFilters?
    var target: WebhookURLPolicy.Target
}

/// Per-session webhooks with a durable outbox (reference 5): events from the bus, or staged by
/// a caller inside its own transaction, become outbox rows, one per matching webhook; the rows
/// are delivered by our HTTP client with keep-alive reuse, in order per chat per webhook, with
/// retries, backoff and a dead-letter state; rows left pending by a crash go out after a restart.
///
/// An actor on the reactor's executor, like the session manager.
package actor WebhookService {
    nonisolated let handle: ReactorHandle
    package nonisolated var unownedExecutor: UnownedSerialExecutor { handle.asUnownedSerialExecutor() }

    let store: SQLWebhookStore
    let outbox: SQLWebhookOutboxStore
    let settings: WebhookSettings
    let logger: Logger
    let now: @Sendable () -> Date
    /// Our HTTP client, confined to the reactor thread; this actor runs there, so it calls the
    /// client directly and a response resumes the delivery without leaving the thread.
    let http: ReactorBound<HTTPClient>
    let workers: WorkerPool

    /// Webhooks by id, and the ids of each session's webhooks.
    var webhooks: [String: LiveWebhook] = [:]
    var lastSeq: Int64 = 0
    /// Delivery lanes (webhook + order key) with their queued rows; a lane runs one row at a time.
    var lanes: [String: DeliveryLane] = [:]
    /// Told the commit-to-delivery time of each delivered row (metrics, benchmarks).
    var deliveryObserver: (@Sendable (Duration) -> Void)?
    /// Delivered row ids not yet marked in the outbox, and the webhooks they touched.
    var deliveredIds: [String] = []
    var touchedWebhooks: Set<String> = []
    var flushing = false
    /// SSRF verdicts per host, re-checked after a minute (DNS answers change).
    var hostVerdicts: [String: (allowed: Bool, error: String?, until: Date)] = [:]
    /// Counters for tests and metrics.
    package internal(set) var deliveredCount = 0
    package internal(set) var deadCount = 0

    /// Events from the bus, waiting to be written to the outbox (the bus must not block).
    nonisolated let inbox = Mutex<(events: [GatewayEvent], draining: Bool, started: Bool)>(([], false, false))

    package init(
        handle: ReactorHandle, workers: WorkerPool, database: any SQLDatabase, settings: WebhookSettings, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws {
        self.handle = handle
        self.workers = workers
        self.store = SQLWebhookStore(database: database)
        self.outbox = SQLWebhookOutboxStore(database: database)
        self.settings = settings
        self.logger = logger
        self.now = now
        var configuration = HTTPClient.Configuration()
        configuration.maxConnectionsPerOrigin = max(1, settings.destinationConcurrency)
        configuration.requestTimeoutMilliseconds = settings.timeoutMilliseconds
        configuration.connectTimeoutMilliseconds = settings.timeoutMilliseconds
        configuration.maxResponseBytes = 1 << 20
        let clientConfiguration = configuration
        http = try await handle.submit { reactor in
            ReactorBound(handle: reactor.handle, HTTPClient(reactor: reactor, configuration: clientConfiguration))
        }
    }

    /// Loads the webhooks and the pending outbox (a crash's leftovers go out first), then
    /// starts taking events from `bus`.
    package func start(bus: EventBus) async throws {
        for record in try await store.all() { webhooks[record.id] = try? Self.live(record) }
        lastSeq = try await outbox.maxSeq()
        var recovered = 0
        while true {
            let page = try await outbox.pending(limit: 5_000)
            let fresh = page.filter { row in !(lanes[Self.laneKey(row)]?.contains(id: row.id) ?? false) }
            for row in fresh { enqueue(row) }
            recovered += fresh.count
            if fresh.count < 5_000 { break }
        }
        if recovered > 0 { logger.info("webhook outbox recovered", metadata: ["pending": "\(recovered)"]) }
        _ = try? await outbox.purge(deliveredBefore: now().addingTimeInterval(-Double(settings.outboxRetentionDays) * 86_400))
        bus.subscribe { [weak self] event in self?.accept(event) }
        let backlog = inbox.withLock { state -> Bool in
            state.started = true
            return !state.events.isEmpty
        }
        if backlog { kickIngest() }
    }

    /// Stops delivering: the HTTP client closes; pending rows stay in the outbox for next time.
    package func shutdown() {
        http.value.close()
        lanes.removeAll()
    }

    // MARK: - Events into the outbox

    nonisolated func accept(_ event: GatewayEvent) {
        if event.name == "session.deleted" {
            Task { try? await self.deleteAll(sessionId: event.sessionID) }
            return
        }
        guard !event.outboxStaged, WebhookCatalogue.events.contains(event.name) else { return }
        let kick = inbox.withLock { state -> Bool in
            state.events.append(event)
            guard state.started, !state.draining else { return false }
            state.draining = true
            return true
        }
        if kick { Task { await self.drainInbox() } }
    }

    private func kickIngest() {
        let kick = inbox.withLock { state -> Bool in
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        if kick { Task { await self.drainInbox() } }
    }

    /// Writes buffered events to the outbox in batches, in order; a failed write keeps them and
    /// retries, so a database outage delays events but does not lose them.
    private func drainInbox() async {
        while true {
            let batch = inbox.withLock { state -> [GatewayEvent] in
                let taken = Array(state.events.prefix(2_000))
                if taken.isEmpty { state.draining = false }
                return taken
            }
            guard !batch.isEmpty else { return }
            let rows = batch.flatMap { outboxRows(for: $0) }
            do {
                try await outbox.insert(rows)
            } catch {
                logger.warning("webhook outbox write failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            inbox.withLock { $0.events.removeFirst(batch.count) }
            for row in rows { enqueue(row) }
        }
    }

    /// Outbox rows for `event`, one per active webhook of its session that wants it.
    package func outboxRows(for event: GatewayEvent) -> [OutboxRow] {
        let key = WebhookCatalogue.idempotencyKey(event)
        let orderKey = WebhookCatalogue.orderKey(event)
        let stamp = now()
        return webhooks.values
            .filter { $0.record.sessionId == event.sessionID && $0.record.active }
            .filter { WebhookCatalogue.matches($0.events, event.name) && ($0.filters?.admits(event) ?? true) }
            .sorted { $0.record.createdAt < $1.record.createdAt }
            .map { hook in
                let deliveryId = "dlv_" + UUID().uuidString.lowercased()
                let idempotency = "\(key)_\(hook.record.id)"
                let body = WebhookEnvelope.body(
                    event: event.name, timestamp: event.timestamp, sessionId: event.sessionID, idempotencyKey: idempotency,
                    deliveryId: deliveryId, data: event.data)
                return OutboxRow(
                    id: UUID().uuidString.lowercased(), seq: nextSeq(), webhookId: hook.record.id, sessionId: event.sessionID,
                    event: event.name, url: hook.record.url, orderKey: orderKey, idempotencyKey: idempotency,
                    deliveryId: deliveryId, body: body, createdAt: stamp, updatedAt: stamp)
            }
    }

    /// For callers that write an event's source data and its outbox rows in one transaction:
    /// stage inside the transaction, then `committed(_:)` after it commits.
    package func stage(_ events: [GatewayEvent], in transaction: any AsyncSQLTransaction) async throws -> [OutboxRow] {
        let rows = events.flatMap { outboxRows(for: $0) }
        try await SQLWebhookOutboxStore.insert(rows, in: transaction)
        return rows
    }

    package func committed(_ rows: [OutboxRow]) {
        for row in rows { enqueue(row) }
    }

    /// Sets the observer of commit-to-delivery times.
    package func observeDeliveries(_ observer: @escaping @Sendable (Duration) -> Void) {
        deliveryObserver = observer
    }

    func nextSeq() -> Int64 {
        lastSeq = max(lastSeq + 1, Int64(now().timeIntervalSince1970 * 1_000_000))
        return lastSeq
    }

    static func laneKey(_ row: OutboxRow) -> String { row.webhookId + "|" + row.orderKey }
}

/// One lane's queue: rows in order, taken from the front by index (no shifting of the rest).
struct DeliveryLane {
    private var entries: [(row: OutboxRow, since: ContinuousClock.Instant)] = []
    private var head = 0

    var first: (row: OutboxRow, since: ContinuousClock.Instant)? { head < entries.count ? entries[head] : nil }
    var isEmpty: Bool { head >= entries.count }
    var count: Int { entries.count - head }

    mutating func append(_ entry: (row: OutboxRow, since: ContinuousClock.Instant)) { entries.append(entry) }

    mutating func removeFirst() {
        head += 1
        // Compact now and then so a long-lived lane does not keep what it delivered.
        if head > 1_024, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }

    func contains(id: String) -> Bool { entries[head...].contains { $0.row.id == id } }
}
