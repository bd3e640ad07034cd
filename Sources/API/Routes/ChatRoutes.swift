import Engines
import Foundation
import Reactor

/// `/api/sessions/:id/chats` (reference 2.4): the chats the stored messages show with their
/// app state, marking one read, typing; archive, mute and pin are in `ChatStateRoutes`.
package enum ChatRoutes {
    static let readFields: Set<String> = ["chatId", "messageIds"]
    static let typingFields: Set<String> = ["chatId", "state"]

    package static func routes(sessions: SessionManager, messages: MessageLedger, archive: MediaArchive? = nil) -> [Route] {
        [
            Route(
                "GET", "/api/sessions/:id/chats", access: .key(minimum: .viewer, sessionParameter: "id"),
                handler: .task { context in
                    let id = context.parameter("id")
                    _ = try await sessions.get(id: id)
                    let page = try Pagination(context.query, defaultLimit: 100, maxLimit: 1_000)
                    return .json(try await messages.chats(sessionID: id, limit: page.limit, offset: page.offset))
                }),
            Route(
                "POST", "/api/sessions/:id/chats/read", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: readFields)
                    var errors: [String] = []
                    let chat = body["chatId"]?.stringValue ?? ""
                    if !chat.isEmpty, chat.range(of: #"^[^\s@]+@[^\s@]+$"#, options: .regularExpression) == nil {
                        errors.append("chatId must be a WhatsApp id such as 15551234567@c.us")
                    } else if chat.isEmpty {
                        errors.append("chatId should not be empty")
                    }
                    var ids: [String]?
                    if let list = body["messageIds"], list != .null {
                        let strings = list.arrayValue?.compactMap(\.stringValue) ?? []
                        if strings.isEmpty || strings.count > 100 || strings.count != list.arrayValue?.count {
                            errors.append("messageIds must contain 1 to 100 message ids")
                        }
                        ids = strings
                    }
                    if !errors.isEmpty { throw APIError.validation(errors) }
                    let done = try await sessions.markRead(id: context.parameter("id"), chatID: chat, messageIDs: ids)
                    return .json(["success": .bool(done)])
                }),
            Route(
                "POST", "/api/sessions/:id/chats/delete", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: ["chatId"])
                    let chat = body["chatId"]?.stringValue ?? ""
                    guard chat.range(of: #"^[^\s@]+@[^\s@]+$"#, options: .regularExpression) != nil else {
                        throw APIError.validation(["chatId must be a WhatsApp id such as 15551234567@c.us"])
                    }
                    let id = context.parameter("id")
                    _ = try await sessions.get(id: id)
                    try await messages.deleteChat(sessionID: id, chatID: chat, archive: archive)
                    return .json(["success": true])
                }),
            Route(
                "DELETE", "/api/sessions/:id/chats/:chatId/messages", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let id = context.parameter("id")
                    _ = try await sessions.get(id: id)
                    try await messages.deleteChat(
                        sessionID: id, chatID: MessageRoutes.normalizedChat(context.parameter("chatId")), archive: archive)
                    return .json(["success": true])
                }),
            Route(
                "POST", "/api/sessions/:id/chats/typing", access: .key(minimum: .operator, sessionParameter: "id"),
                handler: .task { context in
                    let body = try context.jsonObject(allowing: typingFields)
                    var errors: [String] = []
                    let chat = body["chatId"]?.stringValue ?? ""
                    if chat.range(of: #"^[^\s@]+@[^\s@]+$"#, options: .regularExpression) == nil {
                        errors.append("chatId must be a WhatsApp id such as 15551234567@c.us")
                    }
                    let state = body["state"]?.stringValue ?? ""
                    if !["typing", "recording", "paused"].contains(state) {
                        errors.append("state must be one of the following values: typing, recording, paused")
                    }
                    if !errors.isEmpty { throw APIError.validation(errors) }
                    try await sessions.sendChatState(id: context.parameter("id"), chatID: chat, state: state)
                    return .json(["success": true])
                }),
        ] + ChatStateRoutes.routes(sessions: sessions, messages: messages)
    }
}
