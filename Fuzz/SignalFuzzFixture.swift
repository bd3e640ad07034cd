// The fixed sessions the Signal fuzzer decrypts against (Fuzz/SignalFuzz.swift). Every key and every
// signature nonce is pinned, so a crash input reproduces exactly and the seed corpus is the same on
// every machine.

/// A 32-byte private key from a small number; clamping (in `SignalKeyPair`) makes any 32 bytes valid.
func fuzzKeyPair(_ seed: UInt32) -> SignalKeyPair {
    var state = seed &* 0x9E37_79B1 | 1
    let bytes = (0..<32).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223  // an LCG is plenty: these keys only need to differ
        return UInt8(truncatingIfNeeded: state >> 24)
    }
    do { return try SignalKeyPair(privateKey: bytes) } catch { fatalError("fixture key \(seed): \(error)") }
}

/// Alice and Bob after Alice's first `pkmsg` reached Bob, plus a group in which Bob holds Alice's sender key.
struct SignalFuzzFixture {
    let alice: SessionBuilder.LocalIdentity
    let bob: SessionBuilder.LocalIdentity
    let bobSignedPreKey: SignedPreKeyRecord
    let bobPreKey: PreKeyRecord
    /// Alice's record after encrypting `firstMessage` (she keeps sending `pkmsg` until Bob answers).
    let aliceRecord: SessionRecord
    /// Bob's record after decrypting `firstMessage`.
    let bobRecord: SessionRecord
    let firstMessage: PreKeyWhisperMessage
    /// Alice's second message, a `pkmsg` Bob has not seen: it decrypts against `bobRecord`.
    let secondMessage: PreKeyWhisperMessage
    /// Alice's own sender-key record (with the signing private key) and Bob's copy from her distribution.
    let aliceSenderKey: SenderKeyRecord
    let bobSenderKey: SenderKeyRecord
    let distribution: SenderKeyDistributionMessage
    /// Alice's first group message, which decrypts against `bobSenderKey`.
    let groupMessage: SenderKeyMessage

    static let shared: SignalFuzzFixture = {
        do { return try SignalFuzzFixture() } catch { fatalError("Signal fuzz fixture: \(error)") }
    }()

    private init() throws {
        alice = .init(identityKeyPair: fuzzKeyPair(1), registrationID: 1111)
        bob = .init(identityKeyPair: fuzzKeyPair(2), registrationID: 2222)
        bobSignedPreKey = try .generate(
            id: 7, identity: bob.identityKeyPair, keyPair: fuzzKeyPair(3), signatureRandom: Self.nonce(1))
        bobPreKey = PreKeyRecord(id: 42, keyPair: fuzzKeyPair(4))
        let bundle = PreKeyBundle(
            registrationID: bob.registrationID, deviceID: 1, preKeyID: bobPreKey.id,
            preKey: bobPreKey.keyPair.publicKey, signedPreKeyID: bobSignedPreKey.id,
            signedPreKey: bobSignedPreKey.keyPair.publicKey, signedPreKeySignature: bobSignedPreKey.signature,
            identityKey: bob.identityKeyPair.publicKey)
        var aliceRecord = SessionRecord(
            current: try SessionBuilder.initiate(
                with: bundle, local: alice, baseKey: fuzzKeyPair(5), ratchetKey: fuzzKeyPair(6)))
        guard case .preKey(let first) = try SessionCipher.encrypt([1, 2, 3, 4], record: &aliceRecord),
            case .preKey(let second) = try SessionCipher.encrypt(Array("second".utf8), record: &aliceRecord)
        else { fatalError("an unanswered session sends pkmsg") }
        var bobRecord = SessionRecord()
        _ = try SessionCipher.decrypt(
            first, record: &bobRecord,
            keys: Self.responderKeys(for: first, local: bob, signedPreKey: bobSignedPreKey, preKey: bobPreKey),
            newRatchetKey: { fuzzKeyPair(7) })
        self.aliceRecord = aliceRecord
        self.bobRecord = bobRecord
        firstMessage = first
        secondMessage = second

        var aliceSenderKey = SenderKeyRecord()
        distribution = try GroupCipher.distributionMessage(
            record: &aliceSenderKey, keyID: 0x1234, chainKey: [UInt8](repeating: 0x5A, count: 32),
            signingKey: fuzzKeyPair(8))
        groupMessage = try GroupCipher.encrypt(
            Array("group".utf8), record: &aliceSenderKey, signatureRandom: Self.nonce(2))
        var bobSenderKey = SenderKeyRecord()
        GroupCipher.process(distribution, record: &bobSenderKey)
        self.aliceSenderKey = aliceSenderKey
        self.bobSenderKey = bobSenderKey
    }

