import Foundation

/// Archiving, muting, pinning and marking chats unread, and the address book, through the
/// account's app state, for engines that can (the routes answer 501 for the others). Each call returns once WhatsApp took the change and
/// the session's chat state shows it.
package protocol ChatStateOperations: Sendable {
    /// Archives (`archived`) or unarchives a chat.
    func setArchived(_ chatID: String, archived: Bool) async throws
    /// Mutes a chat until `until` (milliseconds since the epoch, 0 for ever), or unmutes it (nil).
    func setMuted(_ chatID: String, until: Int64?) async throws
    /// Pins or unpins a chat.
    func setPinned(_ chatID: String, pinned: Bool) async throws
    /// Marks a chat unread (the phone shows it with an unread dot).
    func markUnread(_ chatID: String) async throws
    /// Saves a contact in the account's address book under `firstName` (and `lastName`).
    func saveContact(_ contactID: String, firstName: String, lastName: String?) async throws
    /// Removes a contact from the account's address book.
    func deleteContact(_ contactID: String) async throws
    /// Stars or unstars a stored message of the chat.
    func starMessage(chatID: String, messageID: String, starred: Bool) async throws
}

extension SessionManager {
    /// The session's engine for chat state changes.
    package func chatStateOperations(id: String) async throws -> any ChatStateOperations {
        try await readyEngine(
            id: id, as: (any ChatStateOperations).self, unsupported: "Chat settings and the address book are not supported by this engine")
    }
}
