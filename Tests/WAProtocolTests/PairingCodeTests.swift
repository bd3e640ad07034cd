import Reactor
import Testing

@testable import WAProtocol

/// Phone-number pairing: ref part 1 §7.5 (JSON keys `paircode.*`, `key.pair-code-*`).
struct PairingCodeTests {
    static let code = "15JMBSWA"  // paircode.code(from 0123456789)
    static let salt = CryptoVectors.bytes("a77245945ff40e5f912285cad1fa09dfbd086673c440bf958932d6418de68207")  // paircode.salt
    static let iv = CryptoVectors.bytes("4365ca3a14708081a3ae68d18401ba5c")  // paircode.iv
    // key.pair-code-companion-ephemeral.*, key.pair-code-primary-ephemeral.*
    static let companionEphemeral = CryptoVectors.bytes(
        "680147b7368eafbe8aed13577518e98f3fec731ed95fbb356c86e55abe989c48")
    static let primaryEphemeral = CryptoVectors.bytes(
        "58e66661415c8cb8e9e1761f57344eb8e807e2781a56b63f56f5952dd5e94778")
    // key.client-identity.priv, key.phone-account-identity.priv
    static let companionIdentity = CryptoVectors.bytes(
        "30540783e788824fd7783d659090ea6a1314717fd4ce1b55f1f555a7c0832471")
    static let primaryIdentity = CryptoVectors.bytes("00a828bdbd84ae7a89cb871951953b95577b004b77969fa6b3f05afeab1e8353")
    // paircode.wrapped_companion_ephemeral_pub(80B)
    static let wrappedCompanion =
        "a77245945ff40e5f912285cad1fa09dfbd086673c440bf958932d6418de682074365ca3a14708081a3ae68d18401ba5c10d5ba382cfc9d28113c64a61c9153f774ac876251c46ad38fe3089b5124900a"
    // paircode.wrapped_key_bundle
    static let wrappedBundle =
        "81804172f40ce9239276a33d80b7962906a868fd82c18e2423ed36072117b041e932f68ae472bb70d8d94cace141a486ec9d95ed6eb02da0b319aef24db41d40dbee67740f41d3b394f4b6f038e23d773e2c4197f6e87535c0cbe2563f60001218396e35f0314595d314a5af6d18852cbc729e6f9e908c04f6a13bf65b99b89a418acb47b6d5ed29a7dd625144809c23f569df301399ff1b49942558"
    // paircode.adv_secret
    static let advSecret = "86fd4553c3ec2a131cfcc30c1fe509d13b7a228b15284e55f180c0e3afac96bc"

    static func pair(_ key: [UInt8]) throws -> Crypto.X25519KeyPair { try Crypto.X25519KeyPair(privateKey: key) }
    // advRandom = SHA-256("pc-adv-random"), bundleSalt = SHA-256("pc-kb-salt"), bundleNonce = SHA-256("pc-kb-nonce")[0..<12]
    static let advRandom = Crypto.sha256(Array("pc-adv-random".utf8))
    static let bundleSalt = Crypto.sha256(Array("pc-kb-salt".utf8))
    static let bundleNonce = Array(Crypto.sha256(Array("pc-kb-nonce".utf8)).prefix(12))

    @Test func codeAlphabetMatchesVector() throws {
        #expect(PairingCode.code(from: [0x01, 0x23, 0x45, 0x67, 0x89]) == Self.code)
        #expect(PairingCode.code(from: [0, 0, 0, 0, 0]) == "11111111")
        #expect(PairingCode.code(from: [0xff, 0xff, 0xff, 0xff, 0xff]) == "ZZZZZZZZ")
        let fresh = try PairingCode.generateCode()
        #expect(fresh.utf8.count == 8 && fresh.utf8.allSatisfy { PairingCode.alphabet.contains($0) })
    }

