import Foundation
import Logging
import Persistence
import Reactor

/// What a create or update asks for; nil members are left as they are (or defaulted on create).
package struct WebhookDraft: Sendable {
    package var url: String?
    package var events: [String]?
    /// `.some("")` clears the secret (deliveries go unsigned).
    package var secret: String?
    package var headers: [(String, String)]?
    /// `.some(.null)` clears the filters.
    package var filters: JSONValue?
    package var active: Bool?
    package var retryCount: Int?

    package init() {}
}

/// A webhook as the API shows it (`secret` and `headers` are write-only).
package struct WebhookView: Sendable {
    package var id: String
    package var sessionId: String
    package var url: String
    package var events: [String]
    package var filters: JSONValue
    package var active: Bool
    package var retryCount: Int
    package var lastTriggeredAt: Date?
    package var createdAt: Date
    package var updatedAt: Date
}

/// A dead-lettered delivery as `GET /api/webhooks/delivery-failures` lists it.
package struct WebhookDeliveryFailure: Sendable {
    package var id: String
    package var webhookId: String
    package var sessionId: String
    package var event: String
    package var url: String
    package var idempotencyKey: String
    package var deliveryId: String
    package var attempts: Int
    package var lastStatusCode: Int?
    package var lastError: String?
    package var createdAt: Date

    init(_ row: OutboxRow) {
        (id, webhookId, sessionId, event, url) = (row.id, row.webhookId, row.sessionId, row.event, row.url)
        (idempotencyKey, deliveryId, attempts) = (row.idempotencyKey, row.deliveryId, row.attempts)
        (lastStatusCode, lastError, createdAt) = (row.lastStatusCode, row.lastError, row.createdAt)
    }
}

/// Webhook management (reference 2.17): validation, the per-session cap, and the in-memory
/// copy the dispatcher reads, kept in step with every change.
extension WebhookService {
    package func create(sessionId: String, _ draft: WebhookDraft) async throws -> WebhookView {
        let existing = webhooks.values.filter { $0.record.sessionId == sessionId }.count
        if settings.maxPerSession > 0, existing >= settings.maxPerSession {
            throw EngineError.invalid("Maximum number of webhooks per session (\(settings.maxPerSession)) reached")
        }
        guard let url = draft.url else { throw EngineError.invalid("url must be a URL address with http or https protocol") }
        let stamp = now()
        var record = WebhookRecord(
            id: UUID().uuidString.lowercased(), sessionId: sessionId, url: url, events: "[\"message.received\"]", secret: nil,
            headers: nil, filters: nil, active: true, retryCount: 3, createdAt: stamp, updatedAt: stamp)
        try apply(draft, to: &record)
        let live = try await validated(record)
        try await store.insert(record)
        webhooks[record.id] = live
        return Self.view(live)
    }

    package func update(sessionId: String, id: String, _ draft: WebhookDraft) async throws -> WebhookView {
        var record = try find(sessionId: sessionId, id: id).record
        try apply(draft, to: &record)
        record.updatedAt = now()
        let live = try await validated(record)
        guard try await store.update(record) else { throw EngineError.notFound("Webhook with id '\(id)' not found") }
        webhooks[id] = live
        hostVerdicts[live.target.host] = nil
        return Self.view(live)
    }

    package func delete(sessionId: String, id: String) async throws {
        _ = try find(sessionId: sessionId, id: id)
        webhooks[id] = nil
        destinations[id] = nil
        try await store.delete(id: id)
        try await outbox.deleteAll(webhookId: id)
    }

    /// Every webhook of a session goes (the session is deleted).
    package func deleteAll(sessionId: String) async throws {
        for hook in webhooks.values where hook.record.sessionId == sessionId { try await delete(sessionId: sessionId, id: hook.record.id) }
    }

    package func get(sessionId: String, id: String) throws -> WebhookView { Self.view(try find(sessionId: sessionId, id: id)) }

