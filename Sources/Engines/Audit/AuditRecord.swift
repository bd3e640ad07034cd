import Foundation
import Persistence
import Reactor

/// One audit-log row as the rest of the gateway sees it (reference 7.2/7.3): the store's entry
/// with its metadata as JSON rather than text.
package struct AuditRecord: Sendable, Equatable {
    package enum Severity: String, Sendable, CaseIterable {
        case info, warn, error
    }

    package var id: String
    package var action: String
    package var severity: Severity
    package var apiKeyId: String?
    package var apiKeyName: String?
    package var sessionId: String?
    package var sessionName: String?
    package var ipAddress: String?
    package var userAgent: String?
    package var method: String?
    package var path: String?
    package var statusCode: Int?
    /// Action-specific detail; OpenWA puts the request id here.
    package var metadata: JSONValue?
    package var errorMessage: String?
    package var createdAt: Date

    /// A new record; the id is generated and the time is now unless given.
    package init(
        action: String, severity: Severity = .info, apiKeyId: String? = nil, apiKeyName: String? = nil,
        sessionId: String? = nil, sessionName: String? = nil, ipAddress: String? = nil, userAgent: String? = nil,
        method: String? = nil, path: String? = nil, statusCode: Int? = nil, metadata: JSONValue? = nil,
        errorMessage: String? = nil, id: String = UUID().uuidString.lowercased(), createdAt: Date = Date()
    ) {
        self.id = id
        self.action = action
        self.severity = severity
        self.apiKeyId = apiKeyId
        self.apiKeyName = apiKeyName
        self.sessionId = sessionId
        self.sessionName = sessionName
        self.ipAddress = ipAddress
        self.userAgent = userAgent
        self.method = method
        self.path = path
        self.statusCode = statusCode
        self.metadata = metadata
        self.errorMessage = errorMessage
        self.createdAt = createdAt
    }

    init(_ entry: AuditEntry) {
        // Metadata that is not valid JSON (written by something else) is kept as a string.
        let metadata = entry.metadata.map { text -> JSONValue in
            (try? JSONParser.parse(Array(text.utf8))) ?? .string(text)
        }
        self.init(
            action: entry.action, severity: Severity(rawValue: entry.severity) ?? .info, apiKeyId: entry.apiKeyId,
            apiKeyName: entry.apiKeyName, sessionId: entry.sessionId, sessionName: entry.sessionName,
            ipAddress: entry.ipAddress, userAgent: entry.userAgent, method: entry.method, path: entry.path,
            statusCode: entry.statusCode, metadata: metadata, errorMessage: entry.errorMessage, id: entry.id,
            createdAt: entry.createdAt)
    }

    var entry: AuditEntry {
        AuditEntry(
            id: id, action: action, severity: severity.rawValue, apiKeyId: apiKeyId, apiKeyName: apiKeyName,
            sessionId: sessionId, sessionName: sessionName, ipAddress: ipAddress.map { String($0.prefix(45)) },
            userAgent: userAgent.map { String($0.prefix(500)) }, method: method, path: path, statusCode: statusCode,
            metadata: metadata.map(JSONWriter.string), errorMessage: errorMessage, createdAt: createdAt)
    }
}

/// Which rows `AuditService.list` returns; nil fields match anything.
package struct AuditQuery: Sendable {
    package var action: String?
    package var severity: AuditRecord.Severity?
    package var sessionId: String?
    package var apiKeyId: String?
    /// A session-scoped key sees only rows about its sessions.
    package var allowedSessions: [String]?

    package init(
        action: String? = nil, severity: AuditRecord.Severity? = nil, sessionId: String? = nil, apiKeyId: String? = nil,
        allowedSessions: [String]? = nil
    ) {
        self.action = action
        self.severity = severity
        self.sessionId = sessionId
        self.apiKeyId = apiKeyId
        self.allowedSessions = allowedSessions
    }

    var filter: AuditLogFilter {
        AuditLogFilter(
            action: action, severity: severity?.rawValue, sessionId: sessionId, apiKeyId: apiKeyId,
            sessionIn: allowedSessions)
    }
}
