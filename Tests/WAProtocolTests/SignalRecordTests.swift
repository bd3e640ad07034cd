import Foundation
import Testing

@testable import WAProtocol

/// The stored session record: archived states stay serialized, and the bytes are the ones SwiftProtobuf
/// writes for the same record, so records stored before and after read the same.
struct SignalRecordTests {
    /// Alice's state towards a fresh Bob, a different one (other base key) on every call.
    private static func initiatorState() throws -> SessionState {
        let bob = try SignalKeyPair.generate()
        let signed = try SignedPreKeyRecord.generate(id: 3, identity: bob)
        let bundle = PreKeyBundle(
            registrationID: 7, deviceID: 1, preKeyID: nil, preKey: nil, signedPreKeyID: 3,
            signedPreKey: signed.keyPair.publicKey, signedPreKeySignature: signed.signature, identityKey: bob.publicKey)
        return try SessionBuilder.initiate(
            with: bundle, local: .init(identityKeyPair: try SignalKeyPair.generate(), registrationID: 9))
    }

    /// States covering every field: Alice's (pending prekey with and without a one-time prekey id) and
    /// Bob's after a skipped message (receiving chain with a skipped key).
    private static func variedStates() throws -> [SessionState] {
        let bob = try SignalKeyPair.generate()
        let signed = try SignedPreKeyRecord.generate(id: 3, identity: bob)
        let oneTime = PreKeyRecord(id: 77, keyPair: try SignalKeyPair.generate())
        let bundle = PreKeyBundle(
            registrationID: 7, deviceID: 1, preKeyID: oneTime.id, preKey: oneTime.keyPair.publicKey,
            signedPreKeyID: 3, signedPreKey: signed.keyPair.publicKey, signedPreKeySignature: signed.signature,
            identityKey: bob.publicKey)
        var alice = SessionRecord(
            current: try SessionBuilder.initiate(
                with: bundle, local: .init(identityKeyPair: try SignalKeyPair.generate(), registrationID: 9)))
        _ = try SessionCipher.encrypt([1], record: &alice)
        guard case .preKey(let second) = try SessionCipher.encrypt([2], record: &alice) else { return [] }
        var bobRecord = SessionRecord()
        let keys = SessionCipher.ResponderKeys(
            local: .init(identityKeyPair: bob, registrationID: 7), signedPreKey: signed, oneTimePreKey: oneTime)
        _ = try SessionCipher.decrypt(second, record: &bobRecord, keys: keys)
        var withoutOneTime = try #require(alice.current)
        withoutOneTime.pendingPreKey?.preKeyID = nil
        var withoutSendingChain = try #require(bobRecord.current)
        withoutSendingChain.sendingChain = nil
        return [
            try #require(alice.current), withoutOneTime, try #require(bobRecord.current), withoutSendingChain,
            try Self.initiatorState(),
        ]
    }

    @Test func stateCodecMatchesSwiftProtobuf() throws {
        let states = try Self.variedStates()
        #expect(states[2].skippedKeyCount == 1)
        for state in states {
            let reference = try SignalProto.encode(state.structure)
            #expect(state.serialized() == reference)
            #expect(try SessionState(serialized: reference) == state)
        }
    }

    @Test func mergedRepeatedAndUnknownFieldsDecodeAsSwiftProtobufDoes() throws {
        let state = try Self.variedStates()[0]
        var extra = ProtobufFieldWriter()
        extra.appendUInt32(field: 5, 12)  // a later previous counter wins
        extra.appendMessage(field: 6) { chain in  // a second sending chain merges into the first
            chain.appendMessage(field: 3) { $0.appendUInt32(field: 1, 99) }
        }
        extra.appendMessage(field: 9) { $0.appendUInt32(field: 3, 5) }  // and so does a second pending prekey
        extra.appendBytes(field: 12, [1, 2, 3])  // unknown
        extra.appendUInt32(field: 1000, 1)  // unknown
        // Unknown fixed-width fields too: 20 (64-bit) and 21 (32-bit).
        let bytes = state.serialized() + extra.bytes + [0xA1, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xAD, 0x01, 1, 2, 3, 4]
        let reference = try SessionState(structure: SignalProto.decode(bytes, "reference"))
        let decoded = try SessionState(serialized: bytes)
        #expect(decoded == reference)
        #expect(decoded.previousCounter == 12)
        #expect(decoded.sendingChain?.chainKey.index == 99)
        #expect(decoded.sendingChain?.chainKey.key == state.sendingChain?.chainKey.key)
        #expect(decoded.pendingPreKey?.signedPreKeyID == 5)
        #expect(decoded.pendingPreKey?.preKeyID == state.pendingPreKey?.preKeyID)
    }

