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
    /// `WEBHOOK_MEDIA_INLINE_MAX_BYTES`: message media up to this size goes into the body as
    /// base64 `data`; larger media is sent as the omitted marker. 0 never puts media in.
    package var mediaInlineMaxBytes = 1_048_576
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
    var webhooks: [String: LiveWebhook] = [:] {
        didSet { webhooksBySession = nil }
    }
    /// `webhooks` by session, oldest first; nil until needed after a change.
    var webhooksBySession: [String: [LiveWebhook]]?
    var lastSeq: Int64 = 0
    /// Each webhook's dispatcher: its lanes (one per order key) and its requests in flight.
    var destinations: [String: DeliveryDestination] = [:]
    /// Where message media for `media.data` comes from; nil leaves the omitted marker.
    var mediaSource: MessageMediaSource?
    /// Told the commit-to-delivery time of each delivered row (metrics, benchmarks).
    var deliveryObserver: (@Sendable (Duration) -> Void)?
    /// Delivered row ids not yet marked in the outbox, and the webhooks they touched.
    var deliveredIds: [String] = []
    var touchedWebhooks: Set<String> = []
    var flushing = false
    /// Set by `shutdown()`: nothing more is sent or marked.
    var stopped = false
    /// SSRF verdicts per host, with the addresses that passed (deliveries connect to the first
    /// of them, never to a fresh DNS answer), re-checked after a minute (DNS answers change).
    var hostVerdicts: [String: (allowed: Bool, error: String?, addresses: [String], until: Date)] = [:]
    /// Hosts whose expired verdict is being checked again in the background.
    var renewingHosts: Set<String> = []
    /// Verdict renewals in flight, for tests.
    package var renewingVerdictCount: Int { renewingHosts.count }
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
        // Rows staged and committed before the start are queued already.
        var queued = Set<String>()
        for destination in destinations.values {
            for lane in destination.lanes.values { lane.rows.forEach { queued.insert($0.row.id) } }
        }
        var recovered = 0
        var after = Int64.min
        while true {
            // Paged by seq: rows delivered meanwhile leave the pending set, so an offset would skip.
            let page = try await outbox.pending(afterSeq: after, limit: 5_000)
            for row in page where !queued.contains(row.id) {
                enqueue(row)
                recovered += 1
            }
            guard page.count == 5_000, let last = page.last else { break }
            after = last.seq
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

    /// Stops delivering: the HTTP client closes; pending rows stay in the outbox for next time,
    /// and rows already delivered are marked so that they do not go out again.
    package func shutdown() async {
        stopped = true
        http.value.close()
        destinations.removeAll()
        let delivered = deliveredIds
        deliveredIds.removeAll()
        if !delivered.isEmpty { try? await outbox.markDelivered(delivered, attempts: [:], at: now()) }
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
            let rows: [OutboxRow]
            if batch.count < 64 {
                rows = batch.flatMap { outboxRows(for: $0) }
            } else {
                // A burst: the bodies (JSON, ids, signatures' input) are built off the reactor,
                // which meanwhile keeps delivering; only the choice of webhooks and seqs is made here.
                let plans = batch.map { event in (event, matchingHooks(event)) }
                let seq = reserveSeqs(plans.reduce(0) { $0 + $1.1.count })
                rows = await Self.buildRows(plans, firstSeq: seq, stamp: now())
            }
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
        let hooks = matchingHooks(event)
        guard !hooks.isEmpty else { return [] }
        var seq = reserveSeqs(hooks.count)
        return Self.rows(for: event, hooks: hooks, seq: &seq, stamp: now())
    }

    /// The active webhooks of the event's session that want it, oldest first.
    func matchingHooks(_ event: GatewayEvent) -> [LiveWebhook] {
        sessionHooks(event.sessionID).filter { hook in
            hook.record.active && WebhookCatalogue.matches(hook.events, event.name) && (hook.filters?.admits(event) ?? true)
        }
    }

    /// Rows for many events, built on the global executor (off the reactor), seqs from `firstSeq` on.
    private nonisolated static func buildRows(
        _ plans: [(GatewayEvent, [LiveWebhook])], firstSeq: Int64, stamp: Date
    ) async -> [OutboxRow] {
        var seq = firstSeq
        var built: [OutboxRow] = []
        built.reserveCapacity(plans.reduce(0) { $0 + $1.1.count })
        for (event, hooks) in plans where !hooks.isEmpty { built += rows(for: event, hooks: hooks, seq: &seq, stamp: stamp) }
        return built
    }

    /// One row per hook for `event`; the event's data is serialized once for all of them.
    private nonisolated static func rows(for event: GatewayEvent, hooks: [LiveWebhook], seq: inout Int64, stamp: Date) -> [OutboxRow] {
        let key = WebhookCatalogue.idempotencyKey(event)
        let orderKey = WebhookCatalogue.orderKey(event)
        let timestamp = ISOTimestamp.format(event.timestamp)
        let data = JSONWriter.bytes(event.data)
        let ids = RandomUUID.makePairs(hooks.count, at: stamp)
        return hooks.enumerated().map { index, hook in
            let deliveryId = "dlv_" + ids[2 * index + 1]
            let idempotency = key + "_" + hook.record.id
            let body = WebhookEnvelope.body(
                event: event.name, timestamp: timestamp, sessionId: event.sessionID, idempotencyKey: idempotency,
                deliveryId: deliveryId, data: data)
            defer { seq += 1 }
            return OutboxRow(
                id: ids[2 * index], seq: seq, webhookId: hook.record.id, sessionId: event.sessionID, event: event.name,
                url: hook.record.url, orderKey: orderKey, idempotencyKey: idempotency, deliveryId: deliveryId, body: body,
                createdAt: stamp, updatedAt: stamp)
        }
    }

    /// A session's webhooks, oldest first, from an index rebuilt after any change to `webhooks`.
    private func sessionHooks(_ sessionId: String) -> [LiveWebhook] {
        if let index = webhooksBySession { return index[sessionId] ?? [] }
        var index: [String: [LiveWebhook]] = [:]
        for hook in webhooks.values { index[hook.record.sessionId, default: []].append(hook) }
        for session in index.keys { index[session]!.sort { $0.record.createdAt < $1.record.createdAt } }
        webhooksBySession = index
        return index[sessionId] ?? []
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

    /// Puts the media of message events into their bodies from `source` (up to the settings' limit).
    package func inlineMedia(from source: MessageMediaSource) {
        mediaSource = source
    }

    /// Sets the observer of commit-to-delivery times.
    package func observeDeliveries(_ observer: @escaping @Sendable (Duration) -> Void) {
        deliveryObserver = observer
    }

    func nextSeq() -> Int64 { reserveSeqs(1) }

    /// Reserves `count` consecutive seqs after every one handed out so far; returns the first.
    func reserveSeqs(_ count: Int) -> Int64 {
        let first = max(lastSeq + 1, Int64(now().timeIntervalSince1970 * 1_000_000))
        lastSeq = first + Int64(max(0, count - 1))
        return first
    }
}
