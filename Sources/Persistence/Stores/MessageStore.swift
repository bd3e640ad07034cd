import Foundation
import Reactor

/// One row of OpenWA's `messages` table (reference 2.5, "Stored Message row").
package struct MessageRecord: Sendable, Equatable {
    package var id: String
    package var sessionID: String
    /// WhatsApp's message id; unique per session, which deduplicates redelivered messages.
    package var waMessageID: String?
    package var chatID: String
    package var from: String?
    package var to: String?
    package var author: String?
    package var body: String?
    package var type: String
    /// `incoming` or `outgoing`.
    package var direction: String
    /// WhatsApp's time, Unix seconds.
    package var timestamp: Int64?
    /// A JSON object (media, quoted message, reactions…), as text.
    package var metadata: String?
    /// `pending`, `sent`, `delivered`, `read` or `failed`.
    package var status: String
    package var createdAt: Date
    /// Where the media's bytes are stored, once downloaded (set by the media archive, not on insert).
    package var mediaPath: String?
    package var mediaMimetype: String?

    package init(
        id: String = TimeOrderedID.next(), sessionID: String, waMessageID: String?, chatID: String, from: String?,
        to: String?, author: String? = nil, body: String?, type: String, direction: String, timestamp: Int64?,
        metadata: String? = nil, status: String, createdAt: Date = Date()
    ) {
        self.id = id
        self.sessionID = sessionID
        self.waMessageID = waMessageID
        self.chatID = chatID
        self.from = from
        self.to = to
        self.author = author
        self.body = body
        self.type = type
        self.direction = direction
        self.timestamp = timestamp
        self.metadata = metadata
        self.status = status
        self.createdAt = createdAt
    }
}

/// What the list route filters on (OpenWA's `GET …/messages` query).
package struct MessageQuery: Sendable, Equatable {
    package var chatID: String?
    package var direction: String?
    package var type: String?
    package var messageID: String?
    /// WhatsApp time bounds, Unix seconds: `since` inclusive, `until` exclusive.
    package var since: Int64?
    package var until: Int64?
    package var limit: Int
    package var offset: Int

    package init(
        chatID: String? = nil, direction: String? = nil, type: String? = nil, messageID: String? = nil, since: Int64? = nil,
        until: Int64? = nil, limit: Int = 50, offset: Int = 0
    ) {
        self.chatID = chatID
        self.direction = direction
        self.type = type
        self.messageID = messageID
        self.since = since
        self.until = until
        self.limit = limit
        self.offset = offset
    }
}

