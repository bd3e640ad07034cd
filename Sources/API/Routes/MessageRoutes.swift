import Engines
import Foundation
import Reactor

/// `/api/sessions/:id/messages/*` (reference section 2.5): send-text here, the other sends in
/// `MessageSendRoutes`. The engine answers 501 when it cannot send.
package enum MessageRoutes {
    static let sendTextFields: Set<String> = ["chatId", "text", "mentions", "linkPreview", "customLinkPreview", "quotedMessageId"]

    package static func routes(sessions: SessionManager, idempotency: SendIdempotency? = nil) -> [Route] {
        let operatorScoped = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        return [
            Route("POST", "/api/sessions/:id/messages/send-text", access: operatorScoped, handler: .task { context in
                try await IdempotentSend.run(context, idempotency: idempotency, route: "send-text") {
                let body = try context.jsonObject(allowing: sendTextFields)
                var errors: [String] = []
                let chat = body["chatId"]?.stringValue ?? ""
                if chat.isEmpty { errors.append("chatId should not be empty") }
                let text = body["text"]?.stringValue ?? ""
                if text.isEmpty || text.count > 4_096 { errors.append("text must be between 1 and 4096 characters") }
                var options = MessageSendDTO(body)
                let mentions = options.mentions()
                let quoted = options.optional("quotedMessageId")
                errors += options.errors
                if !errors.isEmpty { throw APIError.validation(errors) }
                // A link preview built by the gateway is the native engine's (OpenWA: 501 on wwebjs).
                if body["customLinkPreview"] != nil && body["customLinkPreview"] != .null {
                    throw APIError.notImplemented("customLinkPreview is not supported by this gateway yet")
                }
                let message = OutgoingMessage(chatID: normalizedChat(chat), content: .text(text), quotedMessageID: quoted, mentions: mentions)
                return try await MessageSendRoutes.send(message, context: context, sessions: sessions)
                }
            })
        ]
    }

    /// A bare number is a person's chat (`<number>@c.us`), as OpenWA accepts it.
    static func normalizedChat(_ chat: String) -> String {
        chat.contains("@") ? chat : "\(chat)@c.us"
    }
}
