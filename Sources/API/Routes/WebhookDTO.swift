import Engines
import Foundation
import Reactor

/// OpenWA's webhook DTOs: CreateWebhookDto / UpdateWebhookDto types, WebhookResponseDto, and
/// the delivery-failure rows.
enum WebhookDTO {
    /// Type checks here; meaning (catalogue, lengths, SSRF) is checked by the service.
    static func draft(_ body: JSONValue, creating: Bool) throws(APIError) -> WebhookDraft {
        var draft = WebhookDraft()
        var errors: [String] = []
        func explicitNull(_ name: String) -> Bool { if case .null? = body[name] { true } else { false } }
        if let url = body["url"] {
            if let text = url.stringValue { draft.url = text } else { errors.append("url must be a string") }
        } else if creating {
            errors.append("url should not be empty")
        }
        if let events = body["events"], !explicitNull("events") || creating {
            if let list = events.arrayValue, list.allSatisfy({ $0.stringValue != nil }) {
                draft.events = list.compactMap(\.stringValue)
            } else {
                errors.append("events must be an array of strings")
            }
        }
        if let secret = body["secret"] {
            if let text = secret.stringValue { draft.secret = text } else if !explicitNull("secret") { errors.append("secret must be a string") }
        }
        if let headers = body["headers"] {
            if case .object(let members) = headers, members.allSatisfy({ $0.1.stringValue != nil }) {
                draft.headers = members.map { ($0.0, $0.1.stringValue!) }
            } else if !explicitNull("headers") {
                errors.append("headers must be an object of strings")
            }
        }
        if let filters = body["filters"] { draft.filters = filters }
        if let active = body["active"] {
            if case .bool(let value) = active { draft.active = value } else { errors.append("active must be a boolean value") }
        }
        if let retryCount = body["retryCount"] {
            if let value = retryCount.intValue { draft.retryCount = value } else { errors.append("retryCount must be an integer number") }
        }
        if !creating {
            for name in ["url", "events", "active", "retryCount"] where explicitNull(name) {
                errors.append("\(name) must not be null")
            }
        }
        if !errors.isEmpty { throw APIError.validation(errors) }
        return draft
    }

    /// WebhookResponseDto: `secret` and `headers` are write-only.
    static func json(_ record: WebhookView) -> JSONValue {
        [
            "id": .string(record.id), "sessionId": .string(record.sessionId), "url": .string(record.url),
            "events": .array(record.events.map(JSONValue.string)), "filters": record.filters, "active": .bool(record.active),
            "retryCount": .number(Double(record.retryCount)), "lastTriggeredAt": ISODate.json(record.lastTriggeredAt),
            "createdAt": ISODate.json(record.createdAt), "updatedAt": ISODate.json(record.updatedAt),
        ]
    }

    static func failureJSON(_ row: WebhookDeliveryFailure) -> JSONValue {
        [
            "id": .string(row.id), "webhookId": .string(row.webhookId), "sessionId": .string(row.sessionId),
            "event": .string(row.event), "url": .string(row.url), "idempotencyKey": .string(row.idempotencyKey),
            "deliveryId": .string(row.deliveryId), "attempts": .number(Double(row.attempts)),
            "lastStatusCode": row.lastStatusCode.map { .number(Double($0)) } ?? .null,
            "lastError": row.lastError.map(JSONValue.string) ?? .null, "createdAt": ISODate.json(row.createdAt),
            "replayable": true,
        ]
    }
}
