import Engines
import Foundation
import Reactor

/// The message routes of reference 2.5 that no engine here serves yet. They exist so a client
/// gets OpenWA's 501 body (after the usual key and session checks) rather than a 404 that reads
/// like a wrong path:
/// - `GET …/messages/:chatId/history` reads a chat live from WhatsApp (OpenWA: WhatsApp Web only);
///   stored messages are on `GET …/messages?chatId=`.
/// - `POST …/messages/click-button` answers an interactive message; received buttons are not
///   decoded here, so there is nothing to click.
/// - `POST …/messages/send-product` and the older `send-catalog` need a WhatsApp Business catalog.
package enum MessageGapRoutes {
    package static func routes(sessions: SessionManager) -> [Route] {
        let reader = RouteAccess.key(minimum: .viewer, sessionParameter: "id")
        let writer = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        let gaps: [(method: String, path: String, access: RouteAccess, message: String)] = [
            ("GET", "/api/sessions/:id/messages/:chatId/history", reader, "Live chat history is not supported by this engine"),
            ("POST", "/api/sessions/:id/messages/click-button", writer, "Buttons are not supported by this engine"),
            ("POST", "/api/sessions/:id/messages/send-product", writer, "Product messages are not supported by this engine"),
            ("POST", "/api/sessions/:id/messages/send-catalog", writer, "Catalog messages are not supported by any engine"),
        ]
        return gaps.map { gap in
            Route(gap.method, gap.path, access: gap.access, handler: .task { context in
                _ = try await context.existingSession(in: sessions)
                throw APIError.notImplemented(gap.message)
            })
        }
    }
}
