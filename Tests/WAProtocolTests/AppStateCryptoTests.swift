import Reactor
import Testing

@testable import WAProtocol

/// App-state keys, value encryption, LTHash and MACs: vector V8 of ref part 2 §8.3.
struct AppStateCryptoTests {
    static let keyData = CryptoVectors.bytes("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f")  // V8 keyData
    static let keyID = CryptoVectors.bytes("000000010002")  // V8 keyId
    static let index = Array(#"["mute","1234567890@s.whatsapp.net"]"#.utf8)  // V8 index
    // V8 SyncActionData
    static let syncActionData = CryptoVectors.bytes(
        "0a245b226d757465222c223132333435363738393040732e77686174736170702e6e6574225d12160880d095ffbc31220d080110ffffffffffffffffff011a002002"
    )
    static let iv = CryptoVectors.bytes("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf")  // V8 IV
    // V8 iv‖ciphertext
    static let ivAndCiphertext = CryptoVectors.bytes(
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafa12bbbcc8a9f88a4f01f06113a12240cacc04c41b2d0840449ab6e409cc0c28f831c337b848f4381a6430b33c90fe9213b01f9cbf3879cfa496b0f37ffad3b0e0ff9bde1d4efdb21cb5350b530529965"
    )
    static let valueMAC = CryptoVectors.bytes("5d9b3b6ee1d02ecc8e96eed2695d822d788dfa1c705a6e9dda3f744cbb42f6e5")  // V8 valueMac
    // V8 LTHash(0 + valueMac)
    static let ltHash =
        "ecfc44601dc056d05a8ecc2b8186fc693c92455a219381a653bce17e5101aa4264f7b9a4282b34f5a25ce25727eb1cc3bb771872ddfac2525dd9c6daf116afafda6eb035d7b97148381095479cb7dbf53c9faacfda5ae233f91a357ec1e4cb24490d9623cca3ebc08d48e3f7575c27f65ccab7aa005b8564caa23a1253ed1f69"

    static func keys() throws -> AppStateMutationKeys { try AppStateMutationKeys(keyData: keyData) }

    @Test func mutationKeysMatchV8() throws {
        let keys = try Self.keys()
        #expect(CryptoVectors.hex(keys.indexKey) == "42e3e896e7a2f7e3458dd5cd82ef3370db23ad8f80ac5479604f67c2a6f0611d")
        #expect(
            CryptoVectors.hex(keys.valueEncryptionKey)
                == "38c4b7b8fa9b38b0ab44e4d4e46559965506d5c98952d01f56a9f31ac89105aa")
        #expect(
            CryptoVectors.hex(keys.valueMACKey) == "9a33a8e94d93c3b5c7ff01ac1cb49ed4ce690e888749630f3e5ca0c136a56e6d")
        #expect(
            CryptoVectors.hex(keys.snapshotMACKey) == "7665fd719f2c2a1ae36444598d78e9ee35760118e7df7b64d226e32c56261f15"
        )
        #expect(
            CryptoVectors.hex(keys.patchMACKey) == "c3bd365dcce72d2fa4179eafa017ec671138e9dd109054beb4cccec20d737569")
        #expect(throws: ProtocolError.self) { try AppStateMutationKeys(keyData: [1]) }
    }

    @Test func recordCryptoMatchesV8() throws {
        let keys = try Self.keys()
        // V8 indexMac
        #expect(
            CryptoVectors.hex(AppStateMAC.indexMAC(index: Self.index, keys: keys))
                == "08886da3af9bef5bc556aa377574626661400dfe1bf12d2d53cc5e605e996d56")
        #expect(
            AppStateMAC.valueMAC(operation: .set, keyID: Self.keyID, ivAndCiphertext: Self.ivAndCiphertext, keys: keys)
                == Self.valueMAC)
        let blob = try AppStateValueCipher.seal(
            Self.syncActionData, operation: .set, keyID: Self.keyID, iv: Self.iv, keys: keys)
        #expect(blob == Self.ivAndCiphertext + Self.valueMAC)
        #expect(try AppStateValueCipher.valueMAC(of: blob) == Self.valueMAC)
        #expect(
            try AppStateValueCipher.open(blob, operation: .set, keyID: Self.keyID, keys: keys) == Self.syncActionData)
        // The operation byte and key id are bound: the same blob read as a REMOVE, or under another key id, fails.
        #expect(throws: ProtocolError.self) {
            try AppStateValueCipher.open(blob, operation: .remove, keyID: Self.keyID, keys: keys)
        }
        #expect(throws: ProtocolError.self) {
            try AppStateValueCipher.open(blob, operation: .set, keyID: [0, 0, 0, 1, 0, 3], keys: keys)
        }
        var tampered = blob
        tampered[20] ^= 1
        let error = #expect(throws: ProtocolError.self) {
            try AppStateValueCipher.open(tampered, operation: .set, keyID: Self.keyID, keys: keys)
        }
        #expect(error?.kind == .authentication)
    }

    @Test func ltHashMatchesV8AndIsReversible() throws {
        var hash = LTHash()
        hash.add([Self.valueMAC])
        #expect(CryptoVectors.hex(hash.bytes) == Self.ltHash)
        hash.subtract([Self.valueMAC])
        #expect(hash == LTHash())
        // Order does not matter, and replacing a value equals subtract-then-add.
        let macs = (0..<5).map { CryptoVectors.pseudoRandom(count: 32, seed: UInt64($0 + 1)) }
        var forward = LTHash()
        forward.add(macs)
        var backward = LTHash()
        backward.add(macs.reversed())
        #expect(forward == backward)
        var replaced = forward
        replaced.apply(subtracting: [macs[2]], adding: [Self.valueMAC])
        var direct = LTHash()
        direct.add([macs[0], macs[1], Self.valueMAC, macs[3], macs[4]])
        #expect(replaced == direct)
        #expect(throws: ProtocolError.self) { try LTHash(bytes: [0]) }
    }

    @Test func snapshotAndPatchMACsMatchV8() throws {
        let keys = try Self.keys()
        var hash = LTHash()
        hash.add([Self.valueMAC])
        let snapshotMAC = AppStateMAC.snapshotMAC(ltHash: hash, version: 1, collection: "regular_high", keys: keys)
        #expect(CryptoVectors.hex(snapshotMAC) == "f7c4afb1be93f93a47d7dcd1899d07751659a68e067d2d07f5a9c12798f2b702")
        let patchMAC = AppStateMAC.patchMAC(
            snapshotMAC: snapshotMAC, valueMACs: [Self.valueMAC], version: 1, collection: "regular_high", keys: keys)
        #expect(CryptoVectors.hex(patchMAC) == "549fadc86f533e68b0da5b456fb3de6832b32229628182ecc80f7d98d9e52661")
        #expect(
            AppStateMAC.snapshotMAC(ltHash: hash, version: 2, collection: "regular_high", keys: keys) != snapshotMAC)
        #expect(AppStateMAC.snapshotMAC(ltHash: hash, version: 1, collection: "regular_low", keys: keys) != snapshotMAC)
    }

    @Test func appStateBlobKeysUseTheMediaPath() throws {
        // External snapshot/mutation blobs are media blobs under "WhatsApp App State Keys".
        let mediaKey = try MediaKeys.generateMediaKey()
        let (blob, _) = try MediaEncryptor.encrypt(Self.syncActionData, mediaKey: mediaKey, kind: .appState)
        #expect(try MediaDecryptor.decrypt(blob, mediaKey: mediaKey, kind: .appState).plaintext == Self.syncActionData)
    }
}
