import Engines
import Foundation
import Reactor

/// `/api/sessions/:id/messages/*` (reference section 2.5). Only text sends so far; the engine
/// answers 501 when it cannot send.
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
                if !errors.isEmpty { throw APIError.validation(errors) }
                for option in ["mentions", "customLinkPreview", "quotedMessageId"] where body[option] != nil && body[option] != .null {
                    throw APIError.notImplemented("\(option) is not supported by this gateway yet")
                }
                let sent = try await sessions.sendText(id: context.parameter("id"), chatID: normalizedChat(chat), text: text)
                return .json(["messageId": .string(sent.messageID), "timestamp": .number(Double(sent.timestamp))], status: 201)
                }
            })
        ]
    }

    /// A bare number is a person's chat (`<number>@c.us`), as OpenWA accepts it.
    static func normalizedChat(_ chat: String) -> String {
        chat.contains("@") ? chat : "\(chat)@c.us"
    }
}
