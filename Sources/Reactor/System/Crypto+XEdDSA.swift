internal import CSodium

/// libsignal's XEdDSA variant: Ed25519 signatures made and checked with Curve25519 (Montgomery) keys.
///
/// It differs from the XEdDSA paper in one point: instead of forcing the Edwards public key's sign bit to
/// zero, the signer copies that bit into the top bit of the signature's last byte (always zero in a valid
/// Ed25519 `S`), and the verifier moves it back (ref part 2 §1.2). The group and scalar operations are
/// libsodium's; only the Montgomery → Edwards coordinate map is ours (`Field25519`).
extension Crypto {
    /// Signs `message` with the Curve25519 `privateKey`; `random` is 64 bytes from a CSPRNG.
    ///
    /// The private key is clamped first, so a stored unclamped key signs the same as its clamped form (the
    /// form libsignal and whatsmeow keep). With a fixed `random` the signature is deterministic, which is
    /// how the reference vectors were made.
    package static func xeddsaSign(
        privateKey: [UInt8], message: some Collection<UInt8>, random: [UInt8]
    ) throws(ReactorError) -> [UInt8] {
        guard privateKey.count == 32 else { throw ReactorError.crypto("xeddsa sign: private key must be 32 bytes") }
        guard random.count == 64 else { throw ReactorError.crypto("xeddsa sign: random must be 64 bytes") }
        Sodium.ensureInitialized()
        let clamped = x25519Clamp(privateKey)
        let messageBytes = Array(message)
        let scalar = reduceScalar(clamped + [UInt8](repeating: 0, count: 32))
        let publicPoint = try edwardsBaseMultiply(scalar)
        let signBit = publicPoint[31] & 0x80

        // r = SHA-512(0xFE ‖ 0xFF×31 ‖ k ‖ M ‖ Z) mod ℓ: the 0xFE…FF prefix separates this hash from the
        // Ed25519 ones, and Z makes r unpredictable even if the key is reused on the same message.
        var nonceHash = IncrementalHash(.sha512)
        nonceHash.update([0xFE] + [UInt8](repeating: 0xFF, count: 31))
        nonceHash.update(clamped)
        nonceHash.update(messageBytes)
        nonceHash.update(random)
        let nonce = reduceScalar(nonceHash.finalize())
        let commitment = try edwardsBaseMultiply(nonce)

        var challengeHash = IncrementalHash(.sha512)
        challengeHash.update(commitment)
        challengeHash.update(publicPoint)
        challengeHash.update(messageBytes)
        let challenge = reduceScalar(challengeHash.finalize())

        var product = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_mul(&product, challenge, scalar)
        var s = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_add(&s, product, nonce)

        var signature = commitment + s
        signature[63] = (signature[63] & 0x7F) | signBit
        return signature
    }

    /// Verifies a 64-byte XEdDSA `signature` over `message` against the Curve25519 `publicKey` (32 bytes).
    ///
    /// Slightly stricter than libsignal, because the final check is libsodium's Ed25519 verification, which
    /// also rejects small-order `R` and public keys; no honest signer produces those.
    package static func xeddsaVerify(publicKey: [UInt8], message: some Collection<UInt8>, signature: [UInt8]) -> Bool {
        guard publicKey.count == 32, signature.count == 64 else { return false }
        // With the sign bit removed, S must be below 2^253 (a reduced scalar); libsodium checks S < ℓ too.
        guard signature[63] & 0x60 == 0 else { return false }
        guard let edwardsKey = edwardsPublicKey(montgomery: publicKey, signBit: signature[63] & 0x80) else {
            return false
        }
        var standard = signature
        standard[63] &= 0x7F
        return ed25519Verify(publicKey: edwardsKey, message: message, signature: standard)
    }

    /// Standard Ed25519 (RFC 8032) verification of `signature` over `message` with the Edwards `publicKey`.
    package static func ed25519Verify(publicKey: [UInt8], message: some Collection<UInt8>, signature: [UInt8]) -> Bool {
        guard publicKey.count == 32, signature.count == 64 else { return false }
        Sodium.ensureInitialized()
        let messageBytes = Array(message)
        return crypto_sign_ed25519_verify_detached(signature, messageBytes, UInt64(messageBytes.count), publicKey) == 0
    }

    /// The Edwards25519 encoding of the point with Montgomery u-coordinate `montgomery`: y = (u − 1)/(u + 1),
    /// with `signBit` (0x00 or 0x80) as the x sign bit. Nil for u = −1, which has no Edwards image.
    package static func edwardsPublicKey(montgomery: [UInt8], signBit: UInt8) -> [UInt8]? {
        guard montgomery.count == 32 else { return nil }
        let u = Field25519(bytes: montgomery)  // ignores bit 255, as libsignal does
        let denominator = u + .one
        guard !denominator.isZero else { return nil }
        var y = ((u - .one) * denominator.inverse).bytes
        y[31] |= signBit & 0x80
        return y
    }

    /// The Edwards public key A = clamp(`privateKey`)·B that XEdDSA signs with.
    package static func edwardsPublicKey(privateKey: [UInt8]) throws(ReactorError) -> [UInt8] {
        guard privateKey.count == 32 else { throw ReactorError.crypto("ed25519: private key must be 32 bytes") }
        Sodium.ensureInitialized()
        return try edwardsBaseMultiply(reduceScalar(x25519Clamp(privateKey) + [UInt8](repeating: 0, count: 32)))
    }

    // MARK: - Helpers

    /// A 64-byte little-endian integer reduced mod ℓ.
    private static func reduceScalar(_ wide: [UInt8]) -> [UInt8] {
        precondition(wide.count == 64)
        var reduced = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_reduce(&reduced, wide)
        return reduced
    }

    /// `scalar`·B. libsodium refuses a zero scalar (the identity); for a reduced hash or clamped key that
    /// has probability ~2^-252, so it is reported rather than handled.
    private static func edwardsBaseMultiply(_ scalar: [UInt8]) throws(ReactorError) -> [UInt8] {
        var point = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult_ed25519_base_noclamp(&point, scalar) == 0 else {
            throw ReactorError.crypto("ed25519 base multiplication")
        }
        return point
    }
}
