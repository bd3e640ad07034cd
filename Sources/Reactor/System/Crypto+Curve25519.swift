internal import CSodium

extension Crypto {
    /// A Curve25519 key pair: 32-byte clamped private scalar and 32-byte Montgomery u-coordinate.
    ///
    /// Signal's 33-byte "DJB" serialisation (`0x05 ‖ key`) is a protocol-level concern, handled above this.
    package struct X25519KeyPair: Sendable, Equatable {
        /// The clamped 32-byte private scalar.
        package let privateKey: [UInt8]
        /// The 32-byte Montgomery u-coordinate.
        package let publicKey: [UInt8]

        /// A pair from a stored private key; the key is clamped and its public half recomputed.
        package init(privateKey: [UInt8]) throws(ReactorError) {
            let clamped = Crypto.x25519Clamp(privateKey)
            self.privateKey = clamped
            publicKey = try Crypto.x25519PublicKey(privateKey: clamped)
        }
    }

    /// A fresh key pair from the CSPRNG.
    package static func x25519KeyPair() throws(ReactorError) -> X25519KeyPair {
        let seed: [UInt8]
        do { seed = try randomBytes(32) } catch { throw ReactorError.crypto("RAND_bytes") }
        return try X25519KeyPair(privateKey: seed)
    }

    /// RFC 7748 clamping: clear the low 3 bits and bit 255, set bit 254.
    ///
    /// X25519 clamps internally anyway; storing the clamped form matters for XEdDSA, which uses the private
    /// key bytes as an Edwards scalar directly.
    package static func x25519Clamp(_ privateKey: [UInt8]) -> [UInt8] {
        precondition(privateKey.count == 32, "Curve25519 private keys are 32 bytes")
        var key = privateKey
        key[0] &= 248
        key[31] &= 127
        key[31] |= 64
        return key
    }

    /// The public key (u-coordinate of `privateKey`·9) of a 32-byte private key.
    package static func x25519PublicKey(privateKey: [UInt8]) throws(ReactorError) -> [UInt8] {
        guard privateKey.count == 32 else { throw ReactorError.crypto("x25519: private key must be 32 bytes") }
        Sodium.ensureInitialized()
        var publicKey = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult_curve25519_base(&publicKey, privateKey) == 0 else {
            throw ReactorError.crypto("x25519 public key")
        }
        return publicKey
    }

    /// The X25519 shared secret of `privateKey` and the peer's `publicKey`.
    ///
    /// Throws when the result is all zeros, i.e. the peer sent a small-order point: such a "secret" is known
    /// to anyone, and libsodium refuses it.
    package static func x25519(privateKey: [UInt8], publicKey: [UInt8]) throws(ReactorError) -> [UInt8] {
        guard privateKey.count == 32, publicKey.count == 32 else {
            throw ReactorError.crypto("x25519: keys must be 32 bytes")
        }
        Sodium.ensureInitialized()
        var shared = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult_curve25519(&shared, privateKey, publicKey) == 0 else {
            throw ReactorError.crypto("x25519: low-order public key")
        }
        return shared
    }
}
