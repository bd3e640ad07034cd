import Foundation
import Logging
import Persistence
import Reactor

/// Delivery: one dispatcher per webhook over its lanes, attempts, backoff, dead letters, and
/// batched "delivered" marks.
///
/// The common case (a first attempt that succeeds) never leaves the reactor thread and never
/// creates a task: `pump` hands a lane's head to the HTTP client, whose completion runs on the
/// reactor, which is this actor's executor, and moves the lane on. Anything else (a failed
/// attempt, backoff, a disabled webhook, an SSRF verdict to look up) goes to `deliver`, an async
/// path that keeps the lane busy until the row is delivered or dead-lettered.
extension WebhookService {
    func enqueue(_ row: OutboxRow) {
        guard !stopped else { return }  // it stays pending in the outbox for the next start
        let destination: DeliveryDestination
        if let existing = destinations[row.webhookId] {
            destination = existing
        } else {
            destination = DeliveryDestination()
            destinations[row.webhookId] = destination
        }
        let entry = QueuedDelivery(row)
        if destination.lanes[row.orderKey] == nil {
            var lane = DeliveryLane()
            lane.rows.append(entry)
            destination.lanes[row.orderKey] = lane
            destination.ready.append(row.orderKey)
        } else {
            destination.lanes[row.orderKey]!.rows.append(entry)
        }
        pump(destination)
    }

    /// Starts the heads of ready lanes while fewer than the per-destination limit are in flight.
    private func pump(_ destination: DeliveryDestination) {
        let limit = max(1, settings.destinationConcurrency)
        while destination.inFlight < limit, let key = destination.ready.popFirst() {
            guard let head = destination.lanes[key]?.rows.first else {
                destination.lanes[key] = nil
                continue
            }
            destination.lanes[key]!.busy = true
            start(head, destination)
        }
    }

    private func start(_ entry: QueuedDelivery, _ destination: DeliveryDestination) {
        let row = entry.row
        guard let hook = webhooks[row.webhookId], hook.record.active, row.body.utf8.count <= settings.maxPayloadBytes,
            let verdict = cachedVerdict(hook.target), verdict.allowed, !wantsMedia(row)
        else {
            // Putting media in holds one of the destination's slots until the body is built, so
            // a burst of media messages across many chats does not fetch them all at once.
            let mediaSlot = wantsMedia(row) ? destination : nil
            mediaSlot?.inFlight += 1
            Task {
                let delivered = await self.deliver(entry.row, after: nil, mediaSlot: mediaSlot)
                self.finishSlow(entry, delivered: delivered)
            }
            return
        }
        destination.inFlight += 1
        send(
            SignedBody(row.body, secret: hook.record.secret), event: row.event, idempotencyKey: row.idempotencyKey, deliveryId: row.deliveryId, retry: row.attempts,
            hook: hook, address: verdict.address
        ) { outcome in
            // The HTTP client completes on the reactor thread, which is this actor's executor.
            self.assumeIsolated { service in service.finishFast(entry, outcome) }
        }
    }

    private func finishFast(_ entry: QueuedDelivery, _ outcome: AttemptOutcome) {
        let row = entry.row
        // Gone when the webhook was deleted (with its rows) or the service shut down.
        guard let destination = destinations[row.webhookId] else { return }
        destination.inFlight -= 1
        if outcome.delivered {
            recordDelivered(row)
            deliveryObserver?(ContinuousClock.now - entry.since)
            advance(row.orderKey, destination)
        } else {
            // The lane stays busy (out of `ready`) while the slow path retries its head.
            Task {
                let delivered = await self.deliver(entry.row, after: outcome, mediaSlot: nil)
                self.finishSlow(entry, delivered: delivered)
            }
        }
        pump(destination)
    }

    private func finishSlow(_ entry: QueuedDelivery, delivered: Bool) {
        guard let destination = destinations[entry.row.webhookId] else { return }
        if delivered { deliveryObserver?(ContinuousClock.now - entry.since) }
        advance(entry.row.orderKey, destination)
        pump(destination)
    }

    /// The lane's head is done (delivered, dead or dropped): the next row becomes ready.
    private func advance(_ key: String, _ destination: DeliveryDestination) {
        guard destination.lanes[key] != nil else { return }
        destination.lanes[key]!.rows.popFirst()
        if destination.lanes[key]!.rows.isEmpty {
            destination.lanes[key] = nil
        } else {
            destination.lanes[key]!.busy = false
            destination.ready.append(key)
        }
    }

    private func recordDelivered(_ row: OutboxRow) {
        deliveredCount += 1
        deliveredIds.append(row.id)
        touchedWebhooks.insert(row.webhookId)
        if !flushing {
            flushing = true
            Task { await self.flushDelivered() }
        }
    }

