import Foundation

/// Archiving, muting and pinning chats through the account's app state, for engines that can
/// (the routes answer 501 for the others). Each call returns once WhatsApp took the change and
/// the session's chat state shows it.
package protocol ChatStateOperations: Sendable {
    /// Archives (`archived`) or unarchives a chat.
    func setArchived(_ chatID: String, archived: Bool) async throws
    /// Mutes a chat until `until` (milliseconds since the epoch, 0 for ever), or unmutes it (nil).
    func setMuted(_ chatID: String, until: Int64?) async throws
    /// Pins or unpins a chat.
    func setPinned(_ chatID: String, pinned: Bool) async throws
}

extension SessionManager {
    /// The session's engine for chat state changes.
    package func chatStateOperations(id: String) async throws -> any ChatStateOperations {
        try await readyEngine(
            id: id, as: (any ChatStateOperations).self, unsupported: "Archiving, muting and pinning chats is not supported by this engine")
    }
}
