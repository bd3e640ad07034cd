import Reactor
import Testing

@testable import WAProtocol

/// Media keys and encryption: vector V7 of ref part 2 §8.3, round trips, tampering.
struct MediaCryptoTests {
    // V7 mediaKey
    static let mediaKey = CryptoVectors.bytes("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
    // V7 plaintext ("WhatsApp media test vector\n")
    static let plaintext = CryptoVectors.bytes("5768617473417070206d65646961207465737420766563746f720a")
    // V7 blob
    static let blob = CryptoVectors.bytes(
        "19a5de961f717940ce5205ef8b099729f4dd68c3fba4d0a8d6b67cdc92c0abd72be6281b0af2a42edffb")
    static let fileSHA256 = "d51e36cffec577aa1f4d5b3730a906d6437f8d7c1463e6a08ca1a527ed3b6aea"
    static let fileEncSHA256 = "7af72678a4c6711c4ddbb7d108ee2cecfc7658acfa7d3c181e7e9fa6efd6abef"

    @Test func imageKeyExpansionMatchesV7() throws {
        let keys = try MediaKeys(mediaKey: Self.mediaKey, kind: .image)
        #expect(
            CryptoVectors.hex(keys.iv + keys.cipherKey + keys.macKey + keys.refKey)
                == "3b9f9f4d37282def2d0991b71465445db9f77e196a7f6c73c65b21b72f6d6e5374cf4e9f7abafc6979d03712ce54f608ff4838374597f9a73b627dc218c459b8615dc6bdce9153804a532593d00a1af12cb9c176c5aee4c1680af853f439e408a42a467122d83f37d0dabd1284a809e9"
        )
        #expect(try MediaKeys(mediaKey: Self.mediaKey, kind: .sticker) == keys)
    }

    @Test(arguments: [
        (MediaKind.video, "e5619f59f132eab3bb7965e7b9b8cc3b"), (.gif, "e5619f59f132eab3bb7965e7b9b8cc3b"),
        (.audio, "3f6a3d1202b0d224d19ade3d195217f3"), (.ptt, "3f6a3d1202b0d224d19ade3d195217f3"),
        (.document, "68e03f0fe2063ce15a6e4c8bcb272679"), (.history, "52ee933ef7adf074633540073ffebf7e"),
        (.appState, "d0d91bbfc002fd07bcf6d7ecd4d8cf0e"), (.linkThumbnail, "3366880d96c9dfc5d0314ce8d304088d"),
    ])
    func otherKindsMatchV7IVs(kind: MediaKind, iv: String) throws {
        #expect(CryptoVectors.hex(try MediaKeys(mediaKey: Self.mediaKey, kind: kind).iv) == iv)
    }

