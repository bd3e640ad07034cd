import Foundation
import Persistence
import Reactor

/// A session as the API shows it (OpenWA's SessionResponseDto), with the live parts the
/// database does not hold.
package struct Session: Sendable, Equatable {
    package var id: String
    package var name: String
    package var status: SessionStatus
    package var phone: String?
    package var pushName: String?
    package var connectedAt: Date?
    package var lastActive: Date?
    package var createdAt: Date
    package var updatedAt: Date
    /// Why the last start failed or the link dropped, kept in memory like OpenWA's.
    package var lastError: String?
    /// Whether this process holds a live engine for the session.
    package var engineLoaded: Bool
    package var config: SessionConfig

    init(_ record: SessionRecord, lastError: String?, engineLoaded: Bool) {
        self.id = record.id
        self.name = record.name
        self.status = SessionStatus(rawValue: record.status) ?? .created
        self.phone = record.phone
        self.pushName = record.pushName
        self.connectedAt = record.connectedAt
        self.lastActive = record.lastActiveAt
        self.createdAt = record.createdAt
        self.updatedAt = record.updatedAt
        self.lastError = lastError
        self.engineLoaded = engineLoaded
        self.config = SessionConfig(json: record.config)
    }
}

/// The keys of a session's `config` that the gateway acts on (OpenWA's CreateSessionDto.config);
/// other keys are stored and returned untouched.
package struct SessionConfig: Sendable, Equatable {
    package static let defaultReconnectBaseDelay = 5_000

    package var autoRejectCalls: Bool?
    /// 0-20; nil = unlimited.
    package var maxReconnectAttempts: Int?
    /// 1000-300000 ms; nil = the default.
    package var reconnectBaseDelay: Int?
    /// Everything else that was stored, kept as OpenWA keeps it.
    package var other: [(String, JSONValue)]

    package init(autoRejectCalls: Bool? = nil, maxReconnectAttempts: Int? = nil, reconnectBaseDelay: Int? = nil, other: [(String, JSONValue)] = []) {
        self.autoRejectCalls = autoRejectCalls
        self.maxReconnectAttempts = maxReconnectAttempts
        self.reconnectBaseDelay = reconnectBaseDelay
        self.other = other
    }

    init(json text: String) {
        self.init()
        guard case .object(let members)? = try? JSONParser.parse(Array(text.utf8)) else { return }
        for (key, value) in members {
            switch key {
            case "autoRejectCalls": autoRejectCalls = value.boolValue
            case "maxReconnectAttempts": maxReconnectAttempts = value.intValue
            case "reconnectBaseDelay": reconnectBaseDelay = value.intValue
            default: other.append((key, value))
            }
        }
    }

    package var json: JSONValue {
        var members: [(String, JSONValue)] = []
        if let autoRejectCalls { members.append(("autoRejectCalls", .bool(autoRejectCalls))) }
        if let maxReconnectAttempts { members.append(("maxReconnectAttempts", .number(Double(maxReconnectAttempts)))) }
        if let reconnectBaseDelay { members.append(("reconnectBaseDelay", .number(Double(reconnectBaseDelay)))) }
        return .object(members + other)
    }

    /// What the engine runs with.
    package var engineConfig: SessionEngineConfig {
        SessionEngineConfig(
            maxReconnectAttempts: maxReconnectAttempts,
            reconnectBaseDelayMilliseconds: reconnectBaseDelay ?? Self.defaultReconnectBaseDelay,
            autoRejectCalls: autoRejectCalls ?? false)
    }

    package static func == (lhs: SessionConfig, rhs: SessionConfig) -> Bool { lhs.json == rhs.json }
}
