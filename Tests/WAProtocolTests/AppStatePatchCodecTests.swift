import Foundation
import Reactor
import Testing

@testable import WAProtocol

/// Patches built and verified end to end: vector V8 of ref part 2 §8.3 as a whole patch, then
/// the §7.5 chaining rules (overwrite, remove, tampering) on top of it.
struct AppStatePatchCodecTests {
    static let collection = "regular_high"

    static func key() throws -> AppStateSyncKey {
        try AppStateSyncKey(id: AppStateCryptoTests.keyID, data: AppStateCryptoTests.keyData, timestamp: 1)
    }

    static func mute(_ muted: Bool, at timestamp: Int64 = 1_700_000_000_000) -> AppStateMutation {
        var value = Waproto_SyncActionValue()
        value.timestamp = timestamp
        value.muteAction.muted = muted
        value.muteAction.muteEndTimestamp = -1
        return AppStateMutation(index: ["mute", "1234567890@s.whatsapp.net"], value: value, version: 2)
    }

    static func encodeV8() throws -> (patch: Waproto_SyncdPatch, state: AppStateCollectionState) {
        try AppStatePatchCodec.encode(
            [mute(true)], collection: collection, state: AppStateCollectionState(), key: key(), iv: { AppStateCryptoTests.iv })
    }

    @Test func encodingMatchesV8() throws {
        let (patch, state) = try Self.encodeV8()
        #expect(Array(Self.mute(true).indexJSON) == AppStateCryptoTests.index)
        let record = try #require(patch.mutations.first).record
        #expect(Array(record.value.blob) == AppStateCryptoTests.ivAndCiphertext + AppStateCryptoTests.valueMAC)
        #expect(CryptoVectors.hex(Array(record.index.blob)) == "08886da3af9bef5bc556aa377574626661400dfe1bf12d2d53cc5e605e996d56")
        #expect(CryptoVectors.hex(Array(patch.snapshotMac)) == "f7c4afb1be93f93a47d7dcd1899d07751659a68e067d2d07f5a9c12798f2b702")
        #expect(CryptoVectors.hex(Array(patch.patchMac)) == "549fadc86f533e68b0da5b456fb3de6832b32229628182ecc80f7d98d9e52661")
        #expect(Array(patch.keyID.id) == AppStateCryptoTests.keyID)
        #expect(!patch.hasVersion, "the server assigns the version")
        #expect(state.version == 1)
        #expect(CryptoVectors.hex(state.hash.bytes) == AppStateCryptoTests.ltHash)
    }

    @Test func aV8PatchVerifiesAndDecodes() throws {
        let key = try Self.key()
        var (patch, _) = try Self.encodeV8()
        patch.version.version = 1
        let applied = try AppStatePatchCodec.apply(patch, collection: Self.collection, to: AppStateCollectionState(), keys: [key.id: key])
        #expect(applied.state.version == 1)
        let mutation = try #require(applied.mutations.first)
        #expect(mutation.index == ["mute", "1234567890@s.whatsapp.net"])
        #expect(mutation.value.muteAction.muted && mutation.value.muteAction.muteEndTimestamp == -1)
        #expect(mutation.version == 2)
        #expect(try AppStateCollectionState(serialized: applied.state.serialized) == applied.state)
    }

    @Test func overwritesAndRemovesChainTheHash() throws {
        let key = try Self.key()
        let first = try Self.encodeV8()
        let second = try AppStatePatchCodec.encode([Self.mute(false, at: 1_700_000_001_000)], collection: Self.collection, state: first.state, key: key)
        // Only the newest value of an index counts: the hash is that value's contribution alone.
        let newMAC = Array(try #require(second.patch.mutations.first).record.value.blob.suffix(32))
        var expected = LTHash()
        expected.add([newMAC])
        #expect(second.state.hash == expected)
        #expect(second.state.valueMACs.count == 1)
        let applied = try AppStatePatchCodec.apply(second.patch, collection: Self.collection, to: first.state, keys: [key.id: key])
        #expect(applied.state == second.state)

        var removal = Self.mute(false)
        removal.operation = .remove
        let third = try AppStatePatchCodec.encode([removal], collection: Self.collection, state: second.state, key: key)
        #expect(third.state.hash == LTHash())
        #expect(third.state.valueMACs.isEmpty)
        let removed = try AppStatePatchCodec.apply(third.patch, collection: Self.collection, to: second.state, keys: [key.id: key])
        #expect(removed.mutations.first?.operation == .remove)
        #expect(removed.state.version == 3)
    }

    @Test func tamperingAndMissingKeysAreRefused() throws {
        let key = try Self.key()
        let (patch, _) = try Self.encodeV8()
        let empty = AppStateCollectionState()
        var badPatchMAC = patch
        badPatchMAC.patchMac[0] ^= 1
        var badSnapshot = patch
        badSnapshot.snapshotMac[5] ^= 1
        var badIndex = patch
        badIndex.mutations[0].record.index.blob[0] ^= 1
        for tampered in [badPatchMAC, badSnapshot, badIndex] {
            let error = #expect(throws: ProtocolError.self) {
                try AppStatePatchCodec.apply(tampered, collection: Self.collection, to: empty, keys: [key.id: key])
            }
            #expect(error?.kind == .authentication)
        }
        // The same patch read as another collection or on top of another state does not verify.
        #expect(throws: ProtocolError.self) { try AppStatePatchCodec.apply(patch, collection: "regular_low", to: empty, keys: [key.id: key]) }
        var later = empty
        later.version = 4
        #expect(throws: ProtocolError.self) { try AppStatePatchCodec.apply(patch, collection: Self.collection, to: later, keys: [key.id: key]) }
        #expect(AppStatePatchCodec.keyIDs(of: patch) == [AppStateCryptoTests.keyID])
        let missing = #expect(throws: ProtocolError.self) { try AppStatePatchCodec.apply(patch, collection: Self.collection, to: empty, keys: [:]) }
        #expect(missing?.kind == .unexpected)
        #expect(throws: ProtocolError.self) { try AppStateCollectionState(serialized: [1, 2, 3]) }
        #expect(try AppStateSyncKey(id: key.id, serialized: key.serialized) == key)
    }
}
