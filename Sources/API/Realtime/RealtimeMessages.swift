import Engines
import Foundation
import Reactor

/// The error codes of the real-time channel (reference section 6).
enum RealtimeErrorCode: String, Sendable {
    case unauthorized = "UNAUTHORIZED"
    case invalidMessage = "INVALID_MESSAGE"
    case invalidSession = "INVALID_SESSION"
    case invalidEvents = "INVALID_EVENTS"
    case forbiddenSession = "FORBIDDEN_SESSION"
    case tooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"
    case rateLimited = "RATE_LIMITED"
}

/// A refusal: the code and the human-readable message sent with it.
struct RealtimeFailure: Error, Equatable {
    var code: RealtimeErrorCode
    var message: String
    /// The request's id, when one could be read, so the client can correlate the error.
    var requestID: JSONValue? = nil
}

/// What a client may ask, once parsed and validated.
enum RealtimeRequest: Equatable {
    /// `events` holds only subscribable names (unknown ones are dropped), or `["*"]`.
    case subscribe(sessionID: String, events: [String], requestID: JSONValue?)
    /// Without `events`, every subscription for the session goes.
    case unsubscribe(sessionID: String, events: [String]?, requestID: JSONValue?)
    case ping(requestID: JSONValue?)

    var requestID: JSONValue? {
        switch self {
        case .subscribe(_, _, let id), .unsubscribe(_, _, let id), .ping(let id): return id
        }
    }

    /// The events that may be subscribed on the socket. `message.failed` and
    /// `session.reconnect_loop` are webhook-only, so a client never receives them.
    static let subscribableEvents: Set<String> = [
        "message.received", "message.sent", "message.ack", "message.revoked", "message.reaction", "message.edited",
        "session.status", "session.qr", "session.authenticated", "session.disconnected", "session.restriction",
        "presence.update", "group.join", "group.leave", "group.update", "group.join_request", "call.received",
        "call.accepted", "call.rejected", "call.missed", "status.received",
    ]

    /// Parses a client message.
    static func parse(_ value: JSONValue) -> Result<RealtimeRequest, RealtimeFailure> {
        guard case .object = value, let type = value["type"]?.stringValue else {
            return .failure(RealtimeFailure(code: .invalidMessage, message: "Message must be an object with a type"))
        }
        let requestID = value["requestId"].flatMap { id -> JSONValue? in
            switch id {
            case .string, .number: return id
            default: return nil
            }
        }
        func fail(_ code: RealtimeErrorCode, _ message: String) -> Result<RealtimeRequest, RealtimeFailure> {
            .failure(RealtimeFailure(code: code, message: message, requestID: requestID))
        }
        switch type {
        case "ping":
            return .success(.ping(requestID: requestID))
        case "subscribe", "unsubscribe":
            guard let sessionID = value["sessionId"]?.stringValue, isValidSessionSelector(sessionID) else {
                return fail(.invalidSession, "sessionId must be a session id or \"*\"")
            }
            let names = value["events"]?.arrayValue
            if type == "unsubscribe", value["events"] == nil || value["events"] == .null {
                return .success(.unsubscribe(sessionID: sessionID, events: nil, requestID: requestID))
            }
            guard let names, !names.isEmpty, names.count <= 256 else {
                return fail(.invalidEvents, "events must be a non-empty list of event names or [\"*\"]")
            }
            let events = acceptedEvents(names)
            guard !events.isEmpty else { return fail(.invalidEvents, "No valid events to \(type)") }
            return .success(
                type == "subscribe"
                    ? .subscribe(sessionID: sessionID, events: events, requestID: requestID)
                    : .unsubscribe(sessionID: sessionID, events: events, requestID: requestID))
        default:
            return fail(.invalidMessage, "Unknown message type")
        }
    }

    /// `"*"` wins over a list; unknown names are silently dropped, duplicates kept once.
    private static func acceptedEvents(_ names: [JSONValue]) -> [String] {
        let strings = names.compactMap(\.stringValue)
        if strings.contains("*") { return ["*"] }
        var seen = Set<String>()
        return strings.filter { subscribableEvents.contains($0) && seen.insert($0).inserted }
    }

    /// A session id (up to 128 letters, digits and hyphens) or `"*"`.
    static func isValidSessionSelector(_ text: String) -> Bool {
        if text == "*" { return true }
        return !text.isEmpty && text.utf8.count <= 128
            && text.utf8.allSatisfy { byte in
                byte == UInt8(ascii: "-") || (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
                    || (0x61...0x7A).contains(byte)
            }
    }
}

/// The JSON the server sends: flat replies and nested events.
enum RealtimeReply {
    static func subscribed(sessionID: String, events: [String], requestID: JSONValue?, at date: Date = Date()) -> JSONValue {
        reply("subscribed", [("sessionId", .string(sessionID)), ("events", .array(events.map(JSONValue.string)))], requestID, date)
    }

    static func unsubscribed(sessionID: String, requestID: JSONValue?, at date: Date = Date()) -> JSONValue {
        reply("unsubscribed", [("sessionId", .string(sessionID))], requestID, date)
    }

    static func pong(requestID: JSONValue?, at date: Date = Date()) -> JSONValue {
        reply("pong", [], requestID, date)
    }

    static func error(_ failure: RealtimeFailure, requestID: JSONValue? = nil, at date: Date = Date()) -> JSONValue {
        let requestID = requestID ?? failure.requestID
        return reply("error", [("code", .string(failure.code.rawValue)), ("message", .string(failure.message))], requestID, date)
    }

    /// `{type:"event", timestamp, payload:{event, sessionId, data}}`; `data` is the webhook `data`.
    static func event(_ event: GatewayEvent) -> JSONValue {
        .object([
            ("type", "event"), ("timestamp", .string(ISODate.format(event.timestamp))),
            ("payload", .object([("event", .string(event.name)), ("sessionId", .string(event.sessionID)), ("data", event.data)])),
        ])
    }

    private static func reply(_ type: String, _ fields: [(String, JSONValue)], _ requestID: JSONValue?, _ date: Date) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", .string(type))]
        members.append(contentsOf: fields)
        // Like JSON.stringify with an undefined field: no requestId sent, none echoed.
        if let requestID { members.append(("requestId", requestID)) }
        members.append(("timestamp", .string(ISODate.format(date))))
        return .object(members)
    }
}