    /// Attempts `row` until it is delivered or out of attempts, after `first` failed if given.
    /// Each attempt re-reads the webhook: a deleted one drops the row, a disabled one
    /// dead-letters it, a changed URL or secret applies. True when the row was delivered.
    private func deliver(_ row: OutboxRow, after first: AttemptOutcome?, mediaSlot: DeliveryDestination?) async -> Bool {
        var attempts = row.attempts + (first == nil ? 0 : 1)
        var failed = first
        // The lane waits for the media (a download at most): the chat's next event must not pass it.
        var body = row.body
        if let source = mediaSource, wantsMedia(row) {
            body = await WebhookMediaInlining.body(
                of: row, source: source, limit: settings.mediaInlineMaxBytes, maxPayloadBytes: settings.maxPayloadBytes)
        }
        if let mediaSlot {
            mediaSlot.inFlight -= 1
            pump(mediaSlot)
        }
        while true {
            // After shutdown the row stays as it is in the outbox (pending) for the next start.
            guard !stopped else { return false }
            guard let hook = webhooks[row.webhookId] else { return false }  // deleted with its rows
            if let outcome = failed {
                failed = nil
                let allowed = max(1, hook.record.retryCount)
                let error = outcome.error ?? "HTTP \(outcome.statusCode ?? 0)"
                if attempts >= allowed || outcome.permanent {
                    await fail(row, attempts: attempts, statusCode: outcome.statusCode, error: error, dead: true)
                    return false
                }
                await fail(row, attempts: attempts, statusCode: outcome.statusCode, error: error, dead: false)
                let base = Double(settings.retryDelayMilliseconds) * pow(2, Double(attempts - 1))
                try? await Task.sleep(for: .milliseconds(Int(base * Double.random(in: 0.75...1.25))))
                continue
            }
            guard hook.record.active else {
                await fail(row, attempts: attempts, statusCode: nil, error: "webhook is disabled", dead: true)
                return false
            }
            guard body.utf8.count <= settings.maxPayloadBytes else {
                await fail(row, attempts: attempts, statusCode: nil, error: "payload over WEBHOOK_MAX_PAYLOAD_BYTES", dead: true)
                return false
            }
            let outcome = await attempt(
                body, event: row.event, idempotencyKey: row.idempotencyKey, deliveryId: row.deliveryId, retry: attempts, hook: hook)
            attempts += 1
            if outcome.delivered {
                recordDelivered(row)
                return true
            }
            failed = outcome
        }
    }

    /// Whether the row's media may go into its body (then it takes the async path).
    private func wantsMedia(_ row: OutboxRow) -> Bool {
        mediaSource != nil && WebhookMediaInlining.wants(row, limit: settings.mediaInlineMaxBytes)
    }

    private func fail(_ row: OutboxRow, attempts: Int, statusCode: Int?, error: String, dead: Bool) async {
        if dead {
            deadCount += 1
            logger.warning(
                "webhook delivery failed for good",
                metadata: ["webhook.id": "\(row.webhookId)", "event": "\(row.event)", "error": "\(error)"])
        }
        // Best effort: if the database is away the row stays pending and is retried after a restart.
        try? await outbox.recordFailure(id: row.id, attempts: attempts, statusCode: statusCode, error: error, dead: dead, at: now())
    }

    struct AttemptOutcome {
        var delivered: Bool
        var statusCode: Int?
        var error: String?
        /// No point retrying (the URL is refused by SSRF protection).
        var permanent = false
    }

    /// One POST of `body` with OpenWA's headers and signature, after the SSRF check.
    func attempt(
        _ body: String, event: String, idempotencyKey: String, deliveryId: String, retry: Int, hook: LiveWebhook
    ) async -> AttemptOutcome {
        let verdict = await ssrfVerdict(hook.target)
        if let refusal = verdict.refusal { return AttemptOutcome(delivered: false, error: refusal, permanent: true) }
        // A body with media in it is megabytes: its bytes and signature are made off the reactor.
        let signed = body.utf8.count > 65_536
            ? await Self.signedOffReactor(body, secret: hook.record.secret) : SignedBody(body, secret: hook.record.secret)
        return await withCheckedContinuation { continuation in
            send(
                signed, event: event, idempotencyKey: idempotencyKey, deliveryId: deliveryId, retry: retry, hook: hook,
                address: verdict.address
            ) { continuation.resume(returning: $0) }
        }
    }