    @Test func bytesMatchSwiftProtobufBothWays() throws {
        let states = try (0..<4).map { _ in try Self.initiatorState() }
        var record = SessionRecord()
        for state in states { record.promote(state) }
        #expect(record.archivedCount == 3)

        var structure = Wasignal_RecordStructure()
        structure.currentSession = states[3].structure
        structure.previousSessions = [states[2].structure, states[1].structure, states[0].structure]
        let reference = try SignalProto.encode(structure)
        #expect(try record.serialized() == reference)

        let loaded = try SessionRecord(serialized: reference)
        #expect(loaded == record)
        #expect(loaded.current == states[3])
        #expect(try (0..<3).map { try loaded.archivedState(at: $0) } == [states[2], states[1], states[0]])
        #expect(loaded.hasState(baseKey: states[0].aliceBaseKey))
    }

    @Test func archiveKeepsTheNewestStatesWithinTheLimit() throws {
        let state = try Self.initiatorState()
        var record = SessionRecord()
        for _ in 0..<(SignalLimits.maxArchivedStates + 5) { record.promote(state) }
        #expect(record.archivedCount == SignalLimits.maxArchivedStates)
        #expect(try SessionRecord(serialized: record.serialized()) == record)
    }

    @Test func aDamagedArchivedStateLoadsAndIsPassedOver() throws {
        let current = try Self.initiatorState()
        var writer = ProtobufFieldWriter()
        writer.appendBytes(field: 1, current.serialized())
        writer.appendBytes(field: 2, [0x12, 0x05, 0x01])  // a key field cut short
        let record = try SessionRecord(serialized: writer.bytes)
        #expect(record.current == current)
        #expect(throwsSignal(.malformedMessage) { _ = try record.archivedState(at: 0) })
        #expect(!record.hasState(baseKey: [UInt8](repeating: 1, count: 32)))
        #expect(try record.serialized() == writer.bytes)

        // A message for neither state fails with the current state's error, the damaged one untouched.
        var sender = SessionRecord(current: try Self.initiatorState())
        guard case .preKey(let message) = try SessionCipher.encrypt([1], record: &sender) else {
            Issue.record("expected pkmsg")
            return
        }
        var receiving = record
        #expect(throws: ProtocolError.self) { _ = try SessionCipher.decrypt(message.message, record: &receiving) }
        #expect(receiving == record)
    }

    @Test func sendingRatchetKeyIsReadAsStoredOrElseRecomputed() throws {
        let state = try Self.initiatorState()
        var structure = state.structure
        #expect(try SessionState(structure: structure) == state)
        // A record without the public half (or in another library's 33-byte form) still loads.
        for stored in [Data(), Data([0x05]) + structure.senderChain.senderRatchetKey] {
            structure.senderChain.senderRatchetKey = stored
            #expect(try SessionState(structure: structure).sendingChain == state.sendingChain)
        }
    }

    @Test func malformedTopLevelFieldsAreRefused() {
        let cases: [[UInt8]] = [
            [0x0A, 0x05, 0x01],  // current state longer than the record
            [0x08, 0x01],  // current state as a varint
            [0x12],  // archived state without a length
            [0x0B, 0x00],  // a group
            [0x00, 0x00],  // field number 0
            [0x0A] + [UInt8](repeating: 0xFF, count: 11),  // an 11-byte varint length
        ]
        for bytes in cases {
            #expect(throwsSignal(.malformedMessage) { _ = try SessionRecord(serialized: bytes) }, "\(bytes)")
        }
        // Unknown fields of every wire type are skipped, as SwiftProtobuf skips them.
        #expect(throws: Never.self) {
            _ = try SessionRecord(serialized: [0x18, 0x96, 0x01, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2D, 1, 2, 3, 4])
        }
    }
}
