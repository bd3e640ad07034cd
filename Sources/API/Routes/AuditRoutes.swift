import Engines
import Reactor

/// `GET /api/audit` (reference 2.18): admin keys page through the audit log, newest first.
/// A session-scoped admin key sees only rows about its sessions.
package enum AuditRoutes {
    static let queryFields: Set<String> = ["action", "severity", "sessionId", "apiKeyId", "limit", "offset"]

    package static func routes(audit: AuditService) -> [Route] {
        [
            Route(
                "GET", "/api/audit", access: .key(minimum: .admin),
                handler: .task { context in
                    let query = try self.query(context)
                    let page = try Pagination(context.query, defaultLimit: 50, maxLimit: 200)
                    let result = try await audit.list(query, limit: page.limit, offset: page.offset)
                    return .json(["data": .array(result.records.map(json)), "total": .number(Double(result.total))])
                }),
        ]
    }

    /// The filters, validated as OpenWA's query DTO is: unknown parameters and a severity
    /// outside info/warn/error are 400s; a session outside the key's scope is a 403.
    static func query(_ context: APIContext) throws(APIError) -> AuditQuery {
        let items = context.query
        var errors = items.map(\.0).filter { !queryFields.contains($0) }.map { "property \($0) should not exist" }
        func single(_ name: String) -> String? {
            items.last { $0.0 == name }?.1
        }
        var query = AuditQuery(action: single("action"), sessionId: single("sessionId"), apiKeyId: single("apiKeyId"))
        if let severity = single("severity") {
            if let parsed = AuditRecord.Severity(rawValue: severity) {
                query.severity = parsed
            } else {
                errors.append("severity must be one of the following values: info, warn, error")
            }
        }
        if !errors.isEmpty { throw .validation(errors) }
        if let allowed = context.apiKey?.allowedSessions, !allowed.isEmpty {
            if let session = query.sessionId, !allowed.contains(session) {
                throw .forbidden("API key not authorized for this session")
            }
            query.allowedSessions = allowed
        }
        return query
    }

    static func json(_ record: AuditRecord) -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            ("id", .string(record.id)), ("action", .string(record.action)), ("severity", .string(record.severity.rawValue)),
            ("apiKeyId", text(record.apiKeyId)), ("apiKeyName", text(record.apiKeyName)),
            ("sessionId", text(record.sessionId)), ("sessionName", text(record.sessionName)),
            ("ipAddress", text(record.ipAddress)), ("userAgent", text(record.userAgent)), ("method", text(record.method)),
            ("path", text(record.path)), ("statusCode", record.statusCode.map { .number(Double($0)) } ?? .null),
            ("metadata", record.metadata ?? .null), ("errorMessage", text(record.errorMessage)),
            ("createdAt", .string(ISODate.format(record.createdAt))),
        ])
    }
}

extension APIContext {
    /// An audit record about this request: who (the key), from where (address, user agent),
    /// what (method, and the path without its query, which may carry secrets) and the request id.
    package func auditRecord(
        _ action: String, severity: AuditRecord.Severity = .info, statusCode: Int? = nil,
        metadata: [(String, JSONValue)] = [], sessionId: String? = nil, sessionName: String? = nil,
        errorMessage: String? = nil
    ) -> AuditRecord {
        AuditRecord(
            action: action, severity: severity, apiKeyId: apiKey?.id, apiKeyName: apiKey?.name, sessionId: sessionId,
            sessionName: sessionName, ipAddress: clientIP, userAgent: request.head.headers["user-agent"], method: method,
            path: request.head.path, statusCode: statusCode, metadata: .object([("requestId", .string(requestID))] + metadata),
            errorMessage: errorMessage)
    }
}
