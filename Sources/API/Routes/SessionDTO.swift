import Engines
import Foundation
import Reactor

/// OpenWA's session DTOs: CreateSessionDto validation and SessionResponseDto.
enum SessionDTO {
    static let createFields: Set<String> = ["name", "config", "proxyUrl", "proxyType"]
    static let configFields: Set<String> = ["autoRejectCalls", "maxReconnectAttempts", "reconnectBaseDelay"]

    /// SessionResponseDto: `config`, `proxyUrl` and `proxyType` are never returned.
    static func json(_ session: Session) -> JSONValue {
        [
            "id": .string(session.id), "name": .string(session.name), "status": .string(session.status.rawValue),
            "phone": session.phone.map(JSONValue.string) ?? .null,
            "pushName": session.pushName.map(JSONValue.string) ?? .null,
            "connectedAt": ISODate.json(session.connectedAt), "lastActive": ISODate.json(session.lastActive),
            "createdAt": ISODate.json(session.createdAt), "updatedAt": ISODate.json(session.updatedAt),
            "lastError": session.lastError.map(JSONValue.string) ?? .null, "restriction": .null,
            "engineLoaded": .bool(session.engineLoaded),
        ]
    }

    /// The effective config (OpenWA's `GET /api/sessions/:id/config`).
    static func configJSON(_ config: SessionConfig) -> JSONValue {
        [
            "autoRejectCalls": .bool(config.autoRejectCalls ?? false),
            "maxReconnectAttempts": config.maxReconnectAttempts.map { .number(Double($0)) } ?? .null,
            "reconnectBaseDelay": .number(Double(config.reconnectBaseDelay ?? SessionConfig.defaultReconnectBaseDelay)),
        ]
    }

    struct Create {
        var name: String
        var config: SessionConfig
        var proxyUrl: String?
    }

    static func create(from body: JSONValue) throws(APIError) -> Create {
        var errors: [String] = []
        var name = ""
        switch body["name"] {
        case .string(let value)?:
            name = value
            if value.count < 3 { errors.append("name must be longer than or equal to 3 characters") }
            if value.count > 50 { errors.append("name must be shorter than or equal to 50 characters") }
            if !value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
                errors.append("name must match /^[a-zA-Z0-9-]+$/ regular expression")
            }
        default:
            errors += ["name must be shorter than or equal to 50 characters", "name must be a string"]
        }
        var config = SessionConfig()
        switch body["config"] {
        case nil, .null?: break
        case .object(let members)?:
            for (key, value) in members {
                switch key {
                case "autoRejectCalls", "maxReconnectAttempts", "reconnectBaseDelay": break
                default: config.other.append((key, value))
                }
            }
            apply(body["config"]!, to: &config, errors: &errors, allowNull: false)
        default:
            errors.append("config must be an object")
        }
        var proxyUrl: String?
        switch body["proxyUrl"] {
        case nil, .null?: break
        case .string(let url)?:
            let schemes = ["http://", "https://", "socks4://", "socks5://"]
            if url.count > 255 || !schemes.contains(where: url.lowercased().hasPrefix) {
                errors.append("proxyUrl must be an http, https, socks4 or socks5 URL of at most 255 characters")
            }
            proxyUrl = url
        default:
            errors.append("proxyUrl must be a string")
        }
        if !errors.isEmpty { throw .validation(errors) }
        return Create(name: name, config: config, proxyUrl: proxyUrl)
    }

    /// Applies the three known config keys of `value` (PATCH allows null = back to default).
    static func apply(_ value: JSONValue, to config: inout SessionConfig, errors: inout [String], allowNull: Bool) {
        if let flag = value["autoRejectCalls"] {
            if flag == .null, allowNull { config.autoRejectCalls = nil } else if let bool = flag.boolValue {
                config.autoRejectCalls = bool
            } else { errors.append("autoRejectCalls must be a boolean value") }
        }
        if let attempts = value["maxReconnectAttempts"] {
            if attempts == .null, allowNull { config.maxReconnectAttempts = nil } else if let count = attempts.intValue, (0...20).contains(count) {
                config.maxReconnectAttempts = count
            } else { errors.append("maxReconnectAttempts must be an integer from 0 to 20") }
        }
        if let delay = value["reconnectBaseDelay"] {
            if delay == .null, allowNull { config.reconnectBaseDelay = nil } else if let ms = delay.intValue, (1_000...300_000).contains(ms) {
                config.reconnectBaseDelay = ms
            } else { errors.append("reconnectBaseDelay must be an integer from 1000 to 300000") }
        }
    }
}
