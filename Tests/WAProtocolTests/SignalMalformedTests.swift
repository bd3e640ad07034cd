import Testing

@testable import WAProtocol

/// Hostile or broken bytes must end in a typed `ProtocolError`, never a trap.
struct SignalMalformedTests {
    /// A valid msg, pkmsg, skmsg and distribution message to mutilate.
    private static func samples() throws -> [(kind: String, bytes: [UInt8])] {
        let alice = try SignalKeyPair.generate()
        let bob = try SignalKeyPair.generate()
        let signed = try SignedPreKeyRecord.generate(id: 1, identity: bob)
        let bundle = PreKeyBundle(
            registrationID: 1, deviceID: 1, preKeyID: 9, preKey: try SignalKeyPair.generate().publicKey,
            signedPreKeyID: 1, signedPreKey: signed.keyPair.publicKey, signedPreKeySignature: signed.signature,
            identityKey: bob.publicKey)
        var record = SessionRecord(
            current: try SessionBuilder.initiate(with: bundle, local: .init(identityKeyPair: alice, registrationID: 2)))
        guard case .preKey(let preKey) = try SessionCipher.encrypt([1, 2, 3], record: &record) else { return [] }
        var senderKeys = SenderKeyRecord()
        let distribution = try GroupCipher.distributionMessage(record: &senderKeys)
        let group = try GroupCipher.encrypt([4, 5, 6], record: &senderKeys)
        return [
            ("pkmsg", preKey.serialized), ("msg", preKey.message.serialized), ("skmsg", group.serialized),
            ("skdm", distribution.serialized),
        ]
    }

    /// Parses `bytes` as `kind`; returns the error, nil when it parsed.
    private static func parse(_ kind: String, _ bytes: [UInt8]) -> (any Error)? {
        do {
            switch kind {
            case "pkmsg": _ = try PreKeyWhisperMessage(serialized: bytes)
            case "msg": _ = try WhisperMessage(serialized: bytes)
            case "skmsg": _ = try SenderKeyMessage(serialized: bytes)
            default: _ = try SenderKeyDistributionMessage(serialized: bytes)
            }
            return nil
        } catch {
            return error
        }
    }

    @Test func everyTruncationThrowsATypedError() throws {
        for sample in try Self.samples() {
            #expect(Self.parse(sample.kind, sample.bytes) == nil)
            for length in 0..<sample.bytes.count {
                let error = Self.parse(sample.kind, Array(sample.bytes.prefix(length)))
                // Cutting a trailing MAC or signature can leave a parsable prefix only for skdm/pkmsg,
                // which have no trailer; everything else must fail, and always as a ProtocolError.
                if let error { #expect(error is ProtocolError, "\(sample.kind) cut to \(length): \(error)") }
                if sample.kind == "msg" || sample.kind == "skmsg" { #expect(error != nil) }
            }
        }
    }

    @Test func wrongVersionByteIsRefused() throws {
        for sample in try Self.samples() {
            for version: UInt8 in [0x00, 0x22, 0x23, 0x43, 0xF3] {
                var bytes = sample.bytes
                bytes[0] = version
                let error = try #require(Self.parse(sample.kind, bytes) as? ProtocolError)
                #expect(error.signalFailure == .invalidVersion)
            }
        }
    }

    @Test func hugeDeclaredLengthsAreRefused() {
        // Field 4 (ciphertext) declaring 2^32 bytes, field 1 declaring 2^63: nothing is allocated for them.
        let hugeCiphertext = [0x33, 0x22, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00] + [UInt8](repeating: 0, count: 8)
        let hugeKey =
            [0x33, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] + [UInt8](repeating: 0, count: 8)
        let overlongVarint = [0x33] + [UInt8](repeating: 0xFF, count: 20) + [UInt8](repeating: 0, count: 64)
        for bytes in [hugeCiphertext, hugeKey, overlongVarint] {
            for kind in ["pkmsg", "msg", "skmsg", "skdm"] {
                let error = Self.parse(kind, bytes)
                #expect(
                    (error as? ProtocolError)?.signalFailure == .malformedMessage,
                    "\(kind): \(String(describing: error))")
            }
        }
    }

    @Test func badKeyTypesAreRefused() throws {
        #expect(throwsSignal(.invalidKey) { _ = try DJBKey.deserialize([0x06] + [UInt8](repeating: 1, count: 32)) })
        #expect(throwsSignal(.invalidKey) { _ = try DJBKey.deserialize([0x05] + [UInt8](repeating: 1, count: 31)) })
        #expect(throwsSignal(.invalidKey) { _ = try SignalKeyPair(privateKey: [1, 2, 3]) })
        // A pkmsg whose base key has the wrong type byte.
        let sample = try Self.samples()[0].bytes
        var bytes = sample
        let baseKeyType = try #require(bytes.firstIndex(of: 0x12)) + 2  // field 2 tag, length, then type byte
        bytes[baseKeyType] = 0x07
        #expect((Self.parse("pkmsg", bytes) as? ProtocolError)?.signalFailure == .invalidKey)
    }

    @Test func randomGarbageNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<200, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !bytes.isEmpty { bytes[0] = 0x33 }
            for kind in ["pkmsg", "msg", "skmsg", "skdm"] {
                if let error = Self.parse(kind, bytes) { #expect(error is ProtocolError) }
            }
        }
    }

