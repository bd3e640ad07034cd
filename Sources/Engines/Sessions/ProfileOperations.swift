import Foundation

/// The account's own profile, for engines that can change it (the routes answer 501 for the others).
package protocol ProfileOperations: Sendable {
    /// Sets the account's profile picture to `image` (the file's bytes), or removes it (nil).
    func setProfilePicture(_ image: [UInt8]?) async throws
    /// Sets the account's display name (its push name), shown to the people it writes to.
    func setPushName(_ name: String) async throws
    /// Sets the account's about text; "" clears it.
    func setAbout(_ text: String) async throws
}

extension SessionManager {
    /// The session's engine for its own profile.
    package func profileOperations(id: String) async throws -> any ProfileOperations {
        try await readyEngine(id: id, as: (any ProfileOperations).self, unsupported: "Profile changes are not supported by this engine")
    }
}
