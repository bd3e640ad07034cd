/// The store-backed face of the Signal layer: load the record, run the pure cipher, store the result.
///
/// Not atomic per address: the caller runs at most one operation per address (and per sender-key
/// name) at a time, which the engine's per-chat ordering already guarantees.
package struct SignalProtocol: Sendable {
    package let identities: any IdentityKeyStore
    package let preKeys: any PreKeyStore
    package let signedPreKeys: any SignedPreKeyStore
    package let sessions: any SessionStore
    package let senderKeys: any SenderKeyStore

    package init(
        identities: any IdentityKeyStore, preKeys: any PreKeyStore, signedPreKeys: any SignedPreKeyStore,
        sessions: any SessionStore, senderKeys: any SenderKeyStore
    ) {
        self.identities = identities
        self.preKeys = preKeys
        self.signedPreKeys = signedPreKeys
        self.sessions = sessions
        self.senderKeys = senderKeys
    }

    /// One object that implements every store (such as `InMemorySignalStore`).
    package init(store: some IdentityKeyStore & PreKeyStore & SignedPreKeyStore & SessionStore & SenderKeyStore) {
        self.init(identities: store, preKeys: store, signedPreKeys: store, sessions: store, senderKeys: store)
    }

    // MARK: - Pairwise sessions

    package func hasSession(for address: SignalAddress) async throws -> Bool {
        try await sessions.loadSession(for: address)?.current != nil
    }

    /// Starts a session from a fetched bundle; the next `encrypt` produces a `pkmsg`.
    package func processBundle(_ bundle: PreKeyBundle, for address: SignalAddress) async throws {
        guard try await identities.isTrustedIdentity(bundle.identityKey, for: address) else {
            throw ProtocolError.signalUntrustedIdentity(address.description)
        }
        let state = try SessionBuilder.initiate(with: bundle, local: try await localIdentity())
        var record = try await recordKeepingIdentity(bundle.identityKey, for: address)
        record.promote(state)
        try await sessions.storeSession(record, for: address)
        try await identities.saveIdentity(bundle.identityKey, for: address)
    }

    /// Encrypts an already padded plaintext for `address`.
    package func encrypt(_ plaintext: [UInt8], for address: SignalAddress) async throws -> CiphertextMessage {
        guard var record = try await sessions.loadSession(for: address) else {
            throw ProtocolError.signalNoSession("no session with \(address)")
        }
        let message = try SessionCipher.encrypt(plaintext, record: &record)
        try await sessions.storeSession(record, for: address)
        return message
    }

    /// Decrypts the content of an `enc` node of type `msg` or `pkmsg`; the result is still padded.
    package func decrypt(encType: String, _ bytes: [UInt8], from address: SignalAddress) async throws -> [UInt8] {
        switch encType {
        case "pkmsg": return try await decryptPreKeyMessage(bytes, from: address)
        case "msg": return try await decryptMessage(bytes, from: address)
        default: throw ProtocolError.signalMalformed("unknown pairwise enc type \(encType)")
        }
    }

    package func decryptMessage(_ bytes: [UInt8], from address: SignalAddress) async throws -> [UInt8] {
        let message = try WhisperMessage(serialized: bytes)
        guard var record = try await sessions.loadSession(for: address) else {
            throw ProtocolError.signalNoSession("no session with \(address)")
        }
        let plaintext = try SessionCipher.decrypt(message, record: &record)
        try await sessions.storeSession(record, for: address)
        return plaintext
    }

    package func decryptPreKeyMessage(_ bytes: [UInt8], from address: SignalAddress) async throws -> [UInt8] {
        let message = try PreKeyWhisperMessage(serialized: bytes)
        guard try await identities.isTrustedIdentity(message.identityKey, for: address) else {
            throw ProtocolError.signalUntrustedIdentity(address.description)
        }
        var record = try await recordKeepingIdentity(message.identityKey, for: address)
        // A retransmitted pkmsg reuses its state; only a new one needs (and consumes) prekeys.
        var signedPreKey: SignedPreKeyRecord?
        var oneTimePreKey: PreKeyRecord?
        if !record.hasState(baseKey: message.baseKey) {
            signedPreKey = try await signedPreKeys.loadSignedPreKey(id: message.signedPreKeyID)
            if let id = message.preKeyID { oneTimePreKey = try await preKeys.loadPreKey(id: id) }
        }
        let keys = SessionCipher.ResponderKeys(
            local: try await localIdentity(), signedPreKey: signedPreKey, oneTimePreKey: oneTimePreKey)
        let result = try SessionCipher.decrypt(message, record: &record, keys: keys)
        try await sessions.storeSession(record, for: address)
        try await identities.saveIdentity(message.identityKey, for: address)
        if let used = result.consumedPreKeyID { try await preKeys.removePreKey(id: used) }
        return result.plaintext
    }

    // MARK: - Group sender keys

    /// Our distribution message for `group`, creating our sender key on first use. `sender` is our own
    /// address (our LID device, reference part 2, 1.3).
    package func senderKeyDistributionMessage(group: String, sender: SignalAddress) async throws
        -> SenderKeyDistributionMessage
    {
        let name = SenderKeyName(groupID: group, sender: sender)
        var record = try await senderKeys.loadSenderKey(for: name) ?? SenderKeyRecord()
        let message = try GroupCipher.distributionMessage(record: &record)
        try await senderKeys.storeSenderKey(record, for: name)
        return message
    }

    /// Encrypts an already padded plaintext for `group` with our sender key.
    package func groupEncrypt(_ plaintext: [UInt8], group: String, sender: SignalAddress) async throws
        -> SenderKeyMessage
    {
        let name = SenderKeyName(groupID: group, sender: sender)
        guard var record = try await senderKeys.loadSenderKey(for: name) else {
            throw ProtocolError.signalNoSenderKey(keyID: 0)
        }
        let message = try GroupCipher.encrypt(plaintext, record: &record)
        try await senderKeys.storeSenderKey(record, for: name)
        return message
    }

    /// Stores a sender's chain from the `axolotlSenderKeyDistributionMessage` bytes it sent us.
    package func processSenderKeyDistribution(_ bytes: [UInt8], group: String, sender: SignalAddress) async throws {
        let distribution = try SenderKeyDistributionMessage(serialized: bytes)
        let name = SenderKeyName(groupID: group, sender: sender)
        var record = try await senderKeys.loadSenderKey(for: name) ?? SenderKeyRecord()
        GroupCipher.process(distribution, record: &record)
        try await senderKeys.storeSenderKey(record, for: name)
    }

    /// Decrypts an `skmsg` from `sender` in `group`; the result is still padded.
    package func groupDecrypt(_ bytes: [UInt8], group: String, sender: SignalAddress) async throws -> [UInt8] {
        let message = try SenderKeyMessage(serialized: bytes)
        let name = SenderKeyName(groupID: group, sender: sender)
        guard var record = try await senderKeys.loadSenderKey(for: name) else {
            throw ProtocolError.signalNoSenderKey(keyID: message.keyID)
        }
        let plaintext = try GroupCipher.decrypt(message, record: &record)
        try await senderKeys.storeSenderKey(record, for: name)
        return plaintext
    }

    // MARK: - Helpers

    private func localIdentity() async throws -> SessionBuilder.LocalIdentity {
        SessionBuilder.LocalIdentity(
            identityKeyPair: try await identities.identityKeyPair(),
            registrationID: try await identities.localRegistrationID())
    }

    /// The stored record, or an empty one when the peer's identity changed: sessions under the old
    /// identity are dropped, as whatsmeow and Baileys do.
    private func recordKeepingIdentity(_ identityKey: [UInt8], for address: SignalAddress) async throws -> SessionRecord
    {
        let known = try await identities.identity(for: address)
        if let known, known != identityKey { return SessionRecord() }
        return try await sessions.loadSession(for: address) ?? SessionRecord()
    }
}
