/// X3DH session setup, libsignal v3 without Kyber (reference part 2, 1.6). Pure functions: keys in,
/// session state out; storage and identity trust are the caller's business.
package enum SessionBuilder {
    /// Our own long-term material, as the responder needs it to answer a `pkmsg`.
    package struct LocalIdentity: Sendable {
        package let identityKeyPair: SignalKeyPair
        package let registrationID: UInt32

        package init(identityKeyPair: SignalKeyPair, registrationID: UInt32) {
            self.identityKeyPair = identityKeyPair
            self.registrationID = registrationID
        }
    }

    /// The initiator's state after fetching `bundle`: every message it sends is a `pkmsg` until the
    /// responder answers. `baseKey` and `ratchetKey` are generated unless given (test vectors pin them).
    package static func initiate(
        with bundle: PreKeyBundle, local: LocalIdentity, baseKey: SignalKeyPair? = nil,
        ratchetKey: SignalKeyPair? = nil
    ) throws -> SessionState {
        guard bundle.identityKey.count == 32, bundle.signedPreKey.count == 32 else {
            throw ProtocolError.signalInvalidKey("bundle keys must be 32 bytes")
        }
        guard bundle.hasValidSignature else { throw ProtocolError.signalInvalidSignature("signed prekey") }
        if let preKey = bundle.preKey, preKey.count != 32 {
            throw ProtocolError.signalInvalidKey("one-time prekey must be 32 bytes")
        }
        let base = try baseKey ?? .generate()
        let sending = try ratchetKey ?? .generate()
        var agreements = [
            try local.identityKeyPair.agreement(with: bundle.signedPreKey),
            try base.agreement(with: bundle.identityKey),
            try base.agreement(with: bundle.signedPreKey),
        ]
        if let preKey = bundle.preKey { agreements.append(try base.agreement(with: preKey)) }
        let initial = RatchetKDF.initialKeys(agreements: agreements)
        // The responder's first ratchet key is its signed prekey: receive on CK0 under that key, and step
        // the root once with our own new ratchet key to get the sending chain.
        let step = try RatchetKDF.ratchet(rootKey: initial.rootKey, ours: sending, theirs: bundle.signedPreKey)

        var state = SessionState(
            localIdentityKey: local.identityKeyPair.publicKey, remoteIdentityKey: bundle.identityKey,
            rootKey: step.rootKey)
        state.addReceivingChain(ratchetKey: bundle.signedPreKey, chainKey: initial.chainKey)
        state.sendingChain = .init(ratchetKeyPair: sending, chainKey: step.chainKey)
        state.pendingPreKey = .init(
            preKeyID: bundle.preKey == nil ? nil : bundle.preKeyID, signedPreKeyID: bundle.signedPreKeyID,
            baseKey: base.publicKey)
        state.localRegistrationID = local.registrationID
        state.remoteRegistrationID = bundle.registrationID
        state.aliceBaseKey = base.publicKey
        return state
    }

    /// The responder's state for a received `pkmsg`, before its embedded `msg` is decrypted.
    ///
    /// `oneTimePreKey` must be the record the message names (nil when it names none); the caller deletes
    /// it only after the embedded message decrypts.
    package static func respond(
        to message: PreKeyWhisperMessage, local: LocalIdentity, signedPreKey: SignedPreKeyRecord,
        oneTimePreKey: PreKeyRecord?
    ) throws -> SessionState {
        guard signedPreKey.id == message.signedPreKeyID else {
            throw ProtocolError.signalMissingPreKey("signed prekey \(message.signedPreKeyID) not supplied")
        }
        guard message.preKeyID == oneTimePreKey?.id else {
            throw ProtocolError.signalMissingPreKey(
                "one-time prekey \(message.preKeyID.map(String.init) ?? "none") not supplied")
        }
        var agreements = [
            try signedPreKey.keyPair.agreement(with: message.identityKey),
            try local.identityKeyPair.agreement(with: message.baseKey),
            try signedPreKey.keyPair.agreement(with: message.baseKey),
        ]
        if let oneTimePreKey { agreements.append(try oneTimePreKey.keyPair.agreement(with: message.baseKey)) }
        let initial = RatchetKDF.initialKeys(agreements: agreements)

        var state = SessionState(
            localIdentityKey: local.identityKeyPair.publicKey, remoteIdentityKey: message.identityKey,
            rootKey: initial.rootKey)
        state.sendingChain = .init(ratchetKeyPair: signedPreKey.keyPair, chainKey: initial.chainKey)
        state.localRegistrationID = local.registrationID
        state.remoteRegistrationID = message.registrationID
        state.aliceBaseKey = message.baseKey
        return state
    }
}
