import Foundation
import Testing

@testable import WAProtocol

/// File-to-file media crypto gives exactly what the whole-buffer encryptor and decryptor give,
/// at sizes around the block and chunk edges, and leaves no output behind when a blob is refused.
struct MediaFileCryptoTests {
    static let chunk = MediaFileCrypto.chunkSize
    static let sizes = [0, 1, 15, 16, 17, chunk - 1, chunk, 3 * chunk + 17]

    private func path(_ name: String) -> String { NSTemporaryDirectory() + "openwa-filecrypto-\(name)-\(UUID().uuidString)" }

    private func contents(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    @Test(arguments: sizes)
    func encryptingAFileMatchesTheWholeBufferEncryptor(size: Int) throws {
        let plaintext = CryptoVectors.pseudoRandom(count: size, seed: UInt64(size) + 3)
        let mediaKey = try MediaKeys.generateMediaKey()
        let (source, destination) = (path("plain"), path("blob"))
        defer {
            unlink(source)
            unlink(destination)
        }
        try Data(plaintext).write(to: URL(fileURLWithPath: source))
        let digests = try MediaFileCrypto.encrypt(source: source, destination: destination, mediaKey: mediaKey, kind: .document)
        let (blob, expected) = try MediaEncryptor.encrypt(plaintext, mediaKey: mediaKey, kind: .document)
        #expect(try contents(destination) == blob)
        #expect(digests == expected)
        // From bytes in memory to a file, the same again.
        unlink(destination)
        let fromMemory = try MediaFileCrypto.encrypt(plaintext, destination: destination, mediaKey: mediaKey, kind: .document)
        #expect(try contents(destination) == blob)
        #expect(fromMemory == expected)
    }

    @Test(arguments: sizes)
    func decryptingAFileMatchesTheWholeBufferDecryptor(size: Int) throws {
        let plaintext = CryptoVectors.pseudoRandom(count: size, seed: UInt64(size) + 11)
        let mediaKey = try MediaKeys.generateMediaKey()
        let (blob, digests) = try MediaEncryptor.encrypt(plaintext, mediaKey: mediaKey, kind: .video)
        let (source, destination) = (path("blob"), path("plain"))
        defer {
            unlink(source)
            unlink(destination)
        }
        try Data(blob).write(to: URL(fileURLWithPath: source))
        let opened = try MediaFileCrypto.decrypt(
            source: source, destination: destination, mediaKey: mediaKey, kind: .video,
            expectedFileEncSHA256: digests.fileEncSHA256, expectedFileSHA256: digests.fileSHA256)
        let reference = try MediaDecryptor.decrypt(blob, mediaKey: mediaKey, kind: .video)
        #expect(try contents(destination) == reference.plaintext)
        #expect(reference.plaintext == plaintext)
        #expect(opened == digests)
    }

    @Test(arguments: [17, 3 * MediaFileCrypto.chunkSize + 17])
    func aTamperedBlobIsRefusedAndLeavesNoPlaintext(size: Int) throws {
        let plaintext = CryptoVectors.pseudoRandom(count: size, seed: 5)
        let mediaKey = try MediaKeys.generateMediaKey()
        var (blob, _) = try MediaEncryptor.encrypt(plaintext, mediaKey: mediaKey, kind: .image)
        let (source, destination) = (path("blob"), path("plain"))
        defer { unlink(source) }
        for (place, label) in [(blob.count - 1, "MAC"), (blob.count / 2, "ciphertext")] {
            var tampered = blob
            tampered[place] ^= 0x40
            try Data(tampered).write(to: URL(fileURLWithPath: source))
            let error = #expect(throws: ProtocolError.self, "\(label)") {
                try MediaFileCrypto.decrypt(source: source, destination: destination, mediaKey: mediaKey, kind: .image)
            }
            #expect(error?.kind == .authentication, "\(label)")
            #expect(!FileManager.default.fileExists(atPath: destination), "\(label): provisional plaintext left behind")
        }
        // A blob cut short is malformed, and leaves nothing either.
        blob.removeLast(3)
        try Data(blob).write(to: URL(fileURLWithPath: source))
        #expect(throws: ProtocolError.self) {
            try MediaFileCrypto.decrypt(source: source, destination: destination, mediaKey: mediaKey, kind: .image)
        }
        #expect(!FileManager.default.fileExists(atPath: destination))
    }
}
