import Engines
import Foundation
import Reactor

/// `GET /api/sessions/:id/messages` (reference 2.5): the stored messages of a session, newest
/// first, filtered by chat, direction, type or WhatsApp id; a read of the database and, for the
/// stored media it puts inline (`inlineMedia`, default true, within a per-response budget), of
/// media storage.
package enum MessageListRoutes {
    static let queryFields: Set<String> = [
        "chatId", "limit", "offset", "direction", "type", "messageId", "inlineMedia", "since", "until",
    ]

    package static func routes(messages: MessageLedger, sessions: SessionManager, archive: MediaArchive) -> [Route] {
        [
            Route(
                "GET", "/api/sessions/:id/messages", access: .key(minimum: .viewer, sessionParameter: "id"),
                handler: .task { context in
                    let sessionID = context.parameter("id")
                    _ = try await sessions.get(id: sessionID)
                    let filter = try self.filter(context)
                    let inline = try inlineMedia(context)
                    let page = try Pagination(context.query, defaultLimit: 50, maxLimit: 100)
                    let list = try await messages.list(sessionID: sessionID, filter: filter, limit: page.limit, offset: page.offset)
                    let listed = await archive.inliningMedia(of: list, inline: inline)
                    guard let serialized = listed.serialized else { return .json(listed.value) }
                    return .bytes(serialized, contentType: "application/json; charset=utf-8")
                }),
            // The reactions kept on a stored message (anyone's latest emoji; ours once WhatsApp took it).
            Route(
                "GET", "/api/sessions/:id/messages/:chatId/:messageId/reactions",
                access: .key(minimum: .viewer, sessionParameter: "id"),
                handler: .task { context in
                    let path = try await MessageRoutes.messagePath(context, sessions: sessions)
                    guard let reactions = try await messages.reactions(sessionID: path.sessionID, chatID: path.chatID, messageID: path.messageID)
                    else { throw APIError.notFound("Message \(path.messageID) not found in \(path.chatID)") }
                    return .json(reactions)
                }),
        ]
    }

    /// `inlineMedia`: true unless `false` (or `0`).
    static func inlineMedia(_ context: APIContext) throws(APIError) -> Bool {
        guard let value = context.query.last(where: { $0.0 == "inlineMedia" })?.1 else { return true }
        switch value.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw .validation(["inlineMedia must be a boolean value"])
        }
    }

    static func filter(_ context: APIContext) throws(APIError) -> MessageLedger.ListFilter {
        let items = context.query
        var errors = items.map(\.0).filter { !queryFields.contains($0) }.map { "property \($0) should not exist" }
        func single(_ name: String) -> String? { items.last { $0.0 == name }?.1 }
        let direction = single("direction")
        if let direction, !["incoming", "outgoing"].contains(direction) {
            errors.append("direction must be one of the following values: incoming, outgoing")
        }
        if let limit = single("limit"), Int(limit) == nil { errors.append("limit must be an integer number") }
        if let offset = single("offset"), Int(offset) == nil { errors.append("offset must be an integer number") }
        let since = single("since").map { Int64($0) }
        let until = single("until").map { Int64($0) }
        if since == .some(nil) { errors.append("since must be epoch milliseconds") }
        if until == .some(nil) { errors.append("until must be epoch milliseconds") }
        if !errors.isEmpty { throw .validation(errors) }
        return MessageLedger.ListFilter(
            chatID: single("chatId").map(MessageRoutes.normalizedChat), direction: direction, type: single("type"),
            messageID: single("messageId"), sinceMilliseconds: since ?? nil, untilMilliseconds: until ?? nil)
    }
}