    /// A session's webhooks, newest first.
    package func list(sessionId: String) -> [WebhookView] {
        webhooks.values.filter { $0.record.sessionId == sessionId }.sorted(by: Self.newestFirst).map(Self.view)
    }

    /// Every webhook the caller may see (`allowed` = its sessions; nil = all), newest first.
    package func listAll(allowed: [String]?, limit: Int, offset: Int) -> [WebhookView] {
        let visible = webhooks.values.filter { allowed?.contains($0.record.sessionId) ?? true }.sorted(by: Self.newestFirst)
        return Array(visible.dropFirst(offset).prefix(limit)).map(Self.view)
    }

    /// Sends a `test` event now, outside the outbox; never throws on a failed delivery.
    package func test(sessionId: String, id: String) async throws -> (success: Bool, statusCode: Int?, error: String?) {
        let hook = try find(sessionId: sessionId, id: id)
        let deliveryId = "dlv_" + UUID().uuidString.lowercased()
        let key = "test_\(deliveryId)_\(id)"
        let body = WebhookEnvelope.body(
            event: "test", timestamp: now(), sessionId: sessionId, idempotencyKey: key, deliveryId: deliveryId,
            data: .object([("message", .string("This is a test webhook from OpenWA")), ("webhookId", .string(id))]))
        let outcome = await attempt(body, event: "test", idempotencyKey: key, deliveryId: deliveryId, retry: 0, hook: hook)
        return (outcome.delivered, outcome.statusCode, outcome.delivered ? nil : outcome.error ?? "HTTP \(outcome.statusCode ?? 0)")
    }

    /// Dead-lettered deliveries, newest first.
    package func failures(sessionIds: [String]?, limit: Int, offset: Int) async throws -> [WebhookDeliveryFailure] {
        try await outbox.dead(sessionIds: sessionIds, webhookId: nil, ids: nil, limit: limit, offset: offset).map(WebhookDeliveryFailure.init)
    }

    /// Puts dead deliveries back in line with new delivery ids (the idempotency key stays, so
    /// receivers still deduplicate). Returns how many were redriven, skipped, and still dead.
    package func redrive(
        sessionIds: [String]?, webhookId: String?, ids: [String]?, limit: Int
    ) async throws -> (redriven: Int, skipped: Int, remaining: Int) {
        let rows = try await outbox.dead(sessionIds: sessionIds, webhookId: webhookId, ids: ids, limit: limit, offset: 0)
        var redriven = 0
        var skipped = 0
        for var row in rows {
            guard webhooks[row.webhookId] != nil, case .object(var members)? = try? JSONParser.parse(Array(row.body.utf8)) else {
                skipped += 1
                continue
            }
            row.deliveryId = "dlv_" + UUID().uuidString.lowercased()
            if let index = members.firstIndex(where: { $0.0 == "deliveryId" }) { members[index].1 = .string(row.deliveryId) }
            row.body = JSONWriter.string(.object(members))
            row.seq = nextSeq()
            row.attempts = 0
            row.status = .pending
            guard try await outbox.revive(id: row.id, seq: row.seq, deliveryId: row.deliveryId, body: row.body, at: now()) else {
                skipped += 1
                continue
            }
            enqueue(row)
            redriven += 1
        }
        let remaining = try await outbox.dead(sessionIds: sessionIds, webhookId: webhookId, ids: nil, limit: 100_000, offset: 0).count
        return (redriven, skipped, remaining)
    }

    // MARK: - Helpers

    private func find(sessionId: String, id: String) throws -> LiveWebhook {
        guard let hook = webhooks[id], hook.record.sessionId == sessionId else {
            throw EngineError.notFound("Webhook with id '\(id)' not found")
        }
        return hook
    }

