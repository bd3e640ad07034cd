import Reactor

/// The Noise "SymmetricState" of WhatsApp's XX handshake (ref part 1 §2.2): handshake hash `h`, chaining
/// key `ck`, AEAD key `k` and its counter `n`.
///
/// One key and one counter serve both directions during the handshake; `MixKey` resets the counter. The
/// transcript vectors name these values, so they are readable for tests.
package struct NoiseSymmetricState: Sendable {
    /// `h`: hash of everything sent so far, authenticated as AAD by every handshake ciphertext.
    package private(set) var handshakeHash: [UInt8]
    /// `ck`: the HKDF salt that every DH result is chained through.
    package private(set) var chainingKey: [UInt8]
    /// `k`: the current AES-256-GCM key.
    package private(set) var cipherKey: [UInt8]
    /// `n`: the nonce counter of `k`.
    package private(set) var nonce: UInt32

    /// `Initialize` then `MixHash(prologue)`. A 32-byte protocol name is used as `h` directly (Noise §5.2),
    /// which WhatsApp's zero-padded name is; any other length is hashed.
    package init(protocolName: [UInt8], prologue: [UInt8]) {
        let initial = protocolName.count == 32 ? protocolName : Crypto.sha256(protocolName)
        handshakeHash = initial
        chainingKey = initial
        cipherKey = initial
        nonce = 0
        mixHash(prologue)
    }

    /// `h = SHA-256(h ‖ data)`.
    package mutating func mixHash(_ data: some Collection<UInt8>) {
        var hasher = Crypto.IncrementalHash(.sha256)
        hasher.update(handshakeHash)
        hasher.update(data)
        handshakeHash = hasher.finalize()
    }

    /// `ck, k = HKDF(ikm, salt = ck, info = "", 64)`; `n = 0`.
    package mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let output = Crypto.hkdfSHA256(ikm: inputKeyMaterial, salt: chainingKey, info: [UInt8](), count: 64)
        chainingKey = Array(output[0..<32])
        cipherKey = Array(output[32..<64])
        nonce = 0
    }

    /// Seals `plaintext` under `k` with nonce `n` and AAD `h`, then mixes the ciphertext into `h`.
    package mutating func encryptAndHash(_ plaintext: [UInt8]) throws(ProtocolError) -> [UInt8] {
        let iv = try Self.iv(nextNonce())
        let ciphertext = try ProtocolError.fromCrypto("handshake encrypt") { () throws(ReactorError) in
            try Crypto.aes256GCMSeal(key: cipherKey, iv: iv, plaintext: plaintext, aad: handshakeHash)
        }
        mixHash(ciphertext)
        return ciphertext
    }

    /// Opens `ciphertext` under `k` with nonce `n` and AAD `h`, then mixes the *ciphertext* into `h`.
    package mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(ProtocolError) -> [UInt8] {
        let iv = try Self.iv(nextNonce())
        let plaintext = try ProtocolError.fromCrypto("handshake decrypt", as: .authentication) {
            () throws(ReactorError) in
            try Crypto.aes256GCMOpen(key: cipherKey, iv: iv, ciphertext: ciphertext, aad: handshakeHash)
        }
        mixHash(ciphertext)
        return plaintext
    }

    /// `Split`: the two transport keys, `HKDF(ikm = "", salt = ck, info = "", 64)` → (initiator's write key,
    /// responder's write key).
    package func split() -> (initiatorKey: [UInt8], responderKey: [UInt8]) {
        let output = Crypto.hkdfSHA256(ikm: [UInt8](), salt: chainingKey, info: [UInt8](), count: 64)
        return (Array(output[0..<32]), Array(output[32..<64]))
    }

    private mutating func nextNonce() throws(ProtocolError) -> UInt32 {
        guard nonce < UInt32.max else { throw ProtocolError.unexpected("handshake nonce exhausted") }
        defer { nonce += 1 }
        return nonce
    }

    /// The 12-byte AES-GCM IV for counter `n`: eight zero bytes then `n` big-endian (ref §2.1).
    static func iv(_ counter: UInt32) -> [UInt8] {
        [
            0, 0, 0, 0, 0, 0, 0, 0, UInt8(counter >> 24), UInt8(truncatingIfNeeded: counter >> 16),
            UInt8(truncatingIfNeeded: counter >> 8), UInt8(truncatingIfNeeded: counter),
        ]
    }
}
