import Engines
import Foundation
import Reactor

/// `/api/sessions/:id/presence…` (reference 2.3): our availability, subscriptions to contacts,
/// and the last presence seen in a chat (updates also arrive as `presence.update`).
package enum PresenceRoutes {
    static let chatPattern = #"^[^\s@]+@[^\s@]+$"#

    package static func routes(sessions: SessionManager) -> [Route] {
        [
            Route(
                "POST", "/api/sessions/:id/presence/subscribe", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["chatId"])
                    let chat = body["chatId"]?.stringValue ?? ""
                    guard chat.range(of: chatPattern, options: .regularExpression) != nil else {
                        throw APIError.validation(["chatId must be a WhatsApp id such as 15551234567@c.us"])
                    }
                    try await sessions.presenceOperations(id: context.parameter("id")).subscribePresence(chatID: chat)
                    return .json(["success": true])
                }),
            Route(
                "PUT", "/api/sessions/:id/presence", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["available"])
                    guard let available = body["available"]?.boolValue else {
                        throw APIError.validation(["available must be a boolean value"])
                    }
                    try await sessions.presenceOperations(id: context.parameter("id")).setAvailable(available)
                    return .json(["success": true])
                }),
            Route(
                "GET", "/api/sessions/:id/presence/:chatId", access: .key(minimum: .viewer, sessionParameter: "id"),
                handler: .task { context in
                    let chat = context.parameter("chatId")
                    guard chat.range(of: chatPattern, options: .regularExpression) != nil else {
                        throw APIError.validation(["chatId must be a WhatsApp id such as 15551234567@c.us"])
                    }
                    let operations = try await sessions.presenceOperations(id: context.parameter("id"))
                    guard let snapshot = await operations.presence(chatID: chat) else { return .json(.null) }
                    return .json(
                        [
                            "chatId": .string(snapshot.chatID), "participants": snapshot.participantsJSON,
                            "observedAt": ISODate.json(snapshot.observedAt),
                        ])
                }),
        ]
    }
}
