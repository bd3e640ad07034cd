import Testing
import WAProtocol

@testable import Engines

/// The parsed-record memo beside the byte cache: a parsed session record stands only for the exact
/// bytes it was serialized to.
@Suite struct SignalRecordCacheTests {
    private func record(previousCounter: UInt32) throws -> WAProtocol.SessionRecord {
        let local = SessionBuilder.LocalIdentity(identityKeyPair: try SignalKeyPair.generate(), registrationID: 7)
        let bobIdentity = try SignalKeyPair.generate()
        let signed = try SignedPreKeyRecord.generate(id: 1, identity: bobIdentity)
        var state = try SessionBuilder.initiate(
            with: PreKeyBundle(
                registrationID: 9, deviceID: 1, preKeyID: nil, preKey: nil, signedPreKeyID: signed.id,
                signedPreKey: signed.keyPair.publicKey, signedPreKeySignature: signed.signature,
                identityKey: bobIdentity.publicKey),
            local: local)
        state.previousCounter = previousCounter
        return WAProtocol.SessionRecord(current: state)
    }

    @Test func aParsedRecordIsUsedOnlyForTheBytesItWasSerializedTo() throws {
        let cache = SignalRecordCache(limit: 4)
        let first = try record(previousCounter: 1)
        let bytes = try cache.serializing(first, as: "signal.session.a")
        #expect(bytes == (try first.serialized()))
        #expect(cache.parsedSession("signal.session.a", bytes) == first)
        // An equal copy in another buffer still matches; other bytes or another key do not.
        #expect(cache.parsedSession("signal.session.a", Array(bytes[...])) == first)
        #expect(cache.parsedSession("signal.session.a", try record(previousCounter: 2).serialized()) == nil)
        #expect(cache.parsedSession("signal.session.b", bytes) == nil)
        // A failed write forgets the key, parsed form included.
        cache.forget(["signal.session.a"])
        #expect(cache.parsedSession("signal.session.a", bytes) == nil)
    }

    @Test func theMemoIsBounded() throws {
        let cache = SignalRecordCache(limit: 2)
        let records = try (0..<3).map { try record(previousCounter: UInt32($0)) }
        let serialized = try records.enumerated().map { index, record in try cache.serializing(record, as: "k\(index)") }
        // The third key started the memo over: only it is left.
        #expect(cache.parsedSession("k0", serialized[0]) == nil)
        #expect(cache.parsedSession("k2", serialized[2]) == records[2])
    }
}
