import Reactor

/// What an engine reports about its session, in order, from any thread.
package enum EngineEvent: Sendable, Equatable {
    /// A new linking string to show as a QR code (rotates every ~20-60 s while unlinked).
    case qr(String)
    /// The phone scanned or entered the code; logging in.
    case authenticating
    /// Logged in and serving. `phone` is the account's number, `pushName` its display name.
    case ready(phone: String, pushName: String?)
    /// The link dropped; `willReconnect` tells whether the engine retries by itself.
    case disconnected(reason: String, willReconnect: Bool)
    /// The account removed this device (or logout completed): credentials are gone, a new
    /// start shows a QR again.
    case loggedOut(reason: String)
    /// The engine gave up (for example, the reconnect cap was reached or the server refused us).
    case failed(reason: String)
    /// Every 5th consecutive reconnect attempt (OpenWA's `session.reconnect_loop`).
    case reconnectLoop(attempts: Int, nextDelayMilliseconds: Int)
    /// A new message in a chat: inbound, or outgoing (sent by us or typed on the phone).
    case message(EngineMessage)
    /// A message's delivery state advanced (WhatsApp's ack: -1 error, 0 pending, 1 server,
    /// 2 device, 3 read, 4 played).
    case messageAck(messageID: String, chatID: String?, ack: Int)
    /// Members joined, left or changed roles, or the group's info changed.
    case group(GroupEvent)
    /// A chat's presence changed (a contact came online, a member is typing).
    case presence(PresenceSnapshot)
    /// The account's display name changed (through the API or on the phone).
    case pushName(String)
}

/// A message as an engine reports it (OpenWA's `IncomingMessage`, the fields every engine has).
package struct EngineMessage: Sendable, Equatable {
    package var id: String
    package var chatID: String
    package var from: String
    package var to: String
    package var body: String
    package var type: String
    /// Unix seconds.
    package var timestamp: Int
    package var fromMe: Bool
    /// OpenWA's `metadata` object of the stored row (a poll's options and votes, say).
    package var metadata: JSONValue?
    /// In a group: the member who sent it (`from` is then the group).
    package var author: String?

    package init(
        id: String, chatID: String, from: String, to: String, body: String, type: String, timestamp: Int, fromMe: Bool,
        metadata: JSONValue? = nil, author: String? = nil
    ) {
        self.metadata = metadata
        self.author = author
        self.id = id
        self.chatID = chatID
        self.from = from
        self.to = to
        self.body = body
        self.type = type
        self.timestamp = timestamp
        self.fromMe = fromMe
    }
}

/// What a send returns: OpenWA's `MessageResponseDto`.
package struct SentMessage: Sendable, Equatable {
    package var messageID: String
    /// Unix seconds.
    package var timestamp: Int

    package init(messageID: String, timestamp: Int) {
        self.messageID = messageID
        self.timestamp = timestamp
    }
}

/// What the session watchdog asks an engine: is a link up, and how long since anything arrived on it.
package struct EngineHealth: Sendable, Equatable {
    /// A connection to WhatsApp exists (in any phase, handshake included).
    package var linkUp: Bool
    /// Milliseconds since the last bytes arrived on the current link; nil without a link.
    package var silentMilliseconds: Int?

    package init(linkUp: Bool, silentMilliseconds: Int?) {
        self.linkUp = linkUp
        self.silentMilliseconds = silentMilliseconds
    }
}

/// Per-session settings from the session's `config` (OpenWA's CreateSessionDto.config).
package struct SessionEngineConfig: Sendable, Equatable {
    /// nil = unlimited; 0 disables reconnecting.
    package var maxReconnectAttempts: Int?
    package var reconnectBaseDelayMilliseconds: Int
    package var autoRejectCalls: Bool

    package init(maxReconnectAttempts: Int? = nil, reconnectBaseDelayMilliseconds: Int = 5_000, autoRejectCalls: Bool = false) {
        self.maxReconnectAttempts = maxReconnectAttempts
        self.reconnectBaseDelayMilliseconds = reconnectBaseDelayMilliseconds
        self.autoRejectCalls = autoRejectCalls
    }
}

