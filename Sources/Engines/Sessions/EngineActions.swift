import Reactor

/// A contact as OpenWA's contact routes show it (reference 2.6).
package struct EngineContact: Sendable, Equatable {
    /// `<number>@c.us` or `<lid>@lid`.
    package var id: String
    /// The name in the account's address book, when the engine knows it.
    package var name: String?
    /// The name the contact chose for themselves (WhatsApp's push name).
    package var pushName: String?
    /// The phone number's digits, when known (always for `@c.us` ids).
    package var phone: String?
    package var isMyContact: Bool
    package var isBlocked: Bool

    package init(
        id: String, name: String? = nil, pushName: String? = nil, phone: String? = nil, isMyContact: Bool = false,
        isBlocked: Bool = false
    ) {
        self.id = id
        self.name = name
        self.pushName = pushName
        self.phone = phone
        self.isMyContact = isMyContact
        self.isBlocked = isBlocked
    }

    /// OpenWA's `Contact` object.
    package var json: JSONValue {
        var members: [(String, JSONValue)] = [("id", .string(id))]
        if let name { members.append(("name", .string(name))) }
        if let pushName { members.append(("pushName", .string(pushName))) }
        members += [
            ("number", phone.map(JSONValue.string) ?? .null), ("isMyContact", .bool(isMyContact)), ("isBlocked", .bool(isBlocked)),
        ]
        return .object(members)
    }
}

/// What a poll vote came to: sent, or refused because some texts are not options of the poll.
package enum PollVoteOutcome: Sendable, Equatable {
    case voted
    /// Nothing went out; `validOptions` are the poll's options in order.
    case unknownOptions(validOptions: [String])
}

extension WhatsAppEngine {
    package func forward(fromChatID: String, toChatID: String, messageID: String) async throws -> SentMessage {
        throw EngineError.notSupported("Forwarding messages is not supported by this engine")
    }

    package func deleteMessage(chatID: String, messageID: String, forEveryone: Bool) async throws {
        throw EngineError.notSupported("Deleting messages is not supported by this engine")
    }

    package func editMessage(chatID: String, messageID: String, body: String, mentions: [String]) async throws -> SentMessage {
        throw EngineError.notSupported("Editing messages is not supported by this engine")
    }

    package func votePoll(chatID: String, pollMessageID: String, options: [String]) async throws -> PollVoteOutcome {
        throw EngineError.notSupported("Voting on polls is not supported by this engine")
    }

    package func pinMessage(chatID: String, messageID: String, pin: Bool, seconds: Int) async throws {
        throw EngineError.notSupported("Pinning messages is not supported by this engine")
    }

    package func contacts() async throws -> [EngineContact] {
        throw EngineError.notSupported("Contacts are not supported by this engine")
    }

    package func contact(id: String) async throws -> EngineContact? {
        throw EngineError.notSupported("Contacts are not supported by this engine")
    }

    package func profilePictureURL(of contactID: String) async throws -> String? {
        throw EngineError.notSupported("Profile pictures are not supported by this engine")
    }
}