    /// Bob's responder keys for `message`, whatever prekey ids it names: the fixed key pairs under the
    /// message's ids, so a mutated `pkmsg` still reaches X3DH instead of stopping at a missing prekey.
    func bobKeys(for message: PreKeyWhisperMessage) -> SessionCipher.ResponderKeys {
        Self.responderKeys(for: message, local: bob, signedPreKey: bobSignedPreKey, preKey: bobPreKey)
    }

    private static func responderKeys(
        for message: PreKeyWhisperMessage, local: SessionBuilder.LocalIdentity, signedPreKey: SignedPreKeyRecord,
        preKey: PreKeyRecord
    ) -> SessionCipher.ResponderKeys {
        SessionCipher.ResponderKeys(
            local: local,
            signedPreKey: SignedPreKeyRecord(
                id: message.signedPreKeyID, keyPair: signedPreKey.keyPair, signature: signedPreKey.signature,
                timestamp: 0),
            oneTimePreKey: message.preKeyID.map { PreKeyRecord(id: $0, keyPair: preKey.keyPair) })
    }

    /// A pinned 64-byte XEdDSA nonce.
    static func nonce(_ seed: UInt8) -> [UInt8] { [UInt8](repeating: seed, count: 64) }

    // MARK: - Seeds

    /// The seed corpus: each message and record kind once (behind the 0x00 selector), and a few scripts
    /// (see `PairwiseConversation` and `GroupConversation` for the step encoding).
    func seeds() -> [(name: String, bytes: [UInt8])] {
        let records: [(String, () throws -> [UInt8])] = [
            ("session-bob", bobRecord.serialized), ("session-alice", aliceRecord.serialized),
            ("senderkey-bob", bobSenderKey.serialized), ("senderkey-alice", aliceSenderKey.serialized),
            ("prekey", bobPreKey.serialized), ("signed-prekey", bobSignedPreKey.serialized),
            ("identity", bob.identityKeyPair.serializedIdentity),
        ]
        var seeds: [(name: String, bytes: [UInt8])] = [
            ("pkmsg", [0x00] + firstMessage.serialized), ("msg", [0x00] + secondMessage.message.serialized),
            ("skmsg", [0x00] + groupMessage.serialized), ("skdm", [0x00] + distribution.serialized),
        ]
        for (name, record) in [("state-alice", aliceRecord), ("state-bob", bobRecord)] {
            if let state = record.current { seeds.append((name, [0x00] + state.serialized())) }
        }
        for (name, serialize) in records {
            do { seeds.append((name, [0x00] + (try serialize()))) } catch { fatalError("seed \(name): \(error)") }
        }
        seeds += [
            // Alice sends three, Bob gets them out of order and answers, both ratchet, a tampered delivery.
            (
                "pairwise-exchange",
                [
                    0x80, 0x00, 5, 0x00, 20, 0x02, 1, 0x02, 0, 0x01, 3, 0x03, 0, 0x00, 40, 0x02, 2, 0x08, 0x04, 2, 10,
                    0x40,
                    0x01, 17, 0x01, 0, 0x03, 1, 0x03, 1, 0x06, 3, 0x00, 1, 0x02, 3, 0x08,
                ]
            ),
            // 2002 lost messages: the next one is past the future-message bound, the one before is not.
            ("pairwise-far-ahead", [0x80, 0x00, 1, 0x06, 250, 0x06, 250, 0x00, 2, 0x02, 1, 0x02, 0, 0x08]),
            ("group-exchange", [0xC0, 0, 5, 0, 30, 1, 1, 1, 0, 1, 0, 2, 1, 7, 1, 3, 10, 0, 0, 1, 2, 4]),
            // 1994 lost group messages: within the bound, so Bob keeps 1994 skipped keys.
            ("group-far-ahead", [0xC0, 3, 250, 3, 248, 0, 1, 1, 0, 4]),
        ]
        return seeds
    }
}
