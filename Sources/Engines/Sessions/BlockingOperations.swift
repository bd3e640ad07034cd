import Foundation

/// Blocking contacts, for engines that can do it (the routes answer 501 for the others).
package protocol BlockingOperations: Sendable {
    /// The account's blocked contacts (`<number>@c.us`, `<lid>@lid`), ordered by id.
    func blockedContacts() async throws -> [String]
    /// Blocks (`blocked`) or unblocks a contact.
    func setBlocked(_ contactID: String, blocked: Bool) async throws
}

extension SessionManager {
    /// The session's engine for the blocklist.
    package func blockingOperations(id: String) async throws -> any BlockingOperations {
        try await readyEngine(id: id, as: (any BlockingOperations).self, unsupported: "Blocking contacts is not supported by this engine")
    }
}
