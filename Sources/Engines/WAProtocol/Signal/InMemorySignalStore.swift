/// All five Signal stores in memory, for tests and the simulator.
///
/// Records are kept serialized, exactly as a persistent store would keep them, so every test that goes
/// through this store also exercises the protobuf state records.
package actor InMemorySignalStore: IdentityKeyStore, PreKeyStore, SignedPreKeyStore, SessionStore, SenderKeyStore {
    private let identity: SignalKeyPair
    private let registrationID: UInt32
    /// When false, a changed peer identity is refused instead of accepted (WhatsApp accepts).
    private let acceptsChangedIdentities: Bool
    private var identities: [SignalAddress: [UInt8]] = [:]
    private var preKeys: [UInt32: [UInt8]] = [:]
    private var signedPreKeys: [UInt32: [UInt8]] = [:]
    private var sessions: [SignalAddress: [UInt8]] = [:]
    private var senderKeys: [SenderKeyName: [UInt8]] = [:]

    package init(identity: SignalKeyPair, registrationID: UInt32, acceptsChangedIdentities: Bool = true) {
        self.identity = identity
        self.registrationID = registrationID
        self.acceptsChangedIdentities = acceptsChangedIdentities
    }

    // MARK: - IdentityKeyStore

    package func identityKeyPair() -> SignalKeyPair { identity }

    package func localRegistrationID() -> UInt32 { registrationID }

    @discardableResult
    package func saveIdentity(_ identityKey: [UInt8], for address: SignalAddress) -> Bool {
        let previous = identities.updateValue(identityKey, forKey: address)
        return previous != nil && previous != identityKey
    }

    package func isTrustedIdentity(_ identityKey: [UInt8], for address: SignalAddress) -> Bool {
        guard let known = identities[address] else { return true }
        return acceptsChangedIdentities || known == identityKey
    }

    package func identity(for address: SignalAddress) -> [UInt8]? { identities[address] }

    // MARK: - PreKeyStore

    package func loadPreKey(id: UInt32) throws -> PreKeyRecord? {
        try preKeys[id].map(PreKeyRecord.init(serialized:))
    }

    package func storePreKey(_ record: PreKeyRecord) throws { preKeys[record.id] = try record.serialized() }

    package func removePreKey(id: UInt32) { preKeys[id] = nil }

    /// How many one-time prekeys are left (tests check consumption).
    package var preKeyCount: Int { preKeys.count }

    // MARK: - SignedPreKeyStore

    package func loadSignedPreKey(id: UInt32) throws -> SignedPreKeyRecord? {
        try signedPreKeys[id].map(SignedPreKeyRecord.init(serialized:))
    }

    package func storeSignedPreKey(_ record: SignedPreKeyRecord) throws {
        signedPreKeys[record.id] = try record.serialized()
    }

    // MARK: - SessionStore

    package func loadSession(for address: SignalAddress) throws -> SessionRecord? {
        try sessions[address].map(SessionRecord.init(serialized:))
    }

    package func storeSession(_ record: SessionRecord, for address: SignalAddress) throws {
        sessions[address] = try record.serialized()
    }

    package func deleteSession(for address: SignalAddress) { sessions[address] = nil }

    // MARK: - SenderKeyStore

    package func loadSenderKey(for name: SenderKeyName) throws -> SenderKeyRecord? {
        try senderKeys[name].map(SenderKeyRecord.init(serialized:))
    }

    package func storeSenderKey(_ record: SenderKeyRecord, for name: SenderKeyName) throws {
        senderKeys[name] = try record.serialized()
    }
}