/// One WhatsApp account's live connection, whatever drives it (native protocol or browser).
/// Methods may be called from any task; events go to the sink given at creation.
package protocol WhatsAppEngine: Sendable {
    /// Starts connecting (with stored credentials if any, else by showing a QR). Returns once the
    /// attempt is under way; progress arrives as events.
    func start() async throws
    /// Disconnects and keeps the credentials, so the next start needs no QR.
    func stop() async
    /// Unlinks this device from the account (protocol-level) and wipes its credentials.
    func logout() async throws
    /// Asks for an 8-character code to link by phone number instead of a QR.
    func requestPairingCode(phoneNumber: String) async throws -> String
    /// A cheap liveness probe for the watchdog; never blocks on the network.
    func health() async -> EngineHealth
    /// Sends a text message to `chatID` (`<number>@c.us`, `<id>@g.us`).
    func sendText(chatID: String, text: String) async throws -> SentMessage
    /// Sends any content (text, media, location, contact card, reaction) to `message.chatID`.
    func send(_ message: OutgoingMessage) async throws -> SentMessage
    /// Whether `number` (digits, international form) has a WhatsApp account: its id
    /// (`<number>@c.us`), or nil.
    func checkNumber(_ number: String) async throws -> String?
    /// Tells the sender that we read `messageIDs` (incoming messages of `chatID`).
    func markRead(chatID: String, messageIDs: [String]) async throws
    /// Shows "typing…" (`typing`), "recording audio…" (`recording`) or stops it (`paused`).
    func sendChatState(chatID: String, state: String) async throws
    /// Sends a stored message of `fromChatID` again to `toChatID`, marked as forwarded.
    func forward(fromChatID: String, toChatID: String, messageID: String) async throws -> SentMessage
    /// Deletes a stored message: for everyone (a revoke to the chat) or only here.
    func deleteMessage(chatID: String, messageID: String, forEveryone: Bool) async throws
    /// Replaces the text of one of our own messages; answers its id and original time.
    func editMessage(chatID: String, messageID: String, body: String, mentions: [String]) async throws -> SentMessage
    /// Votes on a poll of `chatID` with option texts (none withdraws the vote).
    func votePoll(chatID: String, pollMessageID: String, options: [String]) async throws -> PollVoteOutcome
    /// Pins a stored message of `chatID` for everyone for `seconds`, or (`pin` false) unpins it.
    func pinMessage(chatID: String, messageID: String, pin: Bool, seconds: Int) async throws
    /// The contacts this session has learned, ordered by id.
    func contacts() async throws -> [EngineContact]
    /// One contact by id (`<number>@c.us`, `<lid>@lid`), or nil when unknown.
    func contact(id: String) async throws -> EngineContact?
    /// A contact's profile picture URL; nil when there is none or it is hidden from us.
    func profilePictureURL(of contactID: String) async throws -> String?
}

extension WhatsAppEngine {
    /// Engines without message sending answer 501.
    package func sendText(chatID: String, text: String) async throws -> SentMessage {
        throw EngineError.notSupported("Sending messages is not supported by this engine")
    }

    package func checkNumber(_ number: String) async throws -> String? {
        throw EngineError.notSupported("Checking numbers is not supported by this engine")
    }

    package func markRead(chatID: String, messageIDs: [String]) async throws {
        throw EngineError.notSupported("Read receipts are not supported by this engine")
    }

    package func sendChatState(chatID: String, state: String) async throws {
        throw EngineError.notSupported("Typing states are not supported by this engine")
    }

    /// Plain text goes through `sendText`; every other content answers 501 until the engine has it.
    package func send(_ message: OutgoingMessage) async throws -> SentMessage {
        if case .text(let text) = message.content, message.quotedMessageID == nil, message.mentions.isEmpty {
            return try await sendText(chatID: message.chatID, text: text)
        }
        throw EngineError.notSupported("This engine cannot send this kind of message yet")
    }
}

/// Makes engines for sessions; one per deployment (`ENGINE_TYPE`).
package protocol WhatsAppEngineFactory: Sendable {
    var engineType: EngineType { get }
    func makeEngine(
        sessionID: String, config: SessionEngineConfig, events: @escaping @Sendable (EngineEvent) -> Void
    ) -> any WhatsAppEngine
}
