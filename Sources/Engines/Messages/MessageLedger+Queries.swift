import Foundation
import Persistence
import Reactor

/// The stored-message reads behind `GET /api/sessions/:id/messages` (reference 2.5).
extension MessageLedger {
    /// The filters the list route accepts.
    package struct ListFilter: Sendable, Equatable {
        package var chatID: String?
        package var direction: String?
        package var type: String?
        package var messageID: String?
        /// Epoch milliseconds, as OpenWA takes them: `since` inclusive, `until` exclusive.
        package var sinceMilliseconds: Int64?
        package var untilMilliseconds: Int64?

        package init(
            chatID: String? = nil, direction: String? = nil, type: String? = nil, messageID: String? = nil,
            sinceMilliseconds: Int64? = nil, untilMilliseconds: Int64? = nil
        ) {
            self.chatID = chatID
            self.direction = direction
            self.type = type
            self.messageID = messageID
            self.sinceMilliseconds = sinceMilliseconds
            self.untilMilliseconds = untilMilliseconds
        }
    }

    /// `{messages: Message[], total}`, newest first.
    package func list(sessionID: String, filter: ListFilter, limit: Int, offset: Int) async throws -> JSONValue {
        let page = try await store.list(
            sessionID: sessionID,
            query: MessageQuery(
                chatID: filter.chatID, direction: filter.direction, type: filter.type, messageID: filter.messageID,
                // Rows keep WhatsApp's seconds: a bound inside a second rounds up to the next one.
                since: filter.sinceMilliseconds.map { ($0 + 999) / 1000 }, until: filter.untilMilliseconds.map { ($0 + 999) / 1000 },
                limit: limit, offset: offset))
        return ["messages": .array(page.messages.map(Self.json)), "total": .number(Double(page.total))]
    }

    /// OpenWA's `ChatSummary[]` from the stored messages, most recent first.
    package func chats(sessionID: String, limit: Int, offset: Int) async throws -> JSONValue {
        let chats = try await store.chats(sessionID: sessionID, limit: limit, offset: offset)
        let states = try await chatStateStore.all(sessionID: sessionID)
        return .array(
            chats.map { chat in
                let state = states[chat.chatID] ?? ChatStateRecord()
                let isGroup = chat.chatID.hasSuffix("@g.us")
                let kind = isGroup ? "group" : chat.chatID == "status@broadcast" ? "status" : "individual"
                return [
                    "id": .string(chat.chatID), "name": .null, "isGroup": .bool(isGroup), "kind": .string(kind),
                    "unreadCount": .number(Double(chat.unread)),
                    "timestamp": chat.last.timestamp.map { .number(Double($0)) } ?? .null,
                    "lastMessage": chat.last.body.map(JSONValue.string) ?? .null, "lastMessageType": .string(chat.last.type),
                    "archived": .bool(state.archived), "pinned": .bool(state.pinned), "muted": .bool(state.muted),
                    "muteExpiration": state.muteExpiration.map { .number(Double($0)) } ?? .null,
                ]
            })
    }

    /// Deletes a chat's stored messages (OpenWA's `chats/delete` and `DELETE chats/:chatId/messages`)
    /// and then, with `archive`, their stored media.
    package func deleteChat(sessionID: String, chatID: String, archive: MediaArchive?) async throws {
        let paths = try await store.deleteChat(sessionID: sessionID, chatID: chatID)
        await archive?.discard(paths)
    }

    /// Forgets a deleted session's messages.
    package func forgetChatStates(sessionID: String) async throws {
        try await chatStateStore.deleteAll(sessionID: sessionID)
    }

    /// Forgets a deleted session: its messages, chat states and idempotency keys, then with
    /// `archive` the media of its messages.
    package func purge(sessionID: String, archive: MediaArchive?) async throws {
        let paths = try await store.purge(sessionID: sessionID)
        await archive?.discard(paths)
    }

    /// Purges each deleted session's data (reference 2.3: deleting a session deletes its
    /// messages and chat states).
    package func follow(_ bus: EventBus, archive: MediaArchive?) {
        bus.subscribe { [self] event in
            guard event.name == "session.deleted" else { return }
            let session = event.sessionID
            Task { try? await self.purge(sessionID: session, archive: archive) }
        }
    }

    package func updateChatState(sessionID: String, chatID: String, change: ChatStateChange) async throws {
        try await chatStateStore.update(sessionID: sessionID, chatID: chatID, change: change)
    }

    package func chatStates(sessionID: String) async throws -> [String: ChatStateRecord] {
        try await chatStateStore.all(sessionID: sessionID)
    }

    /// The session's pinned chats (OpenWA allows three).
    package func pinnedChats(sessionID: String) async throws -> [String] {
        try await chatStateStore.all(sessionID: sessionID).filter { $0.value.pinned }.keys.sorted()
    }

    /// OpenWA's stored `Message` shape.
    static func json(_ record: MessageRecord) -> JSONValue {
        let metadata = record.metadata.flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .null
        return [
            "id": .string(record.id), "sessionId": .string(record.sessionID),
            "waMessageId": record.waMessageID.map(JSONValue.string) ?? .null, "chatId": .string(record.chatID),
            "from": record.from.map(JSONValue.string) ?? .null, "to": record.to.map(JSONValue.string) ?? .null,
            "chatName": .null, "author": record.author.map(JSONValue.string) ?? .null,
            "body": record.body.map(JSONValue.string) ?? .null, "type": .string(record.type),
            "direction": .string(record.direction), "timestamp": record.timestamp.map { .number(Double($0)) } ?? .null,
            "metadata": metadata, "mediaPath": record.mediaPath.map(JSONValue.string) ?? .null,
            "mediaMimetype": record.mediaMimetype.map(JSONValue.string) ?? .null, "status": .string(record.status),
            "createdAt": .string(ISOTimestamp.format(record.createdAt)),
        ]
    }
}