    @Test func everyTruncationOfAStoredRecordParsesOrThrowsATypedError() throws {
        let alice = try SignalKeyPair.generate()
        let bob = try SignalKeyPair.generate()
        let signed = try SignedPreKeyRecord.generate(id: 1, identity: bob)
        let bundle = PreKeyBundle(
            registrationID: 1, deviceID: 1, preKeyID: nil, preKey: nil, signedPreKeyID: 1,
            signedPreKey: signed.keyPair.publicKey, signedPreKeySignature: signed.signature, identityKey: bob.publicKey)
        let state = try SessionBuilder.initiate(with: bundle, local: .init(identityKeyPair: alice, registrationID: 2))
        var record = SessionRecord(current: state)
        record.promote(state)
        var senderKeys = SenderKeyRecord()
        _ = try GroupCipher.distributionMessage(record: &senderKeys)
        let samples: [(String, [UInt8], ([UInt8]) throws -> Void)] = [
            ("session record", try record.serialized(), { _ = try SessionRecord(serialized: $0) }),
            ("session state", state.serialized(), { _ = try SessionState(serialized: $0) }),
            ("sender key record", try senderKeys.serialized(), { _ = try SenderKeyRecord(serialized: $0) }),
        ]
        for (what, bytes, parse) in samples {
            for length in 0...bytes.count {
                do { try parse(Array(bytes.prefix(length))) } catch {
                    #expect(error is ProtocolError, "\(what) cut to \(length): \(error)")
                }
            }
        }
    }

    @Test func corruptStoredRecordsThrow() {
        #expect(throwsSignal(.malformedMessage) { _ = try SessionRecord(serialized: [0x0A, 0x05, 0x01]) })
        #expect(throwsSignal(.malformedMessage) { _ = try SenderKeyRecord(serialized: [0x0A, 0x02, 0x12, 0x00]) })
        #expect(throwsSignal(.malformedMessage) { _ = try PreKeyRecord(serialized: [0xFF]) })
    }

    @Test func unknownEncTypeIsRefused() async throws {
        let party = try await SignalTestParty(name: "x")
        #expect(
            await throwsSignal(.malformedMessage) {
                _ = try await party.signal.decrypt(encType: "skmsg", [0x33], from: party.address)
            })
    }
}

/// The Signal failures map onto the module-wide error kinds and can be read back.
struct SignalErrorKindTests {
    @Test func failuresMapToKindsAndReadBack() {
        #expect(ProtocolError.signalInvalidMAC.kind == .authentication)
        #expect(ProtocolError.signalInvalidSignature("x").kind == .authentication)
        #expect(ProtocolError.signalMalformed("x").kind == .malformed)
        #expect(ProtocolError.signalInvalidVersion(0x22).kind == .malformed)
        #expect(ProtocolError.signalDuplicate(counter: 1).kind == .unexpected)
        #expect(ProtocolError.signalNoSession("x").kind == .unexpected)
        #expect(ProtocolError.signalCrypto("x").kind == .crypto)
        #expect(ProtocolError.signalNoSenderKey(keyID: 5).signalFailure == .noSenderKey)
        #expect(ProtocolError.signalMissingPreKey("x").signalFailure == .missingPreKey)
        #expect(ProtocolError.signalTooFarInFuture(counter: 9, current: 1).signalFailure == .tooFarInFuture)
        #expect(ProtocolError.malformed("not from the Signal layer").signalFailure == nil)
    }
}
