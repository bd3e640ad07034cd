import Foundation

/// A Curve25519 key pair as Signal uses it: identity keys, prekeys, ratchet keys, sender signing keys.
///
/// The private key is stored clamped, because XEdDSA signs with the private bytes as an Edwards scalar
/// and libsignal keeps the clamped form too.
package struct SignalKeyPair: Sendable, Hashable {
    package let privateKey: [UInt8]
    package let publicKey: [UInt8]

    /// Rebuilds a pair from a stored private key; the public half is recomputed, never trusted.
    package init(privateKey: [UInt8]) throws {
        guard privateKey.count == 32 else { throw ProtocolError.signalInvalidKey("private key must be 32 bytes") }
        let clamped = SignalCrypto.clamp(privateKey)
        self.privateKey = clamped
        self.publicKey = try SignalCrypto.publicKey(privateKey: clamped)
    }

    /// Rebuilds a pair from our own session storage, which keeps both halves. A 32-byte stored public key
    /// is taken as it is: recomputing it is an X25519 base-point multiplication, which costs more than
    /// everything else in loading, using and storing a session record, and a record is loaded for every
    /// message. Any other length (absent, or another library's 33-byte form) is recomputed.
    init(privateKey: [UInt8], storedPublicKey: [UInt8]) throws {
        guard privateKey.count == 32 else { throw ProtocolError.signalInvalidKey("private key must be 32 bytes") }
        let clamped = SignalCrypto.clamp(privateKey)
        self.privateKey = clamped
        self.publicKey = storedPublicKey.count == 32 ? storedPublicKey : try SignalCrypto.publicKey(privateKey: clamped)
    }

    /// A fresh pair from the CSPRNG.
    package static func generate() throws -> SignalKeyPair {
        try SignalKeyPair(privateKey: SignalCrypto.randomBytes(32))
    }

    /// The public key in Signal's 33-byte form, `0x05 ‖ key`.
    package var serializedPublicKey: [UInt8] { DJBKey.serialize(publicKey) }

    /// X25519 with `publicKey` (raw, 32 bytes).
    package func agreement(with publicKey: [UInt8]) throws -> [UInt8] {
        try SignalCrypto.agreement(privateKey: privateKey, publicKey: publicKey)
    }

    /// An XEdDSA signature by this key; `random` only for reproducible test vectors.
    package func sign(_ message: [UInt8], random: [UInt8]? = nil) throws -> [UInt8] {
        try SignalCrypto.sign(privateKey: privateKey, message: message, random: random)
    }
}

/// Signal's "DJB" public-key encoding: a 0x05 type byte before the 32-byte Montgomery u-coordinate.
///
/// Keys inside Signal protobufs and MAC inputs use this form; nodes and ADV structures use the raw 32 bytes.
package enum DJBKey {
    /// The only key type Signal defines for Curve25519.
    package static let type: UInt8 = 0x05

    package static func serialize(_ publicKey: [UInt8]) -> [UInt8] { [type] + publicKey }

    /// The raw key inside `0x05 ‖ key`; any other type byte or length is refused, as libsignal does.
    package static func deserialize(_ bytes: some Collection<UInt8>) throws -> [UInt8] {
        let bytes = Array(bytes)
        guard bytes.count == 33, bytes[0] == type else {
            throw ProtocolError.signalInvalidKey("expected 0x05 ‖ 32-byte key, got \(bytes.count) bytes")
        }
        return Array(bytes[1...])
    }
}

// MARK: - Identity storage

extension SignalKeyPair {
    /// The identity key pair in libsignal's stored form (`IdentityKeyPairStructure`).
    package func serializedIdentity() throws -> [UInt8] {
        var proto = Wasignal_IdentityKeyPairStructure()
        proto.publicKey = Data(serializedPublicKey)
        proto.privateKey = Data(privateKey)
        return try SignalProto.encode(proto)
    }

    /// Restores an identity key pair; the stored public key must match the private one.
    package init(serializedIdentity bytes: [UInt8]) throws {
        let proto: Wasignal_IdentityKeyPairStructure = try SignalProto.decode(bytes, "identity key pair")
        try self.init(privateKey: Array(proto.privateKey))
        guard try DJBKey.deserialize(proto.publicKey) == publicKey else {
            throw ProtocolError.signalInvalidKey("stored identity public key does not match its private key")
        }
    }
}
