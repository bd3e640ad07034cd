// Storage the Signal layer needs, one protocol per kind of record (libsignal's split). Implementations
// persist records in their serialized protobuf form (`serialized()` / `init(serialized:)`).
//
// Calls for one address are not atomic with each other: `SignalProtocol` loads, computes and stores, so
// the caller must not run two operations for the same address (or sender-key name) at once.

/// Our identity, and the identities we have seen from peers.
package protocol IdentityKeyStore: Sendable {
    func identityKeyPair() async throws -> SignalKeyPair
    func localRegistrationID() async throws -> UInt32
    /// Remembers `identityKey` (raw 32 bytes) for `address`; true when it replaced a different key.
    @discardableResult
    func saveIdentity(_ identityKey: [UInt8], for address: SignalAddress) async throws -> Bool
    /// Whether to accept `identityKey` for `address`. WhatsApp clients trust on first use and accept
    /// changes (reference part 2, 1.7), so a store may simply answer true.
    func isTrustedIdentity(_ identityKey: [UInt8], for address: SignalAddress) async throws -> Bool
    func identity(for address: SignalAddress) async throws -> [UInt8]?
}

/// One-time prekeys.
package protocol PreKeyStore: Sendable {
    func loadPreKey(id: UInt32) async throws -> PreKeyRecord?
    func storePreKey(_ record: PreKeyRecord) async throws
    func removePreKey(id: UInt32) async throws
}

/// Signed prekeys (keep old ones until no `pkmsg` can still name them).
package protocol SignedPreKeyStore: Sendable {
    func loadSignedPreKey(id: UInt32) async throws -> SignedPreKeyRecord?
    func storeSignedPreKey(_ record: SignedPreKeyRecord) async throws
}

/// Pairwise session records, one per peer device.
package protocol SessionStore: Sendable {
    func loadSession(for address: SignalAddress) async throws -> SessionRecord?
    func storeSession(_ record: SessionRecord, for address: SignalAddress) async throws
    func deleteSession(for address: SignalAddress) async throws
}

/// Group sender-key records, one per (group, sender device).
package protocol SenderKeyStore: Sendable {
    func loadSenderKey(for name: SenderKeyName) async throws -> SenderKeyRecord?
    func storeSenderKey(_ record: SenderKeyRecord, for name: SenderKeyName) async throws
}
