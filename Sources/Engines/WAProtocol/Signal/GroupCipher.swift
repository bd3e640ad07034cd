/// Sender-key ("skmsg") group encryption (reference part 2, 1.9). Pure and synchronous like
/// `SessionCipher`: records are taken `inout` and changed only on success.
package enum GroupCipher {
    /// Our distribution message for the record, creating our sending state first if there is none.
    /// `keyID`, `chainKey` and `signingKey` are random unless given (test vectors pin them).
    package static func distributionMessage(
        record: inout SenderKeyRecord, keyID: UInt32? = nil, chainKey: [UInt8]? = nil, signingKey: SignalKeyPair? = nil
    ) throws -> SenderKeyDistributionMessage {
        if record.states.first?.signingPrivateKey == nil {
            let id = try keyID ?? randomKeyID()
            let signing = try signingKey ?? .generate()
            let seed = try chainKey ?? SignalCrypto.randomBytes(32)
            record.add(
                SenderKeyState(
                    keyID: id, chainKey: .init(iteration: 0, seed: seed), signingPublicKey: signing.publicKey,
                    signingPrivateKey: signing.privateKey))
        }
        let state = record.states[0]
        return try SenderKeyDistributionMessage(
            keyID: state.keyID, iteration: state.chainKey.iteration, chainKey: state.chainKey.seed,
            signingKey: state.signingPublicKey)
    }

    /// Stores a sender's chain from its distribution message (a repeat with the same id replaces it).
    package static func process(_ distribution: SenderKeyDistributionMessage, record: inout SenderKeyRecord) {
        record.add(
            SenderKeyState(
                keyID: distribution.keyID,
                chainKey: .init(iteration: distribution.iteration, seed: distribution.chainKey),
                signingPublicKey: distribution.signingKey, signingPrivateKey: nil))
    }

    /// Encrypts with our newest sending state; `signatureRandom` only for reproducible vectors.
    package static func encrypt(
        _ plaintext: [UInt8], record: inout SenderKeyRecord, signatureRandom: [UInt8]? = nil
    ) throws -> SenderKeyMessage {
        guard var state = record.states.first, let signingPrivate = state.signingPrivateKey else {
            throw ProtocolError.signalNoSenderKey(keyID: record.states.first?.keyID ?? 0)
        }
        let key = try state.messageKey(for: state.chainKey.iteration)
        let (iv, cipherKey) = key.derived
        let ciphertext = try SignalCrypto.encryptCBC(key: cipherKey, iv: iv, plaintext: plaintext)
        let message = try SenderKeyMessage(
            keyID: state.keyID, iteration: key.iteration, ciphertext: ciphertext,
            signingKey: try SignalKeyPair(privateKey: signingPrivate), random: signatureRandom)
        record.states[0] = state
        return message
    }

    /// Decrypts a sender's `skmsg` after checking its signature with the state named by its key id.
    package static func decrypt(_ message: SenderKeyMessage, record: inout SenderKeyRecord) throws -> [UInt8] {
        guard let index = record.stateIndex(keyID: message.keyID) else {
            throw ProtocolError.signalNoSenderKey(keyID: message.keyID)
        }
        var state = record.states[index]
        guard message.hasValidSignature(signingKey: state.signingPublicKey) else {
            throw ProtocolError.signalInvalidSignature("sender key message")
        }
        let key = try state.messageKey(for: message.iteration)
        let (iv, cipherKey) = key.derived
        let plaintext = try SignalCrypto.decryptCBC(key: cipherKey, iv: iv, ciphertext: message.ciphertext)
        record.states[index] = state
        return plaintext
    }

    /// A random 31-bit key id, as libsignal draws them.
    private static func randomKeyID() throws -> UInt32 {
        let bytes = try SignalCrypto.randomBytes(4)
        return bytes.reduce(0) { $0 << 8 | UInt32($1) } & 0x7FFF_FFFF
    }
}