    private func apply(_ draft: WebhookDraft, to record: inout WebhookRecord) throws {
        if let url = draft.url { record.url = url }
        if let events = draft.events {
            guard !events.isEmpty else { throw EngineError.invalid("events must contain at least 1 elements") }
            if let unknown = events.first(where: { $0 != "*" && !WebhookCatalogue.events.contains($0) }) {
                throw EngineError.invalid("events contains an unknown event: \(unknown)")
            }
            record.events = JSONWriter.string(.array(events.map(JSONValue.string)))
        }
        if let secret = draft.secret {
            guard secret.isEmpty || (16...255).contains(secret.count) else {
                throw EngineError.invalid("secret must be between 16 and 255 characters")
            }
            record.secret = secret.isEmpty ? nil : secret
        }
        if let headers = draft.headers {
            guard headers.count <= 50 else { throw EngineError.invalid("headers must contain no more than 50 entries") }
            for (name, value) in headers {
                guard !name.isEmpty, name.utf8.allSatisfy({ $0.isASCIILetterDigitOrDash }) else {
                    throw EngineError.invalid("header names must match /^[A-Za-z0-9-]+$/")
                }
                guard value.count <= 1_024, value.unicodeScalars.allSatisfy({ $0.value <= 0xFF && $0.value >= 0x20 }) else {
                    throw EngineError.invalid("header values must be at most 1024 Latin-1 characters")
                }
            }
            record.headers = JSONWriter.string(.object(headers.map { ($0.0, .string($0.1)) }))
        }
        if let filters = draft.filters {
            record.filters = try WebhookFilters.parse(filters).map { JSONWriter.string($0.json) }
        }
        if let active = draft.active { record.active = active }
        if let retryCount = draft.retryCount {
            guard (0...5).contains(retryCount) else { throw EngineError.invalid("retryCount must not be greater than 5") }
            record.retryCount = retryCount
        }
    }

    /// Parses the record and checks its URL against the SSRF policy (resolving on a worker).
    private func validated(_ record: WebhookRecord) async throws -> LiveWebhook {
        let live = try Self.live(record)
        try await settings.urlPolicy.check(live.target, workers: workers)
        return live
    }

    /// Reserved and hop-by-hop names are never sent from a webhook's own headers.
    private static let reservedHeaders: Set<String> = [
        "content-type", "user-agent", "content-length", "host", "connection", "keep-alive", "transfer-encoding", "te",
        "trailer", "upgrade", "proxy-authorization", "proxy-authenticate",
    ]

    static func live(_ record: WebhookRecord) throws -> LiveWebhook {
        let events = (try? JSONParser.parse(Array(record.events.utf8)))?.arrayValue?.compactMap(\.stringValue) ?? []
        var headers: [(String, String)] = []
        if let text = record.headers, case .object(let members)? = try? JSONParser.parse(Array(text.utf8)) {
            headers = members.compactMap { name, value in
                let lower = name.lowercased()
                guard !reservedHeaders.contains(lower), !lower.hasPrefix("x-openwa-"), let text = value.stringValue else { return nil }
                return (name, text)
            }
        }
        let filters = try record.filters.flatMap { text in try WebhookFilters.parse((try? JSONParser.parse(Array(text.utf8))) ?? .null) }
        return LiveWebhook(
            record: record, events: events, headers: headers, filters: filters, target: try WebhookURLPolicy.parse(record.url))
    }

    static func view(_ live: LiveWebhook) -> WebhookView {
        let record = live.record
        return WebhookView(
            id: record.id, sessionId: record.sessionId, url: record.url, events: live.events, filters: live.filters?.json ?? .null,
            active: record.active, retryCount: record.retryCount, lastTriggeredAt: record.lastTriggeredAt,
            createdAt: record.createdAt, updatedAt: record.updatedAt)
    }

    private static func newestFirst(_ left: LiveWebhook, _ right: LiveWebhook) -> Bool {
        left.record.createdAt != right.record.createdAt ? left.record.createdAt > right.record.createdAt : left.record.id < right.record.id
    }
}

extension UInt8 {
    fileprivate var isASCIILetterDigitOrDash: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) || self == 0x2D
    }
}
