import Engines
import Foundation
import Reactor

/// OpenWA's `Idempotency-Key` header on single sends (reference 2.5): the first response is kept
/// for 24 hours and replayed, with `Idempotent-Replayed: true`, to a retry with the same key,
/// route and body, so a client that lost the answer can ask again without sending twice.
package enum IdempotentSend {
    /// Runs `send` once per key. Without the header (or without a store) it simply runs.
    static func run(
        _ context: APIContext, idempotency: SendIdempotency?, route: String,
        _ send: () async throws -> APIResponse
    ) async throws -> APIResponse {
        let values = context.request.head.headers.values("idempotency-key")
        guard let idempotency, !values.isEmpty else { return try await send() }
        guard values.count == 1, let key = values.first, (1...255).contains(key.utf8.count),
            key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw APIError(
                status: 400, message: "Idempotency-Key must be one value of 1 to 255 visible ASCII characters",
                code: "IDEMPOTENCY_KEY_INVALID")
        }
        let sessionID = context.parameter("id")
        switch try await idempotency.claim(sessionID: sessionID, key: key, route: route, body: context.request.body) {
        case .claimed: break
        case .replay(let status, let body):
            var response = APIResponse(status: status, body: (try? JSONParser.parse(Array(body.utf8))) ?? .null)
            response.headers.add("Idempotent-Replayed", "true")
            return response
        case .inProgress:
            throw APIError(status: 409, message: "A send with this Idempotency-Key is still running", code: "IDEMPOTENCY_KEY_IN_PROGRESS")
        case .outcomeUnknown:
            throw APIError(
                status: 409, message: "The outcome of the send with this Idempotency-Key is unknown",
                code: "IDEMPOTENCY_OUTCOME_UNKNOWN")
        case .reused:
            throw APIError(
                status: 422, message: "This Idempotency-Key was used for another request", code: "IDEMPOTENCY_KEY_REUSED")
        }
        do {
            let response = try await send()
            let body = response.body.map { String(decoding: JSONWriter.bytes($0), as: UTF8.self) } ?? "{}"
            try await idempotency.finish(sessionID: sessionID, key: key, status: response.status, body: body)
            return response
        } catch {
            // Refused before anything went out (validation, not ready, unknown number, 501):
            // the key is free again. Anything else may have reached WhatsApp.
            if Self.refusedBeforeSending(error) {
                try? await idempotency.release(sessionID: sessionID, key: key)
            } else {
                try? await idempotency.markUnknown(sessionID: sessionID, key: key)
            }
            throw error
        }
    }

    static func refusedBeforeSending(_ error: any Error) -> Bool {
        if let error = error as? APIError { return error.status < 500 || error.status == 501 }
        if let error = error as? EngineError { return error.kind != .unavailable }
        return false
    }
}
