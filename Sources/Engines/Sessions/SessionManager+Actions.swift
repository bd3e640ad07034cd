import Foundation
import Reactor

/// Message actions (forward, delete, edit, poll votes, pins) and contacts, through the session's
/// engine (reference 2.5 and 2.6). An unknown session is 404, one that is not ready 400, an
/// engine that cannot do it 501.
extension SessionManager {
    package func forward(id: String, fromChatID: String, toChatID: String, messageID: String) async throws -> SentMessage {
        try await readyEngine(id).forward(fromChatID: fromChatID, toChatID: toChatID, messageID: messageID)
    }

    package func deleteMessage(id: String, chatID: String, messageID: String, forEveryone: Bool) async throws {
        try await readyEngine(id).deleteMessage(chatID: chatID, messageID: messageID, forEveryone: forEveryone)
    }

    package func editMessage(id: String, chatID: String, messageID: String, body: String, mentions: [String]) async throws
        -> SentMessage
    {
        try await readyEngine(id).editMessage(chatID: chatID, messageID: messageID, body: body, mentions: mentions)
    }

    package func votePoll(id: String, chatID: String, pollMessageID: String, options: [String]) async throws -> PollVoteOutcome {
        try await readyEngine(id).votePoll(chatID: chatID, pollMessageID: pollMessageID, options: options)
    }

    package func pinMessage(id: String, chatID: String, messageID: String, pin: Bool, seconds: Int) async throws {
        try await readyEngine(id).pinMessage(chatID: chatID, messageID: messageID, pin: pin, seconds: seconds)
    }

    package func contacts(id: String) async throws -> [EngineContact] {
        try await readyEngine(id).contacts()
    }

    package func contact(id: String, contactID: String) async throws -> EngineContact? {
        try await readyEngine(id).contact(id: contactID)
    }

    package func profilePictureURL(id: String, contactID: String) async throws -> String? {
        try await readyEngine(id).profilePictureURL(of: contactID)
    }

    /// The engine of a live, ready session; the session row is read only when it is not.
    private func readyEngine(_ id: String) async throws -> any WhatsAppEngine {
        if let live = live[id], let engine = live.engine, live.status == .ready { return engine }
        _ = try await get(id: id)
        throw EngineError.invalid("Session is not ready")
    }
}