    /// One POST of `body` with OpenWA's headers and signature, to `address` when the SSRF check
    /// pinned one; `completion` runs on the reactor thread. The SSRF verdict is the caller's business.
    private func send(
        _ body: SignedBody, event: String, idempotencyKey: String, deliveryId: String, retry: Int, hook: LiveWebhook,
        address: String?, completion: @escaping (AttemptOutcome) -> Void
    ) {
        let bytes = body.bytes
        var headers = HTTPHeaders()
        headers.reserveCapacity(hook.headers.count + 7)
        for (name, value) in hook.headers { headers.add(name, value) }
        headers.add("Content-Type", "application/json")
        headers.add("User-Agent", "OpenWA-Webhook/1.0.0")
        headers.add("X-OpenWA-Event", event)
        headers.add("X-OpenWA-Idempotency-Key", idempotencyKey)
        headers.add("X-OpenWA-Delivery-Id", deliveryId)
        headers.add("X-OpenWA-Retry-Count", String(retry))
        if let signature = body.signature { headers.add("X-OpenWA-Signature", signature) }
        var request = HTTPClientRequest(
            method: "POST", host: hook.target.host, port: hook.target.port, target: hook.target.target, headers: headers,
            body: bytes, isSecure: hook.target.isSecure)
        request.connectAddress = address
        // This actor's executor is the reactor, so this runs on the reactor thread; once the
        // reactor has stopped, jobs run wherever they were enqueued and the row stays pending.
        guard handle.inReactorThread else { return completion(AttemptOutcome(delivered: false, error: "\(ReactorError.stopped)")) }
        http.value.execute(request, timeoutMilliseconds: settings.timeoutMilliseconds) { result in
            switch result {
            case .success(let response):
                completion(AttemptOutcome(delivered: (200..<300).contains(response.status), statusCode: response.status))
            case .failure(let error):
                completion(AttemptOutcome(delivered: false, error: "\(error)"))
            }
        }
    }

    /// The verdict on `target` when one is at hand: protection is off (allowed, resolve as
    /// usual), or a check allowed or refused it (allowed ones connect to the first address that
    /// passed). Nil when a check must run first (the slow path does it). An expired verdict is
    /// still used while one background check renews it, so that every lane of a busy webhook
    /// does not stop for its own lookup once a minute; the address stays the one checked.
    private func cachedVerdict(_ target: WebhookURLPolicy.Target) -> (allowed: Bool, address: String?)? {
        guard settings.urlPolicy.protect else { return (true, nil) }
        guard let verdict = hostVerdicts[target.host] else { return nil }
        if verdict.until <= now() {
            guard verdict.allowed else { return nil }
            if renewingHosts.insert(target.host).inserted {
                Task {
                    _ = await self.ssrfVerdict(target, renew: true)
                    self.renewingHosts.remove(target.host)
                }
            }
        }
        return (verdict.allowed, verdict.addresses.first)
    }

    /// Checks `target` (a verdict is cached for a minute): the refusal, or the address to connect
    /// to (nil: resolve the name as usual, for protection off or an allow-listed host).
    private func ssrfVerdict(_ target: WebhookURLPolicy.Target, renew: Bool = false) async -> (refusal: String?, address: String?) {
        if !renew, let cached = cachedVerdict(target) {
            return cached.allowed ? (nil, cached.address) : (hostVerdicts[target.host]?.error ?? "refused", nil)
        }
        var refusal: String?
        var addresses: [String] = []
        do throws(EngineError) {
            addresses = try await settings.urlPolicy.check(target, workers: workers)
        } catch {
            refusal = error.message
        }
        hostVerdicts[target.host] = (refusal == nil, refusal, addresses, now().addingTimeInterval(60))
        return (refusal, addresses.first)
    }

    /// Marks delivered rows in batches; on a database error the ids are kept and retried.
    ///
    /// A small batch waits a few milliseconds first, so that at a steady rate one statement marks
    /// many rows instead of one each (one writer, so every commit counts). A crash in that window
    /// only means those rows go out again after the restart, with the same idempotency key.
    private func flushDelivered() async {
        if deliveredIds.count < 256 { try? await Task.sleep(for: .milliseconds(10)) }
        while !deliveredIds.isEmpty, !stopped {
            let batch = Array(deliveredIds.prefix(2_000))
            let touched = touchedWebhooks
            do {
                try await outbox.markDelivered(batch, attempts: [:], at: now())
                deliveredIds.removeFirst(min(batch.count, deliveredIds.count))  // shutdown may have taken them
                touchedWebhooks.subtract(touched)
                let stamp = now()
                for id in touched {
                    // `lastTriggeredAt` is written at most once a second per webhook.
                    guard var hook = webhooks[id], (hook.record.lastTriggeredAt.map { stamp.timeIntervalSince($0) >= 1 } ?? true)
                    else { continue }
                    hook.record.lastTriggeredAt = stamp
                    webhooks[id] = hook
                    _ = try? await store.update(hook.record)
                }
            } catch {
                logger.warning("webhook outbox update failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        flushing = false
    }

    /// The outbox rows not delivered yet (pending), for metrics and tests.
    package func pendingCount() async throws -> Int { try await outbox.pendingCount() }

    /// Rows queued in memory across lanes.
    package var queuedCount: Int { destinations.values.reduce(0) { $0 + $1.queuedCount } }
}
