import Foundation
import Logging
import Persistence
import Reactor

/// The messages table and the events that go with it: an inbound or sent message, its row and
/// its webhook outbox rows commit in one transaction, then the event reaches the bus (real-time
/// channel) and the webhook lanes. Redelivered messages are recognised by their WhatsApp id and
/// produce nothing.
package final class MessageLedger: MessageSink {
    package let store: SQLMessageStore
    let chatStateStore: SQLChatStateStore
    let webhooks: WebhookService?
    let bus: EventBus
    /// Our sends' rows waiting for the next group commit (`MessageLedger+Sent.swift`).
    let sentRows = SentRowQueue()

    package init(database: any SQLDatabase, webhooks: WebhookService?, bus: EventBus) {
        store = SQLMessageStore(database: database)
        chatStateStore = SQLChatStateStore(database: database)
        self.webhooks = webhooks
        self.bus = bus
    }

    package var preferredExecutor: (any TaskExecutor)? { store.database.preferredExecutor }

    @discardableResult
    package func ingest(sessionID: String, message: EngineMessage) async throws -> Bool {
        try await record(sessionID: sessionID, message: message, status: message.fromMe ? "sent" : "delivered")
    }

    package func acknowledged(sessionID: String, chatID: String?, messageIDs: [String], ack: Int) async throws {
        let status = Self.status(ack: ack)
        var advanced: [String] = []
        // In slices: both databases cap the binds of one statement.
        for start in stride(from: 0, to: messageIDs.count, by: 500) {
            let slice = Array(messageIDs[start..<min(messageIDs.count, start + 500)])
            advanced += try await store.advance(sessionID: sessionID, waMessageIDs: slice, to: status)
        }
        for id in advanced {
            let data: JSONValue = [
                "id": .string(id), "messageId": .string(id), "status": .string(status), "ack": .number(Double(ack)),
                "chatId": chatID.map(JSONValue.string) ?? .null,
            ]
            bus.publish(GatewayEvent(name: "message.ack", sessionID: sessionID, data: data))
            if status == "failed" { bus.publish(GatewayEvent(name: "message.failed", sessionID: sessionID, data: data)) }
        }
    }

    package func apply(sessionID: String, change: MessageChange) async throws {
        try await commit(sessionID: sessionID, items: [.change(change)])
    }

    /// The row update a change makes, inside the batch's transaction.
    private static func update(_ change: MessageChange, sessionID: String, in transaction: any AsyncSQLTransaction) async throws {
        switch change.kind {
        case .revoke, .deleteForMe: try await SQLMessageStore.revoke(sessionID: sessionID, waMessageID: change.targetID, in: transaction)
        case .edit(let body):
            try await SQLMessageStore.edit(sessionID: sessionID, waMessageID: change.targetID, body: body, in: transaction)
        case .pollVote(let options):
            try await SQLMessageStore.recordVote(
                sessionID: sessionID, pollID: change.targetID, voter: change.senderID, options: options, in: transaction)
        case .reaction(let emoji):
            try await SQLMessageStore.recordReaction(
                sessionID: sessionID, messageID: change.targetID, sender: change.senderID, emoji: emoji, timestamp: change.timestamp,
                in: transaction)
        case .pin(let until):
            let pinned: JSONValue? = until.map {
                ["by": .string(change.senderID), "at": .number(Double(change.timestamp)), "until": .number(Double($0))]
            }
            try await SQLMessageStore.setMetadata(
                sessionID: sessionID, messageID: change.targetID, key: "pinned", value: pinned, in: transaction)
        }
    }

    /// Our own reaction, once WhatsApp took it: kept on the message's row like anyone's (its
    /// `message.reaction` is for reactions that arrive).
    package func recordOwnReaction(sessionID: String, messageID: String, sender: String, emoji: String, timestamp: Int) async throws {
        try await store.database.withTransaction { transaction in
            try await SQLMessageStore.recordReaction(
                sessionID: sessionID, messageID: messageID, sender: sender, emoji: emoji, timestamp: timestamp, in: transaction)
        }
    }

    /// OpenWA's reactions list of a stored message: `[{emoji, senders: [{senderId, emoji,
    /// timestamp}]}]`, emojis in the order first used; nil when the chat has no such message.
    package func reactions(sessionID: String, chatID: String, messageID: String) async throws -> JSONValue? {
        guard let row = try await store.find(sessionID: sessionID, waMessageID: messageID), row.chatID == chatID else { return nil }
        let metadata = row.metadata.flatMap { try? JSONParser.parse(Array($0.utf8)) }
        var groups: [(emoji: String, senders: [JSONValue])] = []
        for reaction in metadata?["reactions"]?.arrayValue ?? [] {
            guard let emoji = reaction["emoji"]?.stringValue else { continue }
            if let index = groups.firstIndex(where: { $0.emoji == emoji }) {
                groups[index].senders.append(reaction)
            } else {
                groups.append((emoji, [reaction]))
            }
        }
        return .array(groups.map { ["emoji": .string($0.emoji), "senders": .array($0.senders)] })
    }

    /// A batch in one transaction: new rows, row changes and all their events' outbox rows;
    /// redelivered messages are skipped.
    package func commit(sessionID: String, items: [InboundItem]) async throws {
        guard !items.isEmpty else { return }
        let staged = webhooks != nil
        let webhooks = webhooks
        let (events, outbox) = try await store.database.withTransaction { transaction -> ([GatewayEvent], [OutboxRow]) in
            var events: [GatewayEvent] = []
            for item in items {
                switch item {
                case .message(let message):
                    let row = Self.row(sessionID: sessionID, message: message, status: message.fromMe ? "sent" : "delivered")
                    guard try await SQLMessageStore.insert(row, in: transaction) else { continue }
                    events.append(
                        GatewayEvent(
                            name: message.fromMe ? "message.sent" : "message.received", sessionID: sessionID,
                            data: Self.json(message), outboxStaged: staged))
                case .change(let change):
                    try await Self.update(change, sessionID: sessionID, in: transaction)
                    // Poll votes have no event of their own in OpenWA's catalogue: the poll's row keeps them.
                    if let name = Self.eventName(change.kind) {
                        events.append(GatewayEvent(name: name, sessionID: sessionID, data: Self.json(change), outboxStaged: staged))
                    }
                }
            }
            return (events, try await webhooks?.stage(events, in: transaction) ?? [])
        }
        if let webhooks, !outbox.isEmpty { await webhooks.committed(outbox) }
        for event in events { bus.publish(event) }
    }

    static func row(sessionID: String, message: EngineMessage, status: String) -> MessageRecord {
        MessageRecord(
            sessionID: sessionID, waMessageID: message.id, chatID: message.chatID, from: message.from, to: message.to,
            author: message.author, body: message.body, type: message.type, direction: message.fromMe ? "outgoing" : "incoming",
            timestamp: Int64(message.timestamp), metadata: message.metadata.map(JSONWriter.string), status: status)
    }

    package func unread(sessionID: String, chatID: String, messageIDs: [String]?) async throws -> [String] {
        try await store.unreadIncoming(sessionID: sessionID, chatID: chatID, waMessageIDs: messageIDs)
    }

    package func markRead(sessionID: String, chatID: String, messageIDs: [String]?) async throws -> [String] {
        try await store.markRead(sessionID: sessionID, chatID: chatID, waMessageIDs: messageIDs)
    }

    package func stored(sessionID: String, messageID: String) async throws -> EngineMessage? {
        try await store.find(sessionID: sessionID, waMessageID: messageID).map(Self.engineMessage)
    }

    package func lastMessage(sessionID: String, chatID: String) async throws -> EngineMessage? {
        try await store.last(sessionID: sessionID, chatID: chatID).map(Self.engineMessage)
    }

    private static func engineMessage(_ row: MessageRecord) -> EngineMessage {
        EngineMessage(
            id: row.waMessageID ?? "", chatID: row.chatID, from: row.from ?? "", to: row.to ?? "", body: row.body ?? "", type: row.type,
            timestamp: Int(row.timestamp ?? 0), fromMe: row.direction == "outgoing",
            metadata: row.metadata.flatMap { try? JSONParser.parse(Array($0.utf8)) }, author: row.author)
    }

    static func eventName(_ kind: MessageChange.Kind) -> String? {
        switch kind {
        case .reaction: return "message.reaction"
        case .revoke: return "message.revoked"
        case .deleteForMe: return nil
        case .edit: return "message.edited"
        case .pollVote, .pin: return nil
        }
    }

    /// The event data OpenWA sends for each change (reference 5.1).
    static func json(_ change: MessageChange) -> JSONValue {
        let isGroup = change.chatID.hasSuffix("@g.us")
        switch change.kind {
        case .reaction(let emoji):
            return [
                "messageId": .string(change.targetID), "chatId": .string(change.chatID), "reaction": .string(emoji),
                "senderId": .string(change.senderID),
            ]
        case .revoke, .deleteForMe:
            return [
                "id": .string(change.id), "revokedId": .string(change.targetID), "chatId": .string(change.chatID),
                "from": .string(change.from), "to": .string(change.to), "type": "revoked", "body": "",
                "timestamp": .number(Double(change.timestamp)),
            ]
        case .pollVote(let options):
            return [
                "messageId": .string(change.targetID), "chatId": .string(change.chatID), "senderId": .string(change.senderID),
                "options": .array(options.map(JSONValue.string)),
            ]
        case .pin(let until):
            return [
                "messageId": .string(change.targetID), "chatId": .string(change.chatID), "senderId": .string(change.senderID),
                "pinned": .bool(until != nil), "until": until.map { .number(Double($0)) } ?? .null,
            ]
        case .edit(let body):
            return [
                "messageId": .string(change.targetID), "chatId": .string(change.chatID), "body": .string(body),
                "senderId": .string(change.senderID), "from": .string(change.from), "to": .string(change.to),
                "fromMe": .bool(change.fromMe), "isGroup": .bool(isGroup), "type": "text", "hasMedia": false,
                "timestamp": .number(Double(change.timestamp)),
            ]
        }
    }

    /// Writes the row and the outbox rows of its event; publishes only what was new.
    @discardableResult
    private func record(sessionID: String, message: EngineMessage, status: String) async throws -> Bool {
        let event = GatewayEvent(
            name: message.fromMe ? "message.sent" : "message.received", sessionID: sessionID,
            data: Self.json(message), outboxStaged: webhooks != nil)
        let row = Self.row(sessionID: sessionID, message: message, status: status)
        let webhooks = webhooks
        let (inserted, outbox) = try await store.database.withTransaction { transaction -> (Bool, [OutboxRow]) in
            guard try await SQLMessageStore.insert(row, in: transaction) else { return (false, []) }
            return (true, try await webhooks?.stage([event], in: transaction) ?? [])
        }
        guard inserted else { return false }
        if let webhooks, !outbox.isEmpty { await webhooks.committed(outbox) }
        bus.publish(event)
        return true
    }

    /// OpenWA's `IncomingMessage` fields every engine fills.
    package static func json(_ message: EngineMessage) -> JSONValue {
        let fields: JSONValue = [
            "id": .string(message.id), "from": .string(message.from), "to": .string(message.to),
            "chatId": .string(message.chatID), "body": .string(message.body), "type": .string(message.type),
            "timestamp": .number(Double(message.timestamp)), "isGroup": .bool(message.chatID.hasSuffix("@g.us")),
            "fromMe": .bool(message.fromMe), "kind": .string(message.chatID.hasSuffix("@g.us") ? "group" : "individual"),
        ]
        return eventExtras(message.metadata, into: message.author.map { fields.setting("author", .string($0)) } ?? fields)
    }

    /// `IncomingMessage`'s optional parts that the stored row's metadata holds: `location`, `poll`
    /// (without its votes) and `media`. The event is committed with the row, before any download,
    /// so `media` is always OpenWA's omitted marker (`{mimetype, filename?, omitted, sizeBytes}`);
    /// the bytes are served by the media route once stored.
    private static func eventExtras(_ metadata: JSONValue?, into fields: JSONValue) -> JSONValue {
        guard let metadata else { return fields }
        var fields = fields
        if let media = metadata["media"], let mimetype = media["mimetype"] {
            var marker: JSONValue = ["mimetype": mimetype, "omitted": true]
            if let filename = media["filename"] { marker = marker.setting("filename", filename) }
            if let size = media["sizeBytes"] { marker = marker.setting("sizeBytes", size) }
            fields = fields.setting("media", marker)
        }
        if let location = metadata["location"] { fields = fields.setting("location", location) }
        if let poll = metadata["poll"], let name = poll["name"], let options = poll["options"] {
            fields = fields.setting(
                "poll", ["name": name, "options": options, "allowMultipleAnswers": poll["allowMultipleAnswers"] ?? false])
        }
        return fields
    }

    /// WhatsApp's ack number as OpenWA's delivery status.
    package static func status(ack: Int) -> String {
        switch ack {
        case ..<0: return "failed"
        case 0: return "pending"
        case 1: return "sent"
        case 2: return "delivered"
        default: return "read"
        }
    }
}
