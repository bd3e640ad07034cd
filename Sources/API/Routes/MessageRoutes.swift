import Engines
import Foundation
import Reactor

/// `/api/sessions/:id/messages/*` (reference section 2.5): send-text here, the other sends in
/// `MessageSendRoutes`. The engine answers 501 when it cannot send. A link preview never fails
/// a send: one that cannot be fetched is left out.
package enum MessageRoutes {
    static let sendTextFields: Set<String> = ["chatId", "text", "mentions", "linkPreview", "customLinkPreview", "quotedMessageId"]

    package static func routes(
        sessions: SessionManager, previews: LinkPreviewFetcher? = nil, idempotency: SendIdempotency? = nil,
        typing: TypingSimulation = TypingSimulation(enabled: false)
    ) -> [Route] {
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
                let wantsPreview = options.flag("linkPreview") ?? false
                let custom = options.customLinkPreview()
                errors += options.errors
                if !errors.isEmpty { throw APIError.validation(errors) }
                var message = OutgoingMessage(
                    chatID: normalizedChat(chat), content: .text(text), quotedMessageID: quoted, mentions: mentions)
                message.linkPreview = try await linkPreview(
                    for: text, wanted: wantsPreview, custom: custom, previews: previews, sessions: sessions)
                await typing.type(text, chatID: message.chatID, sessionID: context.parameter("id"), sessions: sessions)
                return try await MessageSendRoutes.send(message, context: context, sessions: sessions)
                }
            })
        ]
    }

    /// The caller's own preview, or (`linkPreview: true`) one the gateway fetches for the first
    /// link of `text`. WhatsApp Web builds its own previews in the page, so the browser engine
    /// gets nothing fetched, and refuses a custom preview itself (501).
    static func linkPreview(
        for text: String, wanted: Bool, custom: OutgoingLinkPreview?, previews: LinkPreviewFetcher?, sessions: SessionManager
    ) async throws -> OutgoingLinkPreview? {
        if let custom { return custom }
        guard wanted, let previews, sessions.engineType == .native else { return nil }
        return await previews.preview(for: text)
    }

    /// A bare number is a person's chat (`<number>@c.us`), as OpenWA accepts it.
    static func normalizedChat(_ chat: String) -> String {
        // A byte test: `String.contains` with Foundation in scope is a CFString search per send.
        chat.utf8.contains(UInt8(ascii: "@")) ? chat : "\(chat)@c.us"
    }

    /// The stored message a `…/messages/:chatId/:messageId/…` path names, once its session is
    /// known to exist (404 otherwise).
    struct MessagePath {
        let sessionID: String
        let chatID: String
        let messageID: String
    }

    static func messagePath(_ context: APIContext, sessions: SessionManager) async throws -> MessagePath {
        let sessionID = context.parameter("id")
        _ = try await sessions.get(id: sessionID)
        return MessagePath(
            sessionID: sessionID, chatID: normalizedChat(context.parameter("chatId")), messageID: context.parameter("messageId"))
    }
}