    @Test func companionEphemeralWrapMatchesVector() throws {
        // paircode.pbkdf2key
        #expect(
            CryptoVectors.hex(try PairingCode.wrappingKey(code: Self.code, salt: Self.salt))
                == "736c0dd2fdd3139d4f0a9feb561aedd236525fdeeb40ce1aade67d765d37d5fa")
        let companion = try Self.pair(Self.companionEphemeral)
        #expect(
            CryptoVectors.hex(companion.publicKey) == "b892edb5695a8a3b56df854ebf5a85b5d5e52f8edfe5dc64a7dd0bb4ff14956d"
        )
        let wrapped = try PairingCode.wrap(
            publicKey: companion.publicKey, code: Self.code, salt: Self.salt, iv: Self.iv)
        #expect(CryptoVectors.hex(wrapped) == Self.wrappedCompanion)
        #expect(try PairingCode.unwrap(wrapped, code: Self.code) == companion.publicKey)
        #expect(try PairingCode.unwrap(wrapped, code: "15JMBSWB") != companion.publicKey)
        #expect(throws: ProtocolError.self) { try PairingCode.unwrap(Array(wrapped.prefix(79)), code: Self.code) }
    }

    @Test func companionFinishMatchesVectors() throws {
        let companionEphemeral = try Self.pair(Self.companionEphemeral)
        let primaryEphemeral = try Self.pair(Self.primaryEphemeral)
        let companionIdentity = try Self.pair(Self.companionIdentity)
        let primaryIdentity = try Self.pair(Self.primaryIdentity)
        // paircode.ephemeralShared, paircode.identityShared
        let ephemeralShared = try Crypto.x25519(
            privateKey: companionEphemeral.privateKey, publicKey: primaryEphemeral.publicKey)
        #expect(
            CryptoVectors.hex(ephemeralShared) == "d499b458901bc07e3776ecb8e2b38a2e77cd9943e2e121e6e5ecda0a1fc6802a")
        #expect(
            CryptoVectors.hex(
                try Crypto.x25519(privateKey: companionIdentity.privateKey, publicKey: primaryIdentity.publicKey))
                == "bce12a77d16a47d2f3a75cf6aff7a7d27e3f501a8a88e8e3a5bffb7b63268b25")
        // paircode.keyBundleKey
        #expect(
            CryptoVectors.hex(PairingCode.keyBundleKey(ephemeralShared: ephemeralShared, bundleSalt: Self.bundleSalt))
                == "d8ab95cff3b2113c3bddda92d5295679b1520e54895f57c531d08d33788acedc")
        // The primary wraps its ephemeral with its own salt and iv; any will do for the companion.
        let wrappedPrimary = try PairingCode.wrap(publicKey: primaryEphemeral.publicKey, code: Self.code)
        let finish = try PairingCode.companionFinish(
            code: Self.code, companionEphemeral: companionEphemeral, wrappedPrimaryEphemeral: wrappedPrimary,
            primaryIdentityKey: primaryIdentity.publicKey, companionIdentity: companionIdentity,
            advRandom: Self.advRandom,
            bundleSalt: Self.bundleSalt, bundleNonce: Self.bundleNonce)
        #expect(CryptoVectors.hex(finish.wrappedKeyBundle) == Self.wrappedBundle)
        #expect(CryptoVectors.hex(finish.advSecret) == Self.advSecret)
    }

    @Test func primarySideDerivesTheSameSecret() throws {
        let primaryEphemeral = try Self.pair(Self.primaryEphemeral)
        let primaryIdentity = try Self.pair(Self.primaryIdentity)
        let companionIdentity = try Self.pair(Self.companionIdentity)
        // The primary unwraps the companion's ephemeral with the code the user typed.
        let companionEphemeralKey = try PairingCode.unwrap(CryptoVectors.bytes(Self.wrappedCompanion), code: Self.code)
        let result = try PairingCode.primaryFinish(
            wrappedKeyBundle: CryptoVectors.bytes(Self.wrappedBundle), primaryEphemeral: primaryEphemeral,
            companionEphemeralKey: companionEphemeralKey, primaryIdentity: primaryIdentity,
            companionIdentityKey: companionIdentity.publicKey)
        #expect(CryptoVectors.hex(result.advSecret) == Self.advSecret)
        #expect(result.companionIdentityKey == companionIdentity.publicKey)
        // A bundle naming another companion, or altered in transit, is refused.
        #expect(throws: ProtocolError.self) {
            try PairingCode.primaryFinish(
                wrappedKeyBundle: CryptoVectors.bytes(Self.wrappedBundle), primaryEphemeral: primaryEphemeral,
                companionEphemeralKey: companionEphemeralKey, primaryIdentity: primaryIdentity,
                companionIdentityKey: try Crypto.x25519KeyPair().publicKey)
        }
        var tampered = CryptoVectors.bytes(Self.wrappedBundle)
        tampered[60] ^= 1
        let error = #expect(throws: ProtocolError.self) {
            try PairingCode.primaryFinish(
                wrappedKeyBundle: tampered, primaryEphemeral: primaryEphemeral,
                companionEphemeralKey: companionEphemeralKey,
                primaryIdentity: primaryIdentity, companionIdentityKey: companionIdentity.publicKey)
        }
        #expect(error?.kind == .authentication)
    }

    @Test func freshRandomFlowAgreesEndToEnd() throws {
        let code = try PairingCode.generateCode()
        let companionEphemeral = try Crypto.x25519KeyPair()
        let primaryEphemeral = try Crypto.x25519KeyPair()
        let companionIdentity = try Crypto.x25519KeyPair()
        let primaryIdentity = try Crypto.x25519KeyPair()
        let wrappedCompanion = try PairingCode.wrap(publicKey: companionEphemeral.publicKey, code: code)
        let wrappedPrimary = try PairingCode.wrap(publicKey: primaryEphemeral.publicKey, code: code)
        let companion = try PairingCode.companionFinish(
            code: code, companionEphemeral: companionEphemeral, wrappedPrimaryEphemeral: wrappedPrimary,
            primaryIdentityKey: primaryIdentity.publicKey, companionIdentity: companionIdentity)
        let primary = try PairingCode.primaryFinish(
            wrappedKeyBundle: companion.wrappedKeyBundle, primaryEphemeral: primaryEphemeral,
            companionEphemeralKey: try PairingCode.unwrap(wrappedCompanion, code: code),
            primaryIdentity: primaryIdentity,
            companionIdentityKey: companionIdentity.publicKey)
        #expect(primary.advSecret == companion.advSecret)
    }
}
