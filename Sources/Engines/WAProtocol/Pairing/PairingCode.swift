import Reactor

/// Phone-number ("link code") pairing (ref part 1 §5.7), both the companion's side and the primary's.
///
/// The 8-character code the user types on the phone protects the two ephemeral keys in transit:
///
///     key  = PBKDF2-HMAC-SHA256(code, salt, 131072, 32)
///     wrap = salt(32) ‖ iv(16) ‖ AES-256-CTR(key, iv)(ephemeralPub)            (80 bytes)
///
/// After swapping wrapped ephemerals, the companion sends its identity and a random value inside a key
/// bundle encrypted under a key from the ephemeral DH, and both sides derive the new ADV secret from the
/// ephemeral DH, the identity DH and that random value.
package enum PairingCode {
    /// Crockford-like base32 alphabet without 0, I, O, U.
    package static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTVWXYZ".utf8)
    /// PBKDF2 iteration count (2 << 16).
    package static let pbkdf2Iterations = 131_072
    /// Size of a wrapped ephemeral key: salt 32 + iv 16 + key 32.
    package static let wrappedKeySize = 80
    static let keyBundleInfo = Array("link_code_pairing_key_bundle_encryption_key".utf8)
    static let advSecretInfo = Array("adv_secret".utf8)

    // MARK: - Code

    /// The code for 5 random bytes: 40 bits as eight 5-bit digits, most significant first.
    package static func code(from bytes: [UInt8]) -> String {
        precondition(bytes.count == 5, "a pairing code encodes 5 bytes")
        let value = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let digits = (0..<8).map { index in alphabet[Int(value >> UInt64(35 - 5 * index) & 31)] }
        return String(decoding: digits, as: UTF8.self)
    }

    /// A fresh random code (display it as `XXXX-XXXX`; the dash is not part of the key material).
    package static func generateCode() throws(ProtocolError) -> String {
        code(from: try random(5))
    }

    // MARK: - Ephemeral key wrapping

    /// `PBKDF2-HMAC-SHA256(code, salt, 131072, 32)`.
    package static func wrappingKey(code: String, salt: [UInt8]) throws(ProtocolError) -> [UInt8] {
        try ProtocolError.fromCrypto("pairing code pbkdf2") { () throws(ReactorError) in
            try Crypto.pbkdf2SHA256(password: Array(code.utf8), salt: salt, iterations: pbkdf2Iterations, count: 32)
        }
    }

    /// `salt ‖ iv ‖ AES-256-CTR(wrappingKey(code, salt), iv)(publicKey)`; fresh salt and iv when not given.
    package static func wrap(
        publicKey: [UInt8], code: String, salt: [UInt8]? = nil, iv: [UInt8]? = nil
    ) throws(ProtocolError) -> [UInt8] {
        guard publicKey.count == 32 else { throw ProtocolError.malformed("wrapped key must be 32 bytes") }
        let salt = try given(salt, orRandom: 32)
        let iv = try given(iv, orRandom: 16)
        guard salt.count == 32, iv.count == 16 else { throw ProtocolError.malformed("wrap salt/iv sizes") }
        let key = try wrappingKey(code: code, salt: salt)
        let body = try ProtocolError.fromCrypto("pairing code wrap") { () throws(ReactorError) in
            try Crypto.aes256CTR(key: key, iv: iv, publicKey)
        }
        return salt + iv + body
    }

    /// The 32-byte key inside an 80-byte `wrap`. CTR has no integrity: a wrong code yields a wrong key, which
    /// surfaces later as a failed key bundle or HMAC.
    package static func unwrap(_ wrapped: [UInt8], code: String) throws(ProtocolError) -> [UInt8] {
        guard wrapped.count == wrappedKeySize else { throw ProtocolError.malformed("wrapped key is not 80 bytes") }
        let key = try wrappingKey(code: code, salt: Array(wrapped[0..<32]))
        return try ProtocolError.fromCrypto("pairing code unwrap") { () throws(ReactorError) in
            try Crypto.aes256CTR(key: key, iv: Array(wrapped[32..<48]), wrapped[48..<80])
        }
    }

    // MARK: - Key bundle and ADV secret

    /// `HKDF-SHA256(ephemeralShared, salt = bundleSalt, "link_code_pairing_key_bundle_encryption_key", 32)`.
    package static func keyBundleKey(ephemeralShared: [UInt8], bundleSalt: [UInt8]) -> [UInt8] {
        Crypto.hkdfSHA256(ikm: ephemeralShared, salt: bundleSalt, info: keyBundleInfo, count: 32)
    }

    /// `HKDF-SHA256(ephemeralShared ‖ identityShared ‖ advRandom, no salt, "adv_secret", 32)`.
    package static func advSecret(ephemeralShared: [UInt8], identityShared: [UInt8], advRandom: [UInt8]) -> [UInt8] {
        Crypto.hkdfSHA256(ikm: ephemeralShared + identityShared + advRandom, info: advSecretInfo, count: 32)
    }

    /// What the companion sends in `companion_finish` and the ADV secret it must switch to.
    package struct CompanionFinish: Sendable, Equatable {
        /// `bundleSalt(32) ‖ bundleNonce(12) ‖ AES-GCM(ownIdentity ‖ primaryIdentity ‖ advRandom)` (156 bytes).
        package let wrappedKeyBundle: [UInt8]
        /// Replaces the stored ADV secret: it keys the coming `pair-success` HMAC.
        package let advSecret: [UInt8]
    }

    /// Companion stage 2 (`primary_hello` → `companion_finish`), steps 2–8 of §5.7. The random inputs are
    /// generated when not given (tests pass fixed ones).
    package static func companionFinish(
        code: String, companionEphemeral: Crypto.X25519KeyPair, wrappedPrimaryEphemeral: [UInt8],
        primaryIdentityKey: [UInt8], companionIdentity: Crypto.X25519KeyPair,
        advRandom: [UInt8]? = nil, bundleSalt: [UInt8]? = nil, bundleNonce: [UInt8]? = nil
    ) throws(ProtocolError) -> CompanionFinish {
        guard primaryIdentityKey.count == 32 else { throw ProtocolError.malformed("primary identity is not 32 bytes") }
        let primaryEphemeral = try unwrap(wrappedPrimaryEphemeral, code: code)
        let ephemeralShared = try NoiseHandshake.dh(companionEphemeral.privateKey, primaryEphemeral)
        let advRandom = try given(advRandom, orRandom: 32)
        let bundleSalt = try given(bundleSalt, orRandom: 32)
        let bundleNonce = try given(bundleNonce, orRandom: 12)
        guard advRandom.count == 32, bundleSalt.count == 32, bundleNonce.count == 12 else {
            throw ProtocolError.malformed("key bundle random sizes")
        }
        let key = keyBundleKey(ephemeralShared: ephemeralShared, bundleSalt: bundleSalt)
        let plaintext = companionIdentity.publicKey + primaryIdentityKey + advRandom
        let sealed = try ProtocolError.fromCrypto("key bundle seal") { () throws(ReactorError) in
            try Crypto.aes256GCMSeal(key: key, iv: bundleNonce, plaintext: plaintext)
        }
        let identityShared = try NoiseHandshake.dh(companionIdentity.privateKey, primaryIdentityKey)
        return CompanionFinish(
            wrappedKeyBundle: bundleSalt + bundleNonce + sealed,
            advSecret: advSecret(ephemeralShared: ephemeralShared, identityShared: identityShared, advRandom: advRandom)
        )
    }

    /// What the primary learns from `companion_finish`.
    package struct PrimaryFinish: Sendable, Equatable {
        /// The companion identity inside the bundle (checked against the `companion_identity_public` element).
        package let companionIdentityKey: [UInt8]
        /// The ADV secret to HMAC the `pair-success` with.
        package let advSecret: [UInt8]
    }

    /// The primary's side of `companion_finish`: opens the key bundle with the DH of its own ephemeral and the
    /// companion's (already unwrapped) ephemeral, checks both identity keys, derives the ADV secret.
    package static func primaryFinish(
        wrappedKeyBundle: [UInt8], primaryEphemeral: Crypto.X25519KeyPair, companionEphemeralKey: [UInt8],
        primaryIdentity: Crypto.X25519KeyPair, companionIdentityKey: [UInt8]
    ) throws(ProtocolError) -> PrimaryFinish {
        guard wrappedKeyBundle.count == 32 + 12 + 96 + Crypto.aesGCMTagSize else {
            throw ProtocolError.malformed("wrapped key bundle is not 156 bytes")
        }
        let ephemeralShared = try NoiseHandshake.dh(primaryEphemeral.privateKey, companionEphemeralKey)
        let key = keyBundleKey(ephemeralShared: ephemeralShared, bundleSalt: Array(wrappedKeyBundle[0..<32]))
        let bundle = try ProtocolError.fromCrypto("key bundle open", as: .authentication) { () throws(ReactorError) in
            try Crypto.aes256GCMOpen(
                key: key, iv: Array(wrappedKeyBundle[32..<44]), ciphertext: wrappedKeyBundle[44...])
        }
        let bundledCompanion = Array(bundle[0..<32])
        guard Crypto.constantTimeEquals(bundledCompanion, companionIdentityKey),
            Crypto.constantTimeEquals(Array(bundle[32..<64]), primaryIdentity.publicKey)
        else { throw ProtocolError.authentication("key bundle identities do not match") }
        let identityShared = try NoiseHandshake.dh(primaryIdentity.privateKey, bundledCompanion)
        return PrimaryFinish(
            companionIdentityKey: bundledCompanion,
            advSecret: advSecret(
                ephemeralShared: ephemeralShared, identityShared: identityShared, advRandom: Array(bundle[64..<96])))
    }

    private static func given(_ value: [UInt8]?, orRandom count: Int) throws(ProtocolError) -> [UInt8] {
        if let value { return value }
        return try random(count)
    }

    private static func random(_ count: Int) throws(ProtocolError) -> [UInt8] {
        do { return try Crypto.randomBytes(count) } catch { throw ProtocolError.crypto("random bytes: \(error)") }
    }
}
