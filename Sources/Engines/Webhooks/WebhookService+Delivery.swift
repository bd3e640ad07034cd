import Foundation
import Logging
import Persistence
import Reactor

/// Delivery: lanes, attempts, backoff, dead letters, and batched "delivered" marks.
extension WebhookService {
    func enqueue(_ row: OutboxRow) {
        let key = Self.laneKey(row)
        let entry = (row: row, since: ContinuousClock.now)
        if lanes[key] != nil {
            lanes[key]!.append(entry)
        } else {
            var lane = DeliveryLane()
            lane.append(entry)
            lanes[key] = lane
            Task { await self.runLane(key) }
        }
    }

    /// Delivers a lane's rows one at a time, in order; the lane ends when it is empty.
    private func runLane(_ key: String) async {
        while let entry = lanes[key]?.first {
            if await deliver(entry.row), let deliveryObserver { deliveryObserver(ContinuousClock.now - entry.since) }
            lanes[key]?.removeFirst()
            if lanes[key]?.isEmpty == true { lanes[key] = nil }
        }
    }

    /// Attempts `row` until it is delivered or out of attempts. Each attempt re-reads the webhook:
    /// a deleted one drops the row, a disabled one dead-letters it, a changed URL or secret applies.
    /// True when the row was delivered.
    private func deliver(_ row: OutboxRow) async -> Bool {
        var attempts = row.attempts
        while true {
            guard let hook = webhooks[row.webhookId] else { return false }  // deleted with its rows
            guard hook.record.active else {
                await fail(row, attempts: attempts, statusCode: nil, error: "webhook is disabled", dead: true)
                return false
            }
            guard row.body.utf8.count <= settings.maxPayloadBytes else {
                await fail(row, attempts: attempts, statusCode: nil, error: "payload over WEBHOOK_MAX_PAYLOAD_BYTES", dead: true)
                return false
            }
            let outcome = await attempt(row.body, event: row.event, idempotencyKey: row.idempotencyKey,
                                        deliveryId: row.deliveryId, retry: attempts, hook: hook)
            attempts += 1
            if outcome.delivered {
                deliveredCount += 1
                deliveredIds.append(row.id)
                touchedWebhooks.insert(row.webhookId)
                if !flushing {
                    flushing = true
                    Task { await self.flushDelivered() }
                }
                return true
            }
            let allowed = max(1, hook.record.retryCount)
            let error = outcome.error ?? "HTTP \(outcome.statusCode ?? 0)"
            if attempts >= allowed || outcome.permanent {
                await fail(row, attempts: attempts, statusCode: outcome.statusCode, error: error, dead: true)
                return false
            }
            await fail(row, attempts: attempts, statusCode: outcome.statusCode, error: error, dead: false)
            let base = Double(settings.retryDelayMilliseconds) * pow(2, Double(attempts - 1))
            try? await Task.sleep(for: .milliseconds(Int(base * Double.random(in: 0.75...1.25))))
        }
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

    /// One POST of `body` with OpenWA's headers and signature.
    func attempt(
        _ body: String, event: String, idempotencyKey: String, deliveryId: String, retry: Int, hook: LiveWebhook
    ) async -> AttemptOutcome {
        if let refusal = await ssrfRefusal(hook.target) { return AttemptOutcome(delivered: false, error: refusal, permanent: true) }
        let bytes = Array(body.utf8)
        var headers = HTTPHeaders()
        for (name, value) in hook.headers { headers.add(name, value) }
        headers.add("Content-Type", "application/json")
        headers.add("User-Agent", "OpenWA-Webhook/1.0.0")
        headers.add("X-OpenWA-Event", event)
        headers.add("X-OpenWA-Idempotency-Key", idempotencyKey)
        headers.add("X-OpenWA-Delivery-Id", deliveryId)
        headers.add("X-OpenWA-Retry-Count", String(retry))
        if let secret = hook.record.secret, !secret.isEmpty {
            headers.add("X-OpenWA-Signature", "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), bytes)))
        }
        let request = HTTPClientRequest(
            method: "POST", host: hook.target.host, port: hook.target.port, target: hook.target.target, headers: headers,
            body: bytes, isSecure: hook.target.isSecure)
        let client = http
        let timeout = settings.timeoutMilliseconds
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPClientResponse, ReactorError>, Never>) in
            // This actor's executor is the reactor, so this runs on the reactor thread; once the
            // reactor has stopped, jobs run wherever they were enqueued and the row stays pending.
            guard handle.inReactorThread else { return continuation.resume(returning: .failure(.stopped)) }
            client.value.execute(request, timeoutMilliseconds: timeout) { continuation.resume(returning: $0) }
        }
        switch result {
        case .success(let response): return AttemptOutcome(delivered: (200..<300).contains(response.status), statusCode: response.status)
        case .failure(let error): return AttemptOutcome(delivered: false, error: "\(error)")
        }
    }

    /// Nil when the destination may be called; the refusal otherwise (cached for a minute).
    private func ssrfRefusal(_ target: WebhookURLPolicy.Target) async -> String? {
        guard settings.urlPolicy.protect else { return nil }
        if let verdict = hostVerdicts[target.host], verdict.until > now() { return verdict.allowed ? nil : verdict.error }
        var refusal: String?
        do throws(EngineError) { try await settings.urlPolicy.check(target, workers: workers) } catch { refusal = error.message }
        hostVerdicts[target.host] = (refusal == nil, refusal, now().addingTimeInterval(60))
        return refusal
    }

    /// Marks delivered rows in batches; on a database error the ids are kept and retried.
    private func flushDelivered() async {
        while !deliveredIds.isEmpty {
            let batch = Array(deliveredIds.prefix(2_000))
            let touched = touchedWebhooks
            do {
                try await outbox.markDelivered(batch, attempts: [:], at: now())
                deliveredIds.removeFirst(batch.count)
                touchedWebhooks.subtract(touched)
                for id in touched {
                    guard var hook = webhooks[id] else { continue }
                    hook.record.lastTriggeredAt = now()
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
    package var queuedCount: Int { lanes.values.reduce(0) { $0 + $1.count } }
}

/// The body OpenWA posts (reference 5.2), in its key order.
package enum WebhookEnvelope {
    package static func body(
        event: String, timestamp: Date, sessionId: String, idempotencyKey: String, deliveryId: String, data: JSONValue
    ) -> String {
        JSONWriter.string(
            .object([
                ("event", .string(event)), ("timestamp", .string(ISOTimestamp.format(timestamp))),
                ("sessionId", .string(sessionId)), ("idempotencyKey", .string(idempotencyKey)),
                ("deliveryId", .string(deliveryId)), ("data", data),
            ]))
    }
}
