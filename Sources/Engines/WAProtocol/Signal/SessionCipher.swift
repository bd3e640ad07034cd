/// Double Ratchet encryption and decryption (reference part 2, 1.7 and 1.8).
///
/// Pure and synchronous: each function takes the session record `inout`, changes it only when it
/// succeeds, and touches no store, so the work can run on the worker pool and the caller persists the
/// record afterwards. Plaintexts here are already WA-padded (`MessagePadding`).
package enum SessionCipher {
    /// The keys a responder needs for a `pkmsg`. The signed and one-time prekeys are the ones the
    /// message names (`signedPreKeyID`, `preKeyID`); nil when the store does not have them.
    package struct ResponderKeys: Sendable {
        package let local: SessionBuilder.LocalIdentity
        package let signedPreKey: SignedPreKeyRecord?
        package let oneTimePreKey: PreKeyRecord?

        package init(
            local: SessionBuilder.LocalIdentity, signedPreKey: SignedPreKeyRecord?, oneTimePreKey: PreKeyRecord?
        ) {
            self.local = local
            self.signedPreKey = signedPreKey
            self.oneTimePreKey = oneTimePreKey
        }
    }

    /// A decrypted `pkmsg`: the plaintext and the one-time prekey the caller must now delete.
    package struct PreKeyDecryption: Sendable, Hashable {
        package let plaintext: [UInt8]
        package let consumedPreKeyID: UInt32?
    }

    /// Generates the ratchet key for a DH-ratchet step; tests substitute a fixed key.
    package typealias RatchetKeySource = () throws -> SignalKeyPair

    // MARK: - Encrypt

    /// Encrypts with the record's current state: a `pkmsg` until the peer has answered, then `msg`.
    package static func encrypt(_ plaintext: [UInt8], record: inout SessionRecord) throws -> CiphertextMessage {
        guard var state = record.current else { throw ProtocolError.signalNoSession("no session to encrypt with") }
        let message = try encrypt(plaintext, state: &state)
        record.current = state
        return message
    }

    package static func encrypt(_ plaintext: [UInt8], state: inout SessionState) throws -> CiphertextMessage {
        guard let sending = state.sendingChain else {
            throw ProtocolError.signalNoSession("session has no sending chain")
        }
        guard sending.chainKey.index < UInt32.max else {
            throw ProtocolError.signalNoSession("sending chain exhausted")
        }
        let keys = sending.chainKey.messageKeys()
        let ciphertext = try SignalCrypto.encryptCBC(key: keys.cipherKey, iv: keys.iv, plaintext: plaintext)
        let message = try WhisperMessage(
            ratchetKey: sending.ratchetKeyPair.publicKey, counter: keys.index, previousCounter: state.previousCounter,
            ciphertext: ciphertext, macKey: keys.macKey, senderIdentity: state.localIdentityKey,
            receiverIdentity: state.remoteIdentityKey)
        state.sendingChain?.chainKey = sending.chainKey.next()
        guard let pending = state.pendingPreKey else { return .whisper(message) }
        return .preKey(
            try PreKeyWhisperMessage(
                registrationID: state.localRegistrationID, preKeyID: pending.preKeyID,
                signedPreKeyID: pending.signedPreKeyID, baseKey: pending.baseKey, identityKey: state.localIdentityKey,
                message: message))
    }

    // MARK: - Decrypt

    /// Decrypts a `msg`, trying the current state first and then archived ones (a state that works is
    /// promoted). A duplicate counter is reported at once: another state would not make it new.
    package static func decrypt(
        _ message: WhisperMessage, record: inout SessionRecord, newRatchetKey: RatchetKeySource = SignalKeyPair.generate
    ) throws -> [UInt8] {
        guard var current = record.current else { throw ProtocolError.signalNoSession("no session for this sender") }
        do {
            let plaintext = try decrypt(message, state: &current, newRatchetKey: newRatchetKey)
            record.current = current
            return plaintext
        } catch let error as ProtocolError where error.signalFailure == .duplicateMessage {
            throw error
        } catch {
            for index in 0..<record.archivedCount {
                // An archived state that no longer decodes cannot decrypt anything; it is left in place.
                guard var candidate = try? record.archivedState(at: index),
                    let plaintext = try? decrypt(message, state: &candidate, newRatchetKey: newRatchetKey)
                else { continue }
                record.promoteArchived(at: index, as: candidate)
                return plaintext
            }
            throw error
        }
    }

    /// Decrypts a `pkmsg`, setting up the responder state first unless a state with the same base key
    /// exists (a retransmitted `pkmsg`, which must not consume another prekey).
    package static func decrypt(
        _ message: PreKeyWhisperMessage, record: inout SessionRecord, keys: ResponderKeys,
        newRatchetKey: RatchetKeySource = SignalKeyPair.generate
    ) throws -> PreKeyDecryption {
        var working = record
        var consumed: UInt32?
        if !working.hasState(baseKey: message.baseKey) {
            guard let signedPreKey = keys.signedPreKey, signedPreKey.id == message.signedPreKeyID else {
                throw ProtocolError.signalMissingPreKey("no signed prekey \(message.signedPreKeyID)")
            }
            if let id = message.preKeyID, keys.oneTimePreKey?.id != id {
                throw ProtocolError.signalMissingPreKey("no one-time prekey \(id)")
            }
            let state = try SessionBuilder.respond(
                to: message, local: keys.local, signedPreKey: signedPreKey,
                oneTimePreKey: message.preKeyID == nil ? nil : keys.oneTimePreKey)
            working.promote(state)
            consumed = message.preKeyID
        }
        let plaintext = try decrypt(message.message, record: &working, newRatchetKey: newRatchetKey)
        record = working
        return PreKeyDecryption(plaintext: plaintext, consumedPreKeyID: consumed)
    }

    /// Decrypts with one state; on failure `state` is unchanged.
    static func decrypt(
        _ message: WhisperMessage, state: inout SessionState, newRatchetKey: RatchetKeySource
    ) throws -> [UInt8] {
        var working = state
        let keys = try working.receivingKeys(
            ratchetKey: message.ratchetKey, counter: message.counter, newRatchetKey: newRatchetKey)
        guard
            message.hasValidMAC(
                macKey: keys.macKey, senderIdentity: working.remoteIdentityKey,
                receiverIdentity: working.localIdentityKey)
        else { throw ProtocolError.signalInvalidMAC }
        let plaintext = try SignalCrypto.decryptCBC(key: keys.cipherKey, iv: keys.iv, ciphertext: message.ciphertext)
        // The peer has answered, so it has our session: stop wrapping messages as pkmsg.
        working.pendingPreKey = nil
        state = working
        return plaintext
    }
}

