import Reactor

/// Streaming media encryption (ref part 2 §5.2):
///
///     ciphertext = AES-256-CBC(cipherKey, iv, PKCS7(plaintext))
///     mac        = HMAC-SHA256(macKey, iv ‖ ciphertext)[0..<10]
///     blob       = ciphertext ‖ mac
///
/// Feed plaintext in chunks of any size with `update`, upload each returned piece, then append what
/// `finish()` returns (last ciphertext block and the MAC). Memory use is one chunk plus constant state,
/// so a 100 MB video never sits in memory. `fileSHA256`/`fileEncSHA256` are computed on the way.
/// A reference type (it owns an OpenSSL context); use from one thread at a time.
package final class MediaEncryptor {
    private let cipher: Crypto.AESCBCStream
    private var mac: Crypto.IncrementalHMAC
    private var plainHash = Crypto.IncrementalHash(.sha256)
    private var blobHash = Crypto.IncrementalHash(.sha256)
    private var length: UInt64 = 0
    private var finished = false

    /// An encryptor for `mediaKey` expanded as `kind`.
    package init(mediaKey: [UInt8], kind: MediaKind) throws(ProtocolError) {
        let keys = try MediaKeys(mediaKey: mediaKey, kind: kind)
        cipher = try ProtocolError.fromCrypto("media cipher") { () throws(ReactorError) in
            try Crypto.AESCBCStream(key: keys.cipherKey, iv: keys.iv, direction: .encrypt)
        }
        mac = Crypto.IncrementalHMAC(.sha256, key: keys.macKey)
        mac.update(keys.iv)
    }

    /// Encrypts the next piece of plaintext; returns the ciphertext ready so far (whole blocks; may be empty).
    package func update(_ plaintext: some Collection<UInt8>) throws(ProtocolError) -> [UInt8] {
        guard !finished else { throw ProtocolError.unexpected("media encryptor already finished") }
        plainHash.update(plaintext)
        length += UInt64(plaintext.count)
        let ciphertext = try ProtocolError.fromCrypto("media encrypt") { () throws(ReactorError) in
            try cipher.update(plaintext)
        }
        mac.update(ciphertext)
        blobHash.update(ciphertext)
        return ciphertext
    }

    /// Pads and encrypts the final block; returns it followed by the 10-byte MAC, plus the digests.
    package func finish() throws(ProtocolError) -> (tail: [UInt8], digests: MediaDigests) {
        guard !finished else { throw ProtocolError.unexpected("media encryptor already finished") }
        finished = true
        var tail = try ProtocolError.fromCrypto("media encrypt") { () throws(ReactorError) in try cipher.finish() }
        mac.update(tail)
        tail += mac.finalize().prefix(MediaKeys.macSize)
        blobHash.update(tail)
        return (
            tail, MediaDigests(fileSHA256: plainHash.finalize(), fileEncSHA256: blobHash.finalize(), fileLength: length)
        )
    }

    /// Encrypts a whole in-memory plaintext (thumbnails, small blobs): the blob and its digests.
    package static func encrypt(
        _ plaintext: [UInt8], mediaKey: [UInt8], kind: MediaKind
    ) throws(ProtocolError) -> (blob: [UInt8], digests: MediaDigests) {
        let encryptor = try MediaEncryptor(mediaKey: mediaKey, kind: kind)
        var blob = try encryptor.update(plaintext)
        let (tail, digests) = try encryptor.finish()
        blob += tail
        return (blob, digests)
    }
}
