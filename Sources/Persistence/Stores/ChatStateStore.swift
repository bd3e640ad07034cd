import Foundation
import Reactor

/// What the account's app state says of one chat (OpenWA's `chat_states` row).
package struct ChatStateRecord: Sendable, Equatable {
    package var archived = false
    package var pinned = false
    package var muted = false
    /// Milliseconds since the epoch, 0 for ever; nil when not muted.
    package var muteExpiration: Int64?

    package init(archived: Bool = false, pinned: Bool = false, muted: Bool = false, muteExpiration: Int64? = nil) {
        self.archived = archived
        self.pinned = pinned
        self.muted = muted
        self.muteExpiration = muteExpiration
    }
}

/// A change of some of a chat's state; fields left nil keep what is stored.
package struct ChatStateChange: Sendable, Equatable {
    package var archived: Bool?
    package var pinned: Bool?
    /// `.some(nil)` unmutes; `.some(ms)` mutes until then (0 = for ever).
    package var mute: Int64??

    package init(archived: Bool? = nil, pinned: Bool? = nil, mute: Int64?? = nil) {
        self.archived = archived
        self.pinned = pinned
        self.mute = mute
    }

    package func applied(to record: ChatStateRecord) -> ChatStateRecord {
        var next = record
        if let archived { next.archived = archived }
        if let pinned { next.pinned = pinned }
        if let mute {
            next.muted = mute != nil
            next.muteExpiration = mute
        }
        return next
    }
}

/// The `chat_states` table: one row per (session, chat) that app state has touched.
package struct SQLChatStateStore: Sendable {
    let database: any SQLDatabase

    package init(database: any SQLDatabase) { self.database = database }

    /// Applies `change` to the chat's row (made when missing) in one transaction.
    package func update(sessionID: String, chatID: String, change: ChatStateChange) async throws {
        try await database.withTransaction { transaction in
            let rows = try await transaction.query(
                #"SELECT "archived", "pinned", "muted", "muteExpiration" FROM chat_states WHERE "sessionId" = $1 AND "chatId" = $2"#,
                [.text(sessionID), .text(chatID)])
            let current = rows.first.map(Self.record) ?? ChatStateRecord()
            let next = change.applied(to: current)
            try await transaction.execute(
                """
                INSERT INTO chat_states ("sessionId", "chatId", "archived", "pinned", "muted", "muteExpiration", "updatedAt") \
                VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ("sessionId", "chatId") DO UPDATE SET \
                "archived" = excluded."archived", "pinned" = excluded."pinned", "muted" = excluded."muted", \
                "muteExpiration" = excluded."muteExpiration", "updatedAt" = excluded."updatedAt"
                """,
                [
                    .text(sessionID), .text(chatID), SQLValue(next.archived), SQLValue(next.pinned), SQLValue(next.muted),
                    next.muteExpiration.map(SQLValue.integer) ?? .null, .text(ISOTimestamp.format(Date())),
                ])
        }
    }

    /// Every chat state of the session, by chat id.
    package func all(sessionID: String) async throws -> [String: ChatStateRecord] {
        let rows = try await database.query(
            #"SELECT "chatId", "archived", "pinned", "muted", "muteExpiration" FROM chat_states WHERE "sessionId" = $1"#,
            [.text(sessionID)])
        var states: [String: ChatStateRecord] = [:]
        for row in rows {
            guard let chat = row.string("chatId") else { continue }
            states[chat] = Self.record(row)
        }
        return states
    }

    /// Removes the session's chat states (session deletion).
    package func deleteAll(sessionID: String) async throws {
        try await database.execute(#"DELETE FROM chat_states WHERE "sessionId" = $1"#, [.text(sessionID)])
    }

    private static func record(_ row: SQLRow) -> ChatStateRecord {
        ChatStateRecord(
            archived: row.bool("archived") ?? false, pinned: row.bool("pinned") ?? false, muted: row.bool("muted") ?? false,
            muteExpiration: row.int("muteExpiration"))
    }
}
