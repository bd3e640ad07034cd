import Engines
import Foundation
import Reactor

/// `POST /api/sessions/:id/messages/send-bulk`, `GET …/messages/batch/:batchId` and
/// `POST …/messages/batch/:batchId/cancel` (reference 2.5): up to 100 messages sent one after
/// another in the background, with a pause between them, and their progress.
package enum BulkRoutes {
    package static func routes(bulk: BulkSender, sessions: SessionManager, maxMediaBytes: Int) -> [Route] {
        let access = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        @Sendable func session(_ context: APIContext) async throws -> String { try await context.existingSession(in: sessions) }
        return [
            Route("POST", "/api/sessions/:id/messages/send-bulk", access: access, handler: .task { context in
                let request = try BulkDTO.request(try context.jsonObject(allowing: BulkDTO.fields), maxMediaBytes: maxMediaBytes)
                let id = try await session(context)
                let batchId = try request.batchId ?? "batch_" + Crypto.hex(Crypto.randomBytes(8))
                let batch = try await bulk.submit(sessionId: id, batchId: batchId, items: request.items, options: request.options)
                return .json(
                    [
                        "batchId": .string(batch.batchId), "status": .string(batch.status.rawValue),
                        "totalMessages": .number(Double(batch.progress.total)),
                        "estimatedCompletionTime": ISODate.json(batch.estimatedCompletion),
                        "statusUrl": .string("/api/sessions/\(id)/messages/batch/\(batch.batchId)"),
                    ], status: 202)
            }),
            Route("GET", "/api/sessions/:id/messages/batch/:batchId", access: access, handler: .task { context in
                .json(json(try await bulk.get(sessionId: try await session(context), batchId: context.parameter("batchId"))))
            }),
            Route("POST", "/api/sessions/:id/messages/batch/:batchId/cancel", access: access, handler: .task { context in
                let batch = try await bulk.cancel(sessionId: try await session(context), batchId: context.parameter("batchId"))
                guard batch.status == .cancelled else {
                    throw APIError.badRequest("Batch '\(batch.batchId)' is already \(batch.status.rawValue)")
                }
                return .json(["batchId": .string(batch.batchId), "status": .string(batch.status.rawValue), "progress": progress(batch.progress)])
            }),
        ]
    }

    static func json(_ batch: BulkBatch) -> JSONValue {
        [
            "batchId": .string(batch.batchId), "status": .string(batch.status.rawValue), "progress": progress(batch.progress),
            "results": .array(batch.results.map(result)), "startedAt": ISODate.json(batch.startedAt),
            "completedAt": ISODate.json(batch.completedAt),
        ]
    }

    private static func progress(_ progress: BulkProgress) -> JSONValue {
        [
            "total": .number(Double(progress.total)), "sent": .number(Double(progress.sent)), "failed": .number(Double(progress.failed)),
            "pending": .number(Double(progress.pending)), "cancelled": .number(Double(progress.cancelled)),
        ]
    }

    private static func result(_ result: BulkResult) -> JSONValue {
        var members: [(String, JSONValue)] = [("chatId", .string(result.chatId)), ("status", .string(result.status))]
        if let id = result.messageId { members.append(("messageId", .string(id))) }
        if let sentAt = result.sentAt { members.append(("sentAt", ISODate.json(sentAt))) }
        if let error = result.error { members.append(("error", ["code": .string(error.code), "message": .string(error.message)])) }
        return .object(members)
    }
}
