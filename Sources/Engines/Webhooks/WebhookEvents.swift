import Foundation
import Reactor

/// OpenWA's webhook event catalogue (reference 5.1) and which events a webhook receives.
package enum WebhookCatalogue {
    package static let events: Set<String> = [
        "message.received", "message.sent", "message.ack", "message.failed", "message.revoked", "message.reaction",
        "message.edited", "status.received", "session.status", "session.qr", "session.authenticated",
        "session.disconnected", "session.reconnect_loop", "session.restriction", "presence.update", "group.join",
        "group.leave", "group.update", "group.join_request", "call.received", "call.accepted", "call.rejected", "call.missed",
    ]

    /// Whether a webhook subscribed to `subscribed` gets `event` ("*" is every event).
    package static func matches(_ subscribed: [String], _ event: String) -> Bool {
        subscribed.contains("*") || subscribed.contains(event)
    }

    /// The lane whose order is kept per webhook: a message's chat, else the session.
    package static func orderKey(_ event: GatewayEvent) -> String {
        if event.name.hasPrefix("message."), let chat = event.data["chatId"]?.stringValue { return "chat:" + chat }
        return "session:" + event.sessionID
    }

    /// Content-derived keys, stable across retries (reference 5.4), before the `_{webhookId}` suffix.
    package static func idempotencyKey(_ event: GatewayEvent) -> String {
        let session = event.sessionID
        let occurred = String(Int64(event.timestamp.timeIntervalSince1970 * 1_000))
        let data = event.data
        func field(_ name: String) -> String { data[name]?.stringValue ?? data[name].map(JSONWriter.string) ?? "" }
        switch event.name {
        case "message.received", "message.sent": return "msg_\(session)_\(field("id"))"
        case "message.ack": return "ack_\(session)_\(field("messageId"))_\(field("status"))"
        case "message.failed": return "failed_\(session)_\(field("messageId"))_\(field("status"))"
        case "message.revoked": return "rev_\(session)_\(field("revokedId").isEmpty ? field("id") : field("revokedId"))"
        case "message.edited": return "edit_\(session)_\(field("messageId"))_\(occurred)"
        case "message.reaction": return "react_\(session)_\(field("messageId"))_\(field("senderId"))_\(occurred)"
        case "session.qr": return "qr_\(session)_\(shortHash(field("qr")))"
        case "session.status": return "sess_\(session)_\(field("status"))_\(occurred)"
        case "session.authenticated": return "auth_\(session)_\(shortHash(JSONWriter.string(data)))_\(occurred)"
        case "session.disconnected": return "disc_\(session)_\(shortHash(field("reason")))_\(occurred)"
        case "session.reconnect_loop": return "loop_\(session)_\(field("attempts"))_\(occurred)"
        default: return "evt_\(event.name.replacingOccurrences(of: ".", with: "_"))_\(shortHash(JSONWriter.string(data)))"
        }
    }

    /// The first 16 hex digits of SHA-256: enough to tell contents apart in a key.
    static func shortHash(_ text: String) -> String {
        String(Crypto.hex(Crypto.sha256(Array(text.utf8))).prefix(16))
    }
}

/// A webhook's optional `filters` (reference 5.6): every condition must hold. They apply to the
/// message family; other events always pass.
package struct WebhookFilters: Sendable, Equatable {
    package struct Condition: Sendable, Equatable {
        package var field: String
        package var op: String
        package var values: [JSONValue]
        package var caseSensitive: Bool
    }

    package var conditions: [Condition]

    static let fields: Set<String> = [
        "sender", "recipient", "chatId", "body", "type", "isGroup", "kind", "fromMe", "hasMedia", "mentions",
    ]
    static let operators: Set<String> = ["is", "isNot", "contains", "equals"]

    /// Parses and validates `{conditions: [...]}`; the messages are OpenWA-style validation errors.
    package static func parse(_ value: JSONValue) throws(EngineError) -> WebhookFilters? {
        if case .null = value { return nil }
        guard let conditions = value["conditions"]?.arrayValue else { throw .invalid("filters.conditions must be an array") }
        guard conditions.count <= 20 else { throw .invalid("filters.conditions must contain no more than 20 elements") }
        var parsed: [Condition] = []
        for condition in conditions {
            guard let field = condition["field"]?.stringValue, fields.contains(field) else {
                throw .invalid("filters.conditions.field must be one of: \(fields.sorted().joined(separator: ", "))")
            }
            guard let op = condition["operator"]?.stringValue, operators.contains(op) else {
                throw .invalid("filters.conditions.operator must be one of: contains, equals, is, isNot")
            }
            let raw = condition["value"] ?? .null
            let values: [JSONValue]
            switch raw {
            case .array(let items): values = items
            case .string, .bool: values = [raw]
            default: throw .invalid("filters.conditions.value must be a string, an array of strings or a boolean")
            }
            guard values.count <= 100, values.allSatisfy({ ($0.stringValue?.count ?? 0) <= 1_000 }) else {
                throw .invalid("filters.conditions.value must have at most 100 values of at most 1000 characters")
            }
            parsed.append(
                Condition(field: field, op: op, values: values.map(canonical), caseSensitive: condition["caseSensitive"]?.boolValue ?? false))
        }
        return WebhookFilters(conditions: parsed)
    }

    /// Bare phone numbers stand for `<number>@c.us`.
    private static func canonical(_ value: JSONValue) -> JSONValue {
        guard let text = value.stringValue, !text.isEmpty, text.allSatisfy(\.isNumber) else { return value }
        return .string(text + "@c.us")
    }

    package var json: JSONValue {
        .object([
            ("conditions", .array(conditions.map { condition in
                .object([
                    ("field", .string(condition.field)), ("operator", .string(condition.op)),
                    ("value", condition.values.count == 1 ? condition.values[0] : .array(condition.values)),
                    ("caseSensitive", .bool(condition.caseSensitive)),
                ])
            }))
        ])
    }

    /// Whether `event` passes every condition.
    package func admits(_ event: GatewayEvent) -> Bool {
        guard event.name.hasPrefix("message.") else { return true }
        return conditions.allSatisfy { condition in
            let actual = Self.value(of: condition.field, in: event.data)
            guard let actual else { return condition.op == "isNot" }  // an absent field decides the event
            let hit = condition.values.contains { Self.matches(actual, $0, op: condition.op, caseSensitive: condition.caseSensitive) }
            return condition.op == "isNot" ? !hit : hit
        }
    }

    private static func value(of field: String, in data: JSONValue) -> JSONValue? {
        switch field {
        case "sender": return data["author"] ?? data["from"]
        case "recipient": return data["to"]
        case "hasMedia": return .bool(data["media"].map { if case .null = $0 { false } else { true } } ?? false)
        case "mentions": return data["mentionedIds"] ?? data["mentions"]
        case "isGroup", "fromMe": return data[field] ?? .bool(false)
        default: return data[field]
        }
    }

    private static func matches(_ actual: JSONValue, _ expected: JSONValue, op: String, caseSensitive: Bool) -> Bool {
        if case .bool(let wanted) = expected { return actual.boolValue == wanted }
        guard let wanted = expected.stringValue else { return false }
        let candidates: [String] = actual.arrayValue?.compactMap(\.stringValue) ?? [actual.stringValue ?? JSONWriter.string(actual)]
        return candidates.contains { candidate in
            let (left, right) = caseSensitive ? (candidate, wanted) : (candidate.lowercased(), wanted.lowercased())
            return op == "contains" ? left.contains(right) : left == right
        }
    }
}
