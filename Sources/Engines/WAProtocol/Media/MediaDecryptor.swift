import Reactor

/// Streaming media decryption and verification (ref part 2 §5.2, §5.5).
///
/// **Trade-off, chosen deliberately:** `update` returns plaintext *before* the MAC at the end of the blob
/// has been seen, because holding a 100 MB download in memory to check the MAC first is exactly what
/// streaming is meant to avoid. Everything `update` returns is therefore provisional: write it to a
/// temporary file and keep that file only if `finish()` returns; if `finish()` (or any `update`) throws,
/// delete it. Provisional plaintext may have been altered by whoever altered the ciphertext, so it must never
/// be shown, parsed or forwarded before `finish()` succeeds.
///
/// `finish()` checks, in this order, the MAC, the optional `fileEncSHA256`, the padding, and the optional
/// `fileSHA256`, and only then releases the final block. The cipher withholds the last block until then, so
/// a padding failure is never observable before authentication (no padding oracle). For blobs already in
/// memory, `decrypt(_:mediaKey:kind:)` checks the MAC first and decrypts afterwards, so it never produces
/// unauthenticated plaintext at all. A reference type (it owns an OpenSSL context); one thread at a time.
package final class MediaDecryptor {
    private let cipher: Crypto.AESCBCStream
    private var mac: Crypto.IncrementalHMAC
    private var plainHash = Crypto.IncrementalHash(.sha256)
    private var blobHash = Crypto.IncrementalHash(.sha256)
    private let expectedFileEncSHA256: [UInt8]?
    private let expectedFileSHA256: [UInt8]?
    /// The last (up to) 10 bytes seen: they may be the MAC, so they stay out of the cipher until `finish()`.
    private var held: [UInt8] = []
    private var ciphertextLength: UInt64 = 0
    private var plaintextLength: UInt64 = 0
    private var finished = false

    /// A decryptor for `mediaKey` expanded as `kind`, optionally checking the message's hashes.
    package init(
        mediaKey: [UInt8], kind: MediaKind, expectedFileEncSHA256: [UInt8]? = nil, expectedFileSHA256: [UInt8]? = nil
    ) throws(ProtocolError) {
        let keys = try MediaKeys(mediaKey: mediaKey, kind: kind)
        cipher = try ProtocolError.fromCrypto("media cipher") { () throws(ReactorError) in
            try Crypto.AESCBCStream(key: keys.cipherKey, iv: keys.iv, direction: .decrypt)
        }
        mac = Crypto.IncrementalHMAC(.sha256, key: keys.macKey)
        mac.update(keys.iv)
        self.expectedFileEncSHA256 = expectedFileEncSHA256
        self.expectedFileSHA256 = expectedFileSHA256
    }

    /// Takes the next piece of the downloaded blob; returns provisional plaintext (see the type's notes).
    package func update(_ chunk: [UInt8]) throws(ProtocolError) -> [UInt8] {
        guard !finished else { throw ProtocolError.unexpected("media decryptor already finished") }
        blobHash.update(chunk)
        let keep = MediaKeys.macSize
        if held.count + chunk.count <= keep {
            held += chunk
            return []
        }
        // Release the oldest bytes so that exactly the last `keep` bytes stay held.
        let releaseFromChunk = max(0, chunk.count - keep)
        let releaseFromHeld = held.count + chunk.count - keep - releaseFromChunk
        var output = try absorb(held[0..<releaseFromHeld])
        output += try absorb(chunk[0..<releaseFromChunk])
        held = Array(held[releaseFromHeld...]) + chunk[releaseFromChunk...]
        return output
    }

    /// Verifies the MAC (and the expected hashes, if given) and returns the last plaintext with the digests.
    /// Throws `.authentication` on any mismatch and `.malformed` for a blob too short or of a bad length.
    package func finish() throws(ProtocolError) -> (tail: [UInt8], digests: MediaDigests) {
        guard !finished else { throw ProtocolError.unexpected("media decryptor already finished") }
        finished = true
        guard held.count == MediaKeys.macSize, ciphertextLength >= 16, ciphertextLength % 16 == 0 else {
            throw ProtocolError.malformed("media blob length \(ciphertextLength + UInt64(held.count)) is not 16n + 10")
        }
        let expectedMAC = Array(mac.finalize().prefix(MediaKeys.macSize))
        guard Crypto.constantTimeEquals(expectedMAC, held) else {
            throw ProtocolError.authentication("media MAC mismatch")
        }
        let fileEncSHA256 = blobHash.finalize()
        if let expectedFileEncSHA256, !Crypto.constantTimeEquals(expectedFileEncSHA256, fileEncSHA256) {
            throw ProtocolError.authentication("media fileEncSHA256 mismatch")
        }
        let tail = try ProtocolError.fromCrypto("media decrypt (padding)", as: .authentication) {
            () throws(ReactorError) in
            try cipher.finish()
        }
        plainHash.update(tail)
        plaintextLength += UInt64(tail.count)
        let fileSHA256 = plainHash.finalize()
        if let expectedFileSHA256, !Crypto.constantTimeEquals(expectedFileSHA256, fileSHA256) {
            throw ProtocolError.authentication("media fileSHA256 mismatch")
        }
        return (tail, MediaDigests(fileSHA256: fileSHA256, fileEncSHA256: fileEncSHA256, fileLength: plaintextLength))
    }

    /// Decrypts a whole in-memory blob, checking the MAC before decrypting anything.
    package static func decrypt(
        _ blob: [UInt8], mediaKey: [UInt8], kind: MediaKind, expectedFileEncSHA256: [UInt8]? = nil,
        expectedFileSHA256: [UInt8]? = nil
    ) throws(ProtocolError) -> (plaintext: [UInt8], digests: MediaDigests) {
        let keys = try MediaKeys(mediaKey: mediaKey, kind: kind)
        guard blob.count >= 16 + MediaKeys.macSize, (blob.count - MediaKeys.macSize) % 16 == 0 else {
            throw ProtocolError.malformed("media blob length \(blob.count) is not 16n + 10")
        }
        let ciphertext = blob[0..<(blob.count - MediaKeys.macSize)]
        var mac = Crypto.IncrementalHMAC(.sha256, key: keys.macKey)
        mac.update(keys.iv)
        mac.update(ciphertext)
        guard
            Crypto.constantTimeEquals(
                Array(mac.finalize().prefix(MediaKeys.macSize)), Array(blob.suffix(MediaKeys.macSize)))
        else { throw ProtocolError.authentication("media MAC mismatch") }
        // The MAC is good, so the streaming path below cannot hand out unauthenticated bytes.
        let decryptor = try MediaDecryptor(
            mediaKey: mediaKey, kind: kind, expectedFileEncSHA256: expectedFileEncSHA256,
            expectedFileSHA256: expectedFileSHA256)
        var plaintext = try decryptor.update(blob)
        let (tail, digests) = try decryptor.finish()
        plaintext += tail
        return (plaintext, digests)
    }

    /// Feeds released ciphertext to the MAC and the cipher.
    private func absorb(_ ciphertext: ArraySlice<UInt8>) throws(ProtocolError) -> [UInt8] {
        guard !ciphertext.isEmpty else { return [] }
        mac.update(ciphertext)
        ciphertextLength += UInt64(ciphertext.count)
        let plaintext = try ProtocolError.fromCrypto("media decrypt") { () throws(ReactorError) in
            try cipher.update(ciphertext)
        }
        plainHash.update(plaintext)
        plaintextLength += UInt64(plaintext.count)
        return plaintext
    }
}
