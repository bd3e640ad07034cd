import Engines
import Foundation
import Reactor

/// `POST /api/sessions/:id/chats/archive|mute|pin|unread` (reference 2.4): the change goes to WhatsApp
/// as an app-state patch, and the chat list shows it once WhatsApp took it. Engines without app
/// state answer 501.
package enum ChatStateRoutes {
    /// WhatsApp keeps at most this many chats pinned.
    static let maxPinned = 3

    package static func routes(sessions: SessionManager, messages: MessageLedger) -> [Route] {
        [
            Route(
                "POST", "/api/sessions/:id/chats/archive", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["chatId", "archive"])
                    let (chat, archive) = try validated(body, flag: "archive")
                    try await sessions.chatStateOperations(id: context.parameter("id")).setArchived(chat, archived: archive)
                    return .json(["success": true])
                }),
            Route(
                "POST", "/api/sessions/:id/chats/pin", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["chatId", "pin"])
                    let (chat, pin) = try validated(body, flag: "pin")
                    let id = context.parameter("id")
                    let operations = try await sessions.chatStateOperations(id: id)
                    if pin {
                        let pinned = try await messages.pinnedChats(sessionID: id).filter { $0 != MessageRoutes.normalizedChat(chat) }
                        if pinned.count >= maxPinned { throw APIError.badRequest("You can only pin up to \(maxPinned) chats") }
                    }
                    try await operations.setPinned(chat, pinned: pin)
                    return .json(["success": true])
                }),
            Route(
                "POST", "/api/sessions/:id/chats/unread", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["chatId"])
                    let errors = chatErrors(body)
                    if !errors.isEmpty { throw APIError.validation(errors) }
                    let chat = body["chatId"]?.stringValue ?? ""
                    try await sessions.chatStateOperations(id: context.parameter("id")).markUnread(chat)
                    return .json(["success": true])
                }),
            Route(
                "POST", "/api/sessions/:id/chats/mute", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["chatId", "muteUntil"])
                    var errors = chatErrors(body)
                    var until: Int64?
                    switch body["muteUntil"] {
                    case .none:
                        errors.append("muteUntil must be a timestamp in milliseconds or null")
                    case .some(.null):
                        until = nil
                    case .some(let value):
                        if let number = value.numberValue, number >= 0, number == number.rounded(), number < 1e16 {
                            until = Int64(number)
                        } else {
                            errors.append("muteUntil must be a timestamp in milliseconds or null")
                        }
                    }
                    if !errors.isEmpty { throw APIError.validation(errors) }
                    let chat = body["chatId"]?.stringValue ?? ""
                    try await sessions.chatStateOperations(id: context.parameter("id")).setMuted(chat, until: until)
                    return .json(["success": true])
                }),
        ]
    }

    private static func chatErrors(_ body: JSONValue) -> [String] {
        let chat = body["chatId"]?.stringValue ?? ""
        if chat.isEmpty { return ["chatId should not be empty", "chatId must be a string"] }
        if chat.range(of: #"^[^\s@]+@[^\s@]+$"#, options: .regularExpression) == nil {
            return ["chatId must be a WhatsApp id such as 15551234567@c.us"]
        }
        return []
    }

    private static func validated(_ body: JSONValue, flag: String) throws -> (String, Bool) {
        var errors = chatErrors(body)
        let value = body[flag]?.boolValue
        if value == nil { errors.append("\(flag) must be a boolean value") }
        if !errors.isEmpty { throw APIError.validation(errors) }
        return (body["chatId"]?.stringValue ?? "", value ?? false)
    }
}
