import Reactor
import Engines

/// `/api/auth/api-keys*` (admin, unscoped) and `/api/auth/validate` (reference section 2.2).
/// Changes are audited (`api_key_created`, `_updated`, `_revoked`, `_deleted`) with the acting
/// key and the changed key's id and name in the metadata.
package enum ApiKeyRoutes {
    package static func routes(keys: ApiKeyService, engine: EngineType, audit: AuditService? = nil) -> [Route] {
        let admin = RouteAccess.key(minimum: .admin, unscoped: true)
        @Sendable func record(_ action: String, _ context: APIContext, _ key: ApiKey, status: Int) {
            audit?.record(
                context.auditRecord(
                    action, statusCode: status,
                    metadata: [("targetKeyId", .string(key.id)), ("targetKeyName", .string(key.name)),
                               ("role", .string(key.role.rawValue))]))
        }
        return [
            Route(
                "POST", "/api/auth/api-keys", access: admin,
                handler: .task { context in
                    let changes = try ApiKeyDTO.changes(
                        from: try context.jsonObject(allowing: ApiKeyDTO.createFields), requireName: true)
                    let created = try await keys.create(
                        name: changes.name ?? "", role: changes.role ?? .operator, allowedIps: changes.allowedIps ?? nil,
                        allowedSessions: changes.allowedSessions ?? nil, allowedChats: changes.allowedChats ?? nil,
                        expiresAt: changes.expiresAt ?? nil)
                    record("api_key_created", context, created.key, status: 201)
                    return .json(ApiKeyDTO.json(created.key, plaintext: created.plaintext), status: 201)
                }),
            Route(
                "GET", "/api/auth/api-keys", access: admin,
                handler: .task { _ in .json(.array(try await keys.list().map { ApiKeyDTO.json($0) })) }),
            Route(
                "GET", "/api/auth/api-keys/:id", access: admin,
                handler: .task { context in .json(ApiKeyDTO.json(try await keys.get(id: context.parameter("id")))) }),
            Route(
                "PUT", "/api/auth/api-keys/:id", access: admin,
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ApiKeyDTO.updateFields)
                    let changes = try ApiKeyDTO.changes(from: body, requireName: false)
                    let updated = try await keys.update(id: context.parameter("id"), changes)
                    record("api_key_updated", context, updated, status: 200)
                    return .json(ApiKeyDTO.json(updated))
                }),
            Route(
                "POST", "/api/auth/api-keys/:id/revoke", access: admin,
                handler: .task { context in
                    let revoked = try await keys.revoke(id: context.parameter("id"))
                    record("api_key_revoked", context, revoked, status: 200)
                    return .json(ApiKeyDTO.json(revoked))
                }),
            Route(
                "DELETE", "/api/auth/api-keys/:id", access: admin,
                handler: .task { context in
                    // Read first: the row (and so its name) is gone afterwards.
                    let doomed = try await keys.get(id: context.parameter("id"))
                    try await keys.delete(id: doomed.id)
                    record("api_key_deleted", context, doomed, status: 204)
                    return .noContent
                }),
            Route(
                "POST", "/api/auth/validate", access: .key(minimum: .viewer),
                handler: .immediate { context in
                    guard let key = context.apiKey else { throw APIError.unauthorized("API key is required") }
                    return .json([
                        "valid": true, "role": .string(key.role.rawValue), "engineType": .string(engine.openWAName),
                        "scoped": .bool(!key.isUnscoped),
                    ])
                }),
        ]
    }
}
