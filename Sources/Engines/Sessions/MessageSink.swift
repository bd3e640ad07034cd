import Persistence

/// Where an engine hands the messages it must not lose. Each call returns only once the message
/// and its events are committed, so the engine acknowledges to WhatsApp only what is stored.
package protocol MessageSink: Sendable {
    /// Stores an inbound message (or a copy of one our own phone sent) with its event, in one
    /// transaction. False when the session already has it: a redelivery, not a new message.
    @discardableResult
    func ingest(sessionID: String, message: EngineMessage) async throws -> Bool

    /// Stores a message this gateway is about to send (status `pending`), with its `message.sent`
    /// event, before it goes on the wire: a receipt can then never arrive for an unknown row.
    func sent(sessionID: String, message: EngineMessage) async throws

    /// A reaction, revoke or edit of an earlier message: the stored row changes and the event
    /// commits with it.
    func apply(sessionID: String, change: MessageChange) async throws

    /// A stored message by its WhatsApp id (replies and reactions need the original).
    func stored(sessionID: String, messageID: String) async throws -> EngineMessage?

    /// A batch of inbound messages and changes, in order; a sink that can commits them in one
    /// transaction.
    func commit(sessionID: String, items: [InboundItem]) async throws

    /// Incoming messages of a chat not read yet (all, or among `messageIDs`).
    func unread(sessionID: String, chatID: String, messageIDs: [String]?) async throws -> [String]

    /// Marks incoming messages of a chat read (all, or `messageIDs`); the ids that were unread.
    func markRead(sessionID: String, chatID: String, messageIDs: [String]?) async throws -> [String]

    /// Sent messages moved forward (WhatsApp's ack: -1 failed, 1 server, 2 device, 3 read, 4 played).
    func acknowledged(sessionID: String, chatID: String?, messageIDs: [String], ack: Int) async throws

    /// The account's app state archived, pinned or muted a chat (or undid it).
    func updateChatState(sessionID: String, chatID: String, change: ChatStateChange) async throws

    /// Every chat state the session has, by chat id.
    func chatStates(sessionID: String) async throws -> [String: ChatStateRecord]

    /// The account's link is gone (logged out, or removed by the phone): the chat states mirrored
    /// from its app state go too, so a session linked again, maybe to another account, starts
    /// from what that account's sync says. Messages stay, as in OpenWA.
    func forgetChatStates(sessionID: String) async throws

    /// The newest stored message of a chat (app-state chat actions name it in their range).
    func lastMessage(sessionID: String, chatID: String) async throws -> EngineMessage?
    /// Our own reaction (empty: removed) on a stored message, once WhatsApp took it.
    func recordOwnReaction(sessionID: String, messageID: String, sender: String, emoji: String, timestamp: Int) async throws

    /// Where work that mostly waits on this sink's writes should run (the database's own
    /// thread, when it has one), so its statements cost no thread switches; nil for anywhere.
    var preferredExecutor: (any TaskExecutor)? { get }
}

/// One decrypted inbound stanza: a message of its own, or a change of an earlier one.
package enum InboundItem: Sendable, Equatable {
    case message(EngineMessage)
    case change(MessageChange)
}

extension MessageSink {
    package var preferredExecutor: (any TaskExecutor)? { nil }
    /// Sinks that keep no rows know no last message.
    package func lastMessage(sessionID: String, chatID: String) async throws -> EngineMessage? { nil }

    /// Sinks that keep no rows keep no reactions either.
    package func recordOwnReaction(sessionID: String, messageID: String, sender: String, emoji: String, timestamp: Int) async throws {}

    /// One item at a time, for sinks without batches.
    package func commit(sessionID: String, items: [InboundItem]) async throws {
        for item in items {
            switch item {
            case .message(let message): try await ingest(sessionID: sessionID, message: message)
            case .change(let change): try await apply(sessionID: sessionID, change: change)
            }
        }
    }
}

/// What a reaction, revoke or edit does to an earlier message (OpenWA's `message.reaction`,
/// `message.revoked` and `message.edited`).
package struct MessageChange: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case reaction(emoji: String)
        case revoke
        /// Deleted only on this gateway (`forEveryone: false`): the row is cleared like a
        /// revoke, and no event goes out since nobody else sees a change.
        case deleteForMe
        case edit(body: String)
        /// A vote on a poll, decrypted: the chosen option names (none = vote withdrawn).
        case pollVote(options: [String])
        /// Pinned in its chat until `until` (Unix seconds), or unpinned (nil). No event: OpenWA's
        /// catalogue has none; the row's `metadata.pinned` shows it.
        case pin(until: Int?)
    }

    package var kind: Kind
    /// The id of the stanza that carried the change.
    package var id: String
    /// The message it changes.
    package var targetID: String
    package var chatID: String
    package var senderID: String
    package var from: String
    package var to: String
    package var fromMe: Bool
    /// Unix seconds.
    package var timestamp: Int

    package init(
        kind: Kind, id: String, targetID: String, chatID: String, senderID: String, from: String, to: String, fromMe: Bool,
        timestamp: Int
    ) {
        self.kind = kind
        self.id = id
        self.targetID = targetID
        self.chatID = chatID
        self.senderID = senderID
        self.from = from
        self.to = to
        self.fromMe = fromMe
        self.timestamp = timestamp
    }
}
