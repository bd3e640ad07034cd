import Engines
import Foundation
import Reactor

/// `/api/sessions/:sessionId/webhooks*` and `/api/webhooks*` (reference 2.17).
package enum WebhookRoutes {
    static let fields: Set<String> = ["url", "events", "secret", "headers", "filters", "active", "retryCount"]

    package static func routes(webhooks: WebhookService, sessions: SessionManager) -> [Route] {
        let scoped = RouteAccess.key(minimum: .operator, sessionParameter: "sessionId")
        @Sendable func session(_ context: APIContext) async throws -> String {
            try await context.existingSession("sessionId", in: sessions)
        }
        return [
            Route("POST", "/api/sessions/:sessionId/webhooks", access: scoped, handler: .task { context in
                let id = try await session(context)
                let draft = try WebhookDTO.draft(try context.jsonObject(allowing: fields), creating: true)
                return .json(WebhookDTO.json(try await webhooks.create(sessionId: id, draft)), status: 201)
            }),
            Route("GET", "/api/sessions/:sessionId/webhooks", access: scoped, handler: .task { context in
                .json(.array(await webhooks.list(sessionId: try await session(context)).map(WebhookDTO.json)))
            }),
            Route("GET", "/api/sessions/:sessionId/webhooks/:id", access: scoped, handler: .task { context in
                .json(WebhookDTO.json(try await webhooks.get(sessionId: try await session(context), id: context.parameter("id"))))
            }),
            Route("PUT", "/api/sessions/:sessionId/webhooks/:id", access: scoped, handler: .task { context in
                let id = try await session(context)
                let draft = try WebhookDTO.draft(try context.jsonObject(allowing: fields), creating: false)
                return .json(WebhookDTO.json(try await webhooks.update(sessionId: id, id: context.parameter("id"), draft)))
            }),
            Route("DELETE", "/api/sessions/:sessionId/webhooks/:id", access: scoped, handler: .task { context in
                try await webhooks.delete(sessionId: try await session(context), id: context.parameter("id"))
                return .noContent
            }),
            Route("POST", "/api/sessions/:sessionId/webhooks/:id/test", access: scoped, handler: .task { context in
                let result = try await webhooks.test(sessionId: try await session(context), id: context.parameter("id"))
                if let error = result.error, result.statusCode == nil {
                    return .json(["success": false, "error": .string(error)])
                }
                return .json(["success": .bool(result.success), "statusCode": .number(Double(result.statusCode ?? 0))])
            }),
            Route("GET", "/api/webhooks", access: .key(minimum: .operator, unscoped: true), handler: .task { context in
                let page = try Pagination(context.query, defaultLimit: 100, maxLimit: 1_000)
                let visible = await webhooks.listAll(allowed: allowedSessions(context), limit: page.limit, offset: page.offset)
                return .json(.array(visible.map(WebhookDTO.json)))
            }),
            Route("GET", "/api/webhooks/delivery-failures", access: .key(minimum: .admin, unscoped: true), handler: .task { context in
                let page = try Pagination(context.query, defaultLimit: 50, maxLimit: 500)
                var scope = allowedSessions(context)
                if let only = context.query.first(where: { $0.0 == "sessionId" })?.1 {
                    scope = (scope ?? [only]).filter { $0 == only }
                }
                let rows = try await webhooks.failures(sessionIds: scope, limit: page.limit, offset: page.offset)
                return .json(.array(rows.map(WebhookDTO.failureJSON)))
            }),
            Route("POST", "/api/webhooks/delivery-failures/redrive", access: .key(minimum: .admin, unscoped: true), handler: .task { context in
                let body = try context.jsonObject(allowing: ["sessionId", "webhookId", "ids", "limit"])
                var scope = allowedSessions(context)
                if let only = body["sessionId"]?.stringValue { scope = (scope ?? [only]).filter { $0 == only } }
                let ids = body["ids"]?.arrayValue?.compactMap(\.stringValue)
                if let ids, ids.count > 500 { throw APIError.validation(["ids must contain no more than 500 elements"]) }
                let limit = body["limit"]?.intValue ?? 100
                guard (1...500).contains(limit) else { throw APIError.validation(["limit must be between 1 and 500"]) }
                let result = try await webhooks.redrive(
                    sessionIds: scope, webhookId: body["webhookId"]?.stringValue, ids: ids, limit: limit)
                // Redriven rows go back into the outbox and are delivered in the background.
                return .json([
                    "redriven": .number(Double(result.redriven)), "delivered": 0, "enqueued": .number(Double(result.redriven)),
                    "failed": 0, "skipped": .number(Double(result.skipped)), "remaining": .number(Double(result.remaining)),
                ])
            }),
        ]
    }

    private static func allowedSessions(_ context: APIContext) -> [String]? {
        context.apiKey?.allowedSessions.flatMap { $0.isEmpty ? nil : $0 }
    }
}