    @Test func retryNotificationKeyMatchesV7() throws {
        #expect(
            CryptoVectors.hex(try MediaKeys.retryNotificationKey(mediaKey: Self.mediaKey))
                == "5f70c3dcbe672ce89a2963b423a298374d83076b263e0f8666232c13f1647b1a")
    }

    @Test func encryptionMatchesV7() throws {
        let (blob, digests) = try MediaEncryptor.encrypt(Self.plaintext, mediaKey: Self.mediaKey, kind: .image)
        #expect(blob == Self.blob)
        #expect(CryptoVectors.hex(Array(blob.suffix(10))) == "2be6281b0af2a42edffb")
        #expect(CryptoVectors.hex(digests.fileSHA256) == Self.fileSHA256)
        #expect(CryptoVectors.hex(digests.fileEncSHA256) == Self.fileEncSHA256)
        #expect(digests.fileLength == UInt64(Self.plaintext.count))
    }

    @Test func decryptionMatchesV7AndChecksHashes() throws {
        let (plaintext, digests) = try MediaDecryptor.decrypt(
            Self.blob, mediaKey: Self.mediaKey, kind: .image,
            expectedFileEncSHA256: CryptoVectors.bytes(Self.fileEncSHA256),
            expectedFileSHA256: CryptoVectors.bytes(Self.fileSHA256))
        #expect(plaintext == Self.plaintext)
        #expect(CryptoVectors.hex(digests.fileSHA256) == Self.fileSHA256)
        let wrongHash = [UInt8](repeating: 0, count: 32)
        let error = #expect(throws: ProtocolError.self) {
            try MediaDecryptor.decrypt(Self.blob, mediaKey: Self.mediaKey, kind: .image, expectedFileSHA256: wrongHash)
        }
        #expect(error?.kind == .authentication)
        #expect(throws: ProtocolError.self) {
            try MediaDecryptor.decrypt(
                Self.blob, mediaKey: Self.mediaKey, kind: .image, expectedFileEncSHA256: wrongHash)
        }
        // The right key under the wrong kind fails the MAC.
        #expect(throws: ProtocolError.self) {
            try MediaDecryptor.decrypt(Self.blob, mediaKey: Self.mediaKey, kind: .video)
        }
    }

    @Test(arguments: [0, 1, 15, 16, 17, 1_048_579])
    func streamingRoundTripInManyChunkSizes(size: Int) throws {
        let mediaKey = try MediaKeys.generateMediaKey()
        let plaintext = CryptoVectors.pseudoRandom(count: size, seed: UInt64(size) &+ 11)
        let (referenceBlob, referenceDigests) = try MediaEncryptor.encrypt(
            plaintext, mediaKey: mediaKey, kind: .document)
        #expect(referenceBlob.count == (size / 16 + 1) * 16 + 10)
        let chunkSizes = size > 100_000 ? [1000, 4096, 65_536, 65_537] : [1, 3, 10, 11, 16, 64, 65_536]
        for chunkSize in chunkSizes {
            let encryptor = try MediaEncryptor(mediaKey: mediaKey, kind: .document)
            var blob: [UInt8] = []
            for start in stride(from: 0, to: size, by: chunkSize) {
                let piece = try encryptor.update(plaintext[start..<min(start + chunkSize, size)])
                #expect(piece.count <= chunkSize + 16)
                blob += piece
            }
            let (tail, digests) = try encryptor.finish()
            blob += tail
            #expect(blob == referenceBlob)
            #expect(digests == referenceDigests)

            let decryptor = try MediaDecryptor(
                mediaKey: mediaKey, kind: .document, expectedFileEncSHA256: digests.fileEncSHA256,
                expectedFileSHA256: digests.fileSHA256)
            var decrypted: [UInt8] = []
            for start in stride(from: 0, to: blob.count, by: chunkSize) {
                let piece = try decryptor.update(Array(blob[start..<min(start + chunkSize, blob.count)]))
                #expect(piece.count <= chunkSize + 16)
                decrypted += piece
            }
            let (plainTail, decryptedDigests) = try decryptor.finish()
            decrypted += plainTail
            #expect(decrypted == plaintext)
            #expect(decryptedDigests == digests)
        }
    }

    @Test func tamperedBlobsAreRefused() throws {
        let mediaKey = try MediaKeys.generateMediaKey()
        let plaintext = CryptoVectors.pseudoRandom(count: 100, seed: 5)
        let (blob, _) = try MediaEncryptor.encrypt(plaintext, mediaKey: mediaKey, kind: .audio)
        // Flip a bit in the first ciphertext block, the last one, and the MAC.
        for index in [0, blob.count - 11, blob.count - 1] {
            var tampered = blob
            tampered[index] ^= 0x04
            let error = #expect(throws: ProtocolError.self) {
                try MediaDecryptor.decrypt(tampered, mediaKey: mediaKey, kind: .audio)
            }
            #expect(error?.kind == .authentication)
            let stream = try MediaDecryptor(mediaKey: mediaKey, kind: .audio)
            _ = try stream.update(tampered)
            #expect(throws: ProtocolError.self) { try stream.finish() }
        }
        // Truncated, extended, and too-short blobs.
        for bad in [Array(blob.dropLast()), blob + [0], Array(blob.prefix(25)), []] {
            #expect(throws: ProtocolError.self) { try MediaDecryptor.decrypt(bad, mediaKey: mediaKey, kind: .audio) }
            let stream = try MediaDecryptor(mediaKey: mediaKey, kind: .audio)
            _ = try stream.update(bad)
            #expect(throws: ProtocolError.self) { try stream.finish() }
        }
        #expect(throws: ProtocolError.self) { try MediaKeys(mediaKey: [1, 2, 3], kind: .image) }
    }

    @Test func finishedStreamsRefuseMoreInput() throws {
        let mediaKey = try MediaKeys.generateMediaKey()
        let encryptor = try MediaEncryptor(mediaKey: mediaKey, kind: .image)
        let (tail, _) = try encryptor.finish()
        #expect(tail.count == 16 + 10)
        #expect(throws: ProtocolError.self) { try encryptor.update([1]) }
        #expect(throws: ProtocolError.self) { try encryptor.finish() }
    }
}
