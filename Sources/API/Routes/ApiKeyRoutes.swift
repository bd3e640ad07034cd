import Reactor
import Engines

/// `/api/auth/api-keys*` (admin, unscoped) and `/api/auth/validate` (reference section 2.2).
package enum ApiKeyRoutes {
    package static func routes(keys: ApiKeyService, engine: EngineType) -> [Route] {
        let admin = RouteAccess.key(minimum: .admin, unscoped: true)
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
                    return .json(ApiKeyDTO.json(try await keys.update(id: context.parameter("id"), changes)))
                }),
            Route(
                "POST", "/api/auth/api-keys/:id/revoke", access: admin,
                handler: .task { context in .json(ApiKeyDTO.json(try await keys.revoke(id: context.parameter("id")))) }),
            Route(
                "DELETE", "/api/auth/api-keys/:id", access: admin,
                handler: .task { context in
                    try await keys.delete(id: context.parameter("id"))
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