extension SessionState {
    /// The message keys for `counter` on the peer's chain `ratchetKey`, stepping the DH ratchet for a new
    /// ratchet key and keeping keys for skipped counters.
    mutating func receivingKeys(
        ratchetKey: [UInt8], counter: UInt32, newRatchetKey: SessionCipher.RatchetKeySource
    ) throws -> MessageKeys {
        let chainIndex = try receivingChainIndex(for: ratchetKey) ?? stepRatchet(theirs: ratchetKey, newRatchetKey)
        var chain = receivingChains[chainIndex]
        if counter < chain.chainKey.index {
            guard let skipped = chain.skippedKeys.firstIndex(where: { $0.index == counter }) else {
                throw ProtocolError.signalDuplicate(counter: counter)
            }
            let keys = chain.skippedKeys.remove(at: skipped)
            receivingChains[chainIndex] = chain
            return keys
        }
        guard counter - chain.chainKey.index <= SignalLimits.maxFutureMessages else {
            throw ProtocolError.signalTooFarInFuture(counter: counter, current: chain.chainKey.index)
        }
        var chainKey = chain.chainKey
        while chainKey.index < counter {
            chain.skippedKeys.append(chainKey.messageKeys())
            chainKey = chainKey.next()
        }
        let keys = chainKey.messageKeys()
        chain.chainKey = chainKey.next()
        receivingChains[chainIndex] = chain
        trimSkippedKeys()
        return keys
    }

    /// The DH-ratchet step for a new peer ratchet key; returns the index of the new receiving chain.
    private mutating func stepRatchet(theirs: [UInt8], _ newRatchetKey: SessionCipher.RatchetKeySource) throws -> Int {
        guard let sending = sendingChain else { throw ProtocolError.signalNoSession("session has no sending chain") }
        let receiving = try RatchetKDF.ratchet(rootKey: rootKey, ours: sending.ratchetKeyPair, theirs: theirs)
        let ours = try newRatchetKey()
        let next = try RatchetKDF.ratchet(rootKey: receiving.rootKey, ours: ours, theirs: theirs)
        rootKey = next.rootKey
        addReceivingChain(ratchetKey: theirs, chainKey: receiving.chainKey)
        previousCounter = sending.chainKey.index == 0 ? 0 : sending.chainKey.index - 1
        sendingChain = SendingChain(ratchetKeyPair: ours, chainKey: next.chainKey)
        return receivingChains.count - 1
    }
}
