import Engines
import Foundation
import Reactor

/// What can be done to a message already sent or received (reference 2.5): forward it to
/// another chat, delete it (for everyone or only here), edit our own, vote on a poll, star it, pin
/// it. All need
/// an operator key; an engine that cannot do it answers 501.
package enum MessageActionRoutes {
    static let forwardFields: Set<String> = ["fromChatId", "toChatId", "messageId"]
    static let deleteFields: Set<String> = ["chatId", "messageId", "forEveryone"]
    static let editFields: Set<String> = ["chatId", "messageId", "body", "mentions"]
    static let voteFields: Set<String> = ["chatId", "pollMessageId", "options"]

    package static func routes(sessions: SessionManager, idempotency: SendIdempotency? = nil) -> [Route] {
        let access = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        return [
            Route("POST", "/api/sessions/:id/messages/forward", access: access, handler: .task { context in
                try await IdempotentSend.run(context, idempotency: idempotency, route: "forward") {
                    var dto = MessageSendDTO(try context.jsonObject(allowing: forwardFields))
                    let from = dto.required("fromChatId")
                    let to = dto.required("toChatId")
                    let messageID = dto.required("messageId")
                    try dto.validate()
                    let sent = try await sessions.forward(
                        id: context.parameter("id"), fromChatID: MessageRoutes.normalizedChat(from),
                        toChatID: MessageRoutes.normalizedChat(to), messageID: messageID)
                    return .json(["messageId": .string(sent.messageID), "timestamp": .number(Double(sent.timestamp))], status: 201)
                }
            }),
            Route("POST", "/api/sessions/:id/messages/delete", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: deleteFields))
                let chat = dto.required("chatId")
                let messageID = dto.required("messageId")
                let forEveryone = dto.flag("forEveryone") ?? true
                try dto.validate()
                try await sessions.deleteMessage(
                    id: context.parameter("id"), chatID: MessageRoutes.normalizedChat(chat), messageID: messageID,
                    forEveryone: forEveryone)
                return .json(["success": true])
            }),
            Route("POST", "/api/sessions/:id/messages/star", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: ["chatId", "messageId", "star"]))
                let chat = dto.required("chatId")
                let messageID = dto.required("messageId")
                let star = dto.flag("star")
                try dto.validate()
                guard let star else { throw APIError.validation(["star must be a boolean value"]) }
                try await sessions.chatStateOperations(id: context.parameter("id"))
                    .starMessage(chatID: MessageRoutes.normalizedChat(chat), messageID: messageID, starred: star)
                return .json(["success": true])
            }),
            Route("POST", "/api/sessions/:id/messages/pin", access: access, handler: .task { context in
                try await pin(context, sessions: sessions, pinning: true)
            }),
            Route("POST", "/api/sessions/:id/messages/unpin", access: access, handler: .task { context in
                try await pin(context, sessions: sessions, pinning: false)
            }),
            Route("POST", "/api/sessions/:id/messages/edit", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: editFields))
                let chat = dto.required("chatId")
                let messageID = dto.required("messageId")
                let body = dto.required("body", max: 4_096)
                let mentions = dto.mentions()
                try dto.validate()
                let edited = try await sessions.editMessage(
                    id: context.parameter("id"), chatID: MessageRoutes.normalizedChat(chat), messageID: messageID, body: body,
                    mentions: mentions)
                return .json(["messageId": .string(edited.messageID), "timestamp": .number(Double(edited.timestamp))])
            }),
            Route("POST", "/api/sessions/:id/messages/vote-poll", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: voteFields))
                let chat = dto.required("chatId")
                let pollID = dto.required("pollMessageId")
                let options = voteOptions(dto.body["options"])
                try dto.validate()
                guard let options else { throw APIError.validation(["options must be an array of at most 12 strings"]) }
                let outcome = try await sessions.votePoll(
                    id: context.parameter("id"), chatID: MessageRoutes.normalizedChat(chat), pollMessageID: pollID, options: options)
                switch outcome {
                case .voted:
                    return .json(["success": true])
                case .unknownOptions(let valid):
                    var error = APIError(
                        status: 400, message: "Poll option not found", code: "POLL_OPTION_NOT_FOUND")
                    error.details = [("validOptions", .array(valid.map(JSONValue.string)))]
                    throw error
                }
            }),
        ]
    }

    /// `pin {chatId, messageId, durationSeconds? (a day by default, a week or 30 days)}` and
    /// `unpin {chatId, messageId}`.
    private static func pin(_ context: APIContext, sessions: SessionManager, pinning: Bool) async throws -> APIResponse {
        let fields: Set<String> = pinning ? ["chatId", "messageId", "durationSeconds"] : ["chatId", "messageId"]
        var dto = MessageSendDTO(try context.jsonObject(allowing: fields))
        let chat = dto.required("chatId")
        let messageID = dto.required("messageId")
        var errors = dto.errors
        var seconds = 86_400
        if let value = dto.body["durationSeconds"], value != .null {
            let allowed = [86_400, 604_800, 2_592_000]
            if let number = value.intValue, allowed.contains(number) {
                seconds = number
            } else {
                errors.append("durationSeconds must be one of the following values: 86400, 604800, 2592000")
            }
        }
        if !errors.isEmpty { throw APIError.validation(errors) }
        try await sessions.pinMessage(
            id: context.parameter("id"), chatID: MessageRoutes.normalizedChat(chat), messageID: messageID, pin: pinning,
            seconds: seconds)
        return .json(["success": true])
    }

    /// A vote's option texts: an array of at most 12 strings (empty withdraws the vote).
    static func voteOptions(_ value: JSONValue?) -> [String]? {
        guard let list = value?.arrayValue, list.count <= 12 else { return nil }
        let texts = list.compactMap(\.stringValue)
        return texts.count == list.count ? texts : nil
    }
}