/// The `messages` table of the data database.
package struct SQLMessageStore: Sendable {
    package let database: any SQLDatabase

    package init(database: any SQLDatabase) {
        self.database = database
    }

    static let columns =
        #""id", "sessionId", "waMessageId", "chatId", "from", "to", "author", "body", "type", "direction", "timestamp", "metadata", "status", "createdAt""#
    /// What reads return: the inserted columns and the media ones the archive fills in later.
    static let readColumns = columns + #", "mediaPath", "mediaMimetype""#

    /// Inserts `record` inside `transaction` unless the session already has a row with its
    /// WhatsApp id; true when the row is new.
    package static func insert(_ record: MessageRecord, in transaction: any AsyncSQLTransaction) async throws -> Bool {
        let placeholders = (1...14).map { "$\($0)" }.joined(separator: ", ")
        let inserted = try await transaction.execute(
            "INSERT INTO messages (\(columns)) VALUES (\(placeholders)) ON CONFLICT (\"sessionId\", \"waMessageId\") DO NOTHING",
            values(record))
        return inserted > 0
    }

    /// A message deleted for everyone: its content goes, the row stays as `revoked`.
    @discardableResult
    package static func revoke(sessionID: String, waMessageID: String, in transaction: any AsyncSQLTransaction) async throws -> Bool {
        try await transaction.execute(
            #"UPDATE messages SET "type" = 'revoked', "body" = NULL, "metadata" = NULL WHERE "sessionId" = $1 AND "waMessageId" = $2"#,
            [.text(sessionID), .text(waMessageID)]) > 0
    }

    /// A voter's current choice on a stored poll: `metadata.poll.votes[voter]` (an empty list
    /// withdraws the vote). False when the poll is not stored.
    @discardableResult
    package static func recordVote(
        sessionID: String, pollID: String, voter: String, options: [String], in transaction: any AsyncSQLTransaction
    ) async throws -> Bool {
        // Locked: two changes of one row's metadata (a vote and a reaction) must not both read the old JSON.
        let rows = try await transaction.query(
            #"SELECT "metadata" FROM messages WHERE "sessionId" = $1 AND "waMessageId" = $2"# + transaction.dialect.lockForUpdateSuffix,
            [.text(sessionID), .text(pollID)])
        guard let row = rows.first else { return false }
        var metadata = row.string("metadata").flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .object([])
        var poll = metadata["poll"] ?? .object([])
        var votes = poll["votes"] ?? .object([])
        votes = votes.setting(voter, .array(options.map(JSONValue.string)))
        poll = poll.setting("votes", votes)
        metadata = metadata.setting("poll", poll)
        return try await transaction.execute(
            #"UPDATE messages SET "metadata" = $3 WHERE "sessionId" = $1 AND "waMessageId" = $2"#,
            [.text(sessionID), .text(pollID), .text(JSONWriter.string(metadata))]) > 0
    }

    /// A reaction on a stored message: `metadata.reactions` keeps each reactor's latest emoji
    /// (`{senderId, emoji, timestamp}`, an empty emoji removes it). False when the message is not stored.
    @discardableResult
    package static func recordReaction(
        sessionID: String, messageID: String, sender: String, emoji: String, timestamp: Int, in transaction: any AsyncSQLTransaction
    ) async throws -> Bool {
        guard let metadata = try await metadata(sessionID: sessionID, messageID: messageID, in: transaction) else { return false }
        var reactions = (metadata["reactions"]?.arrayValue ?? []).filter { $0["senderId"]?.stringValue != sender }
        if !emoji.isEmpty {
            reactions.append(["senderId": .string(sender), "emoji": .string(emoji), "timestamp": .number(Double(timestamp))])
        }
        return try await transaction.execute(
            #"UPDATE messages SET "metadata" = $3 WHERE "sessionId" = $1 AND "waMessageId" = $2"#,
            [.text(sessionID), .text(messageID), .text(JSONWriter.string(metadata.setting("reactions", .array(reactions))))]) > 0
    }

    /// Sets (or with nil removes) one member of a message's metadata; false when the session has
    /// no such message, or it was revoked.
    @discardableResult
    package static func setMetadata(
        sessionID: String, messageID: String, key: String, value: JSONValue?, in transaction: any AsyncSQLTransaction
    ) async throws -> Bool {
        guard let metadata = try await metadata(sessionID: sessionID, messageID: messageID, in: transaction) else { return false }
        let updated: JSONValue
        if let value {
            updated = metadata.setting(key, value)
        } else if case .object(let members) = metadata {
            updated = .object(members.filter { $0.0 != key })
        } else {
            updated = metadata
        }
        return try await transaction.execute(
            #"UPDATE messages SET "metadata" = $3 WHERE "sessionId" = $1 AND "waMessageId" = $2"#,
            [.text(sessionID), .text(messageID), .text(JSONWriter.string(updated))]) > 0
    }

    /// A stored, not revoked message's metadata (an empty object when it has none); nil when
    /// there is no such message.
    private static func metadata(sessionID: String, messageID: String, in transaction: any AsyncSQLTransaction) async throws
        -> JSONValue?
    {
        // Locked until the transaction ends: the caller writes the changed JSON back.
        let rows = try await transaction.query(
            #"SELECT "metadata" FROM messages WHERE "sessionId" = $1 AND "waMessageId" = $2 AND "type" <> 'revoked'"#
                + transaction.dialect.lockForUpdateSuffix,
            [.text(sessionID), .text(messageID)])
        guard let row = rows.first else { return nil }
        return row.string("metadata").flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .object([])
    }

    /// A message whose text the sender edited.
    @discardableResult
    package static func edit(
        sessionID: String, waMessageID: String, body: String, in transaction: any AsyncSQLTransaction
    ) async throws -> Bool {
        try await transaction.execute(
            #"UPDATE messages SET "body" = $3 WHERE "sessionId" = $1 AND "waMessageId" = $2 AND "type" <> 'revoked'"#,
            [.text(sessionID), .text(waMessageID), .text(body)]) > 0
    }

    /// Moves the status of the session's messages `waMessageIDs` forward to `status` (a late
    /// receipt never moves it back); returns the ids whose status changed.
    package func advance(sessionID: String, waMessageIDs: [String], to status: String) async throws -> [String] {
        guard let rank = Self.statusRank[status], !waMessageIDs.isEmpty else { return [] }
        // A message a device already received cannot fail any more: a later error ack (of a
        // resend after a retry receipt, say) leaves it delivered or read.
        let lower = status == "failed" ? ["pending", "sent"] : Self.statusRank.filter { $0.value < rank }.map(\.key)
        guard !lower.isEmpty else { return [] }
        var binds: [SQLValue] = [.text(status), .text(sessionID)]
        let idList = waMessageIDs.map { id -> String in
            binds.append(.text(id))
            return "$\(binds.count)"
        }.joined(separator: ", ")
        let statusList = lower.map { value -> String in
            binds.append(.text(value))
            return "$\(binds.count)"
        }.joined(separator: ", ")
        let rows = try await database.query(
            """
            UPDATE messages SET "status" = $1 WHERE "sessionId" = $2 AND "waMessageId" IN (\(idList))
            AND "status" IN (\(statusList)) RETURNING "waMessageId"
            """, binds)
        return rows.compactMap { $0.string("waMessageId") }
    }

    /// A page of the session's messages, newest first, with the total that matches.
    package func list(sessionID: String, query: MessageQuery) async throws -> (messages: [MessageRecord], total: Int) {
        var conditions = [#""sessionId" = $1"#]
        var binds: [SQLValue] = [.text(sessionID)]
        for (column, value) in [("chatId", query.chatID), ("direction", query.direction), ("type", query.type), ("waMessageId", query.messageID)] {
            guard let value else { continue }
            binds.append(.text(value))
            conditions.append("\"\(column)\" = $\(binds.count)")
        }
        for (operation, bound) in [(">=", query.since), ("<", query.until)] {
            guard let bound else { continue }
            binds.append(.integer(bound))
            conditions.append("\"timestamp\" \(operation) $\(binds.count)")
        }
        let filter = conditions.joined(separator: " AND ")
        let total = try await database.query("SELECT COUNT(*) AS n FROM messages WHERE \(filter)", binds).first?.int("n") ?? 0
        let page = binds + [.integer(Int64(query.limit)), .integer(Int64(query.offset))]
        let rows = try await database.query(
            """
            SELECT \(Self.readColumns) FROM messages WHERE \(filter)
            ORDER BY "createdAt" DESC, "id" DESC LIMIT $\(binds.count + 1) OFFSET $\(binds.count + 2)
            """, page)
        return (try rows.map(Self.record), Int(total))
    }

    /// One chat of the session as its stored messages show it.
    package struct ChatSummary: Sendable, Equatable {
        package var chatID: String
        package var unread: Int
        package var last: MessageRecord
    }

    /// The session's chats, most recent first: each with its newest message and how many incoming
    /// messages are not read yet. One statement: the page of chats, each joined to its newest row
    /// through the (session, chat, createdAt) index.
    package func chats(sessionID: String, limit: Int, offset: Int) async throws -> [ChatSummary] {
        let qualified = Self.readColumns.split(separator: ",").map { "newest." + $0.trimmingCharacters(in: .whitespaces) }
        let rows = try await database.query(
            """
            WITH page AS (
                SELECT "chatId", MAX("createdAt") AS "lastAt",
                    SUM(CASE WHEN "direction" = 'incoming' AND "status" <> 'read' AND "type" <> 'revoked' THEN 1 ELSE 0 END) AS "unread"
                FROM messages WHERE "sessionId" = $1 GROUP BY "chatId" ORDER BY "lastAt" DESC, "chatId" LIMIT $2 OFFSET $3
            )
            SELECT \(qualified.joined(separator: ", ")), page."unread" AS "chatUnread"
            FROM page JOIN messages newest ON newest."id" = (
                SELECT "id" FROM messages WHERE "sessionId" = $1 AND "chatId" = page."chatId"
                ORDER BY "createdAt" DESC, "id" DESC LIMIT 1)
            ORDER BY page."lastAt" DESC, page."chatId"
            """,
            [.text(sessionID), .integer(Int64(limit)), .integer(Int64(offset))])
        return try rows.map { row in
            let newest = try Self.record(row)
            return ChatSummary(chatID: newest.chatID, unread: Int(row.int("chatUnread") ?? 0), last: newest)
        }
    }

    /// Incoming messages of a chat that are not read yet (all, or among the given ids).
    package func unreadIncoming(sessionID: String, chatID: String, waMessageIDs: [String]?) async throws -> [String] {
        guard let (filter, binds) = Self.unreadFilter(sessionID: sessionID, chatID: chatID, waMessageIDs: waMessageIDs) else { return [] }
        let rows = try await database.query(#"SELECT "waMessageId" FROM messages WHERE "# + filter, binds)
        return rows.compactMap { $0.string("waMessageId") }
    }

    /// Marks incoming messages of a chat read (all, or the given ids); returns the ids that were
    /// not read before.
    package func markRead(sessionID: String, chatID: String, waMessageIDs: [String]?) async throws -> [String] {
        guard let (filter, binds) = Self.unreadFilter(sessionID: sessionID, chatID: chatID, waMessageIDs: waMessageIDs) else { return [] }
        let rows = try await database.query(#"UPDATE messages SET "status" = 'read' WHERE "# + filter + #" RETURNING "waMessageId""#, binds)
        return rows.compactMap { $0.string("waMessageId") }
    }

    /// The condition for a chat's unread incoming rows (among `waMessageIDs` when given); nil for
    /// an empty id list, which matches nothing.
    private static func unreadFilter(sessionID: String, chatID: String, waMessageIDs: [String]?) -> (String, [SQLValue])? {
        var binds: [SQLValue] = [.text(sessionID), .text(chatID)]
        var filter = #""sessionId" = $1 AND "chatId" = $2 AND "direction" = 'incoming' AND "status" <> 'read'"#
        if let ids = waMessageIDs {
            guard !ids.isEmpty else { return nil }
            filter += " AND \"waMessageId\" IN (" + ids.map { id -> String in
                binds.append(.text(id))
                return "$\(binds.count)"
            }.joined(separator: ", ") + ")"
        }
        return (filter, binds)
    }

    /// Deletes a chat's stored messages; answers the storage keys of their media, for the
    /// caller to remove once the rows are gone.
    @discardableResult
    package func deleteChat(sessionID: String, chatID: String) async throws -> [String] {
        try await database.withTransaction { transaction in
            let paths = try await transaction.query(
                #"SELECT "mediaPath" FROM messages WHERE "sessionId" = $1 AND "chatId" = $2 AND "mediaPath" IS NOT NULL"#,
                [.text(sessionID), .text(chatID)]
            ).compactMap { $0.string("mediaPath") }
            _ = try await transaction.execute(
                #"DELETE FROM messages WHERE "sessionId" = $1 AND "chatId" = $2"#, [.text(sessionID), .text(chatID)])
            return paths
        }
    }

    /// Outgoing messages still `pending` that were stored before `cutoff`, oldest first: sends
    /// that never got WhatsApp's answer (the process stopped mid-send, say).
    package func stuckPending(before cutoff: Date, limit: Int) async throws -> [(sessionID: String, chatID: String, waMessageID: String)] {
        try await database.query(
            """
            SELECT "sessionId", "chatId", "waMessageId" FROM messages WHERE "status" = 'pending' AND "createdAt" < $1 \
            AND "waMessageId" IS NOT NULL ORDER BY "createdAt" LIMIT $2
            """,
            [SQLValue(cutoff), .integer(Int64(limit))]
        ).map { row in
            (try row.requiredString("sessionId"), try row.requiredString("chatId"), try row.requiredString("waMessageId"))
        }
    }

    /// The newest stored message of a chat (by WhatsApp's time), if any.
    package func last(sessionID: String, chatID: String) async throws -> MessageRecord? {
        try await database.query(
            """
            SELECT \(Self.readColumns) FROM messages WHERE "sessionId" = $1 AND "chatId" = $2 AND "waMessageId" IS NOT NULL \
            AND "timestamp" IS NOT NULL ORDER BY "timestamp" DESC, "createdAt" DESC LIMIT 1
            """,
            [.text(sessionID), .text(chatID)]
        ).first.map(Self.record)
    }

    /// The session's row for a WhatsApp message id, if stored.
    package func find(sessionID: String, waMessageID: String) async throws -> MessageRecord? {
        try await database.query(
            "SELECT \(Self.readColumns) FROM messages WHERE \"sessionId\" = $1 AND \"waMessageId\" = $2",
            [.text(sessionID), .text(waMessageID)]
        ).first.map(Self.record)
    }

    /// Deletes everything a deleted session kept in the data database besides its webhooks,
    /// templates and batches (which their owners remove): messages, chat states and send
    /// idempotency keys, in one transaction. Answers the storage keys of the messages' media.
    @discardableResult
    package func purge(sessionID: String) async throws -> [String] {
        try await database.withTransaction { transaction in
            let paths = try await transaction.query(
                #"SELECT "mediaPath" FROM messages WHERE "sessionId" = $1 AND "mediaPath" IS NOT NULL"#, [.text(sessionID)]
            ).compactMap { $0.string("mediaPath") }
            for table in ["messages", "chat_states", "send_idempotency_keys"] {
                _ = try await transaction.execute(#"DELETE FROM \#(table) WHERE "sessionId" = $1"#, [.text(sessionID)])
            }
            return paths
        }
    }

    /// Delivery states in the only order they may advance.
    static let statusRank = ["pending": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4]

    private static func values(_ record: MessageRecord) -> [SQLValue] {
        [
            .text(record.id), .text(record.sessionID), SQLValue(record.waMessageID), .text(record.chatID), SQLValue(record.from),
            SQLValue(record.to), SQLValue(record.author), SQLValue(record.body), .text(record.type), .text(record.direction),
            record.timestamp.map(SQLValue.integer) ?? .null, SQLValue(record.metadata), .text(record.status),
            SQLValue(record.createdAt),
        ]
    }

    private static func record(_ row: SQLRow) throws -> MessageRecord {
        var record = MessageRecord(
            id: try row.requiredString("id"), sessionID: try row.requiredString("sessionId"),
            waMessageID: row.string("waMessageId"), chatID: try row.requiredString("chatId"), from: row.string("from"),
            to: row.string("to"), author: row.string("author"), body: row.string("body"), type: try row.requiredString("type"),
            direction: try row.requiredString("direction"), timestamp: row.int("timestamp"), metadata: row.string("metadata"),
            status: try row.requiredString("status"), createdAt: try row.requiredDate("createdAt"))
        record.mediaPath = row.string("mediaPath")
        record.mediaMimetype = row.string("mediaMimetype")
        return record
    }
}
