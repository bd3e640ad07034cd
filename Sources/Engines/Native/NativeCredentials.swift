import Foundation
import Reactor
import WAProtocol

/// A device's long-lived keys and, once paired, its account identity, as kept in the
/// `AuthStateStore` under the keys of `NativeCredentials.Key`.
struct NativeCredentials: Sendable {
    /// Store keys. Values are raw bytes; JIDs and names are UTF-8 text.
    enum Key {
        static let noisePrivate = "noise.private"
        static let identityPrivate = "identity.private"
        static let registrationID = "registration.id"
        static let signedPreKey = "signed-prekey"
        static let advSecret = "adv.secret"
        static let me = "me.jid"
        static let lid = "me.lid"
        static let pushName = "me.push-name"
        static let platform = "account.platform"
        static let signedIdentity = "account.signed-identity"
        static let accountSignatureKey = "account.signature-key"
        static let nextPreKeyID = "prekey.next-id"
        static let preKeysUploaded = "prekey.uploaded"
        static let preKeyPrefix = "prekey."
    }

    var noise: Crypto.X25519KeyPair
    var identity: SignalKeyPair
    var registrationID: UInt32
    var signedPreKey: SignedPreKeyRecord
    var advSecret: [UInt8]
    /// The paired device JID (`user:device@s.whatsapp.net`), nil until `pair-success`.
    var me: JID?
    var pushName: String?
    var nextPreKeyID: UInt32
    var preKeysUploaded: Bool

    /// The identity pair in the form the ADV and pairing-code helpers take.
    var identityX25519: Crypto.X25519KeyPair {
        get throws { try Crypto.X25519KeyPair(privateKey: identity.privateKey) }
    }

    /// Fresh keys for a new device (CPU work: run it on a worker).
    static func generate() throws -> NativeCredentials {
        let identity = try SignalKeyPair.generate()
        return NativeCredentials(
            noise: try Crypto.x25519KeyPair(), identity: identity, registrationID: try RegistrationID.generate(),
            signedPreKey: try SignedPreKeyRecord.generate(id: 1, identity: identity, timestamp: UInt64(Date().timeIntervalSince1970)),
            advSecret: try Crypto.randomBytes(32), me: nil, pushName: nil, nextPreKeyID: 1, preKeysUploaded: false)
    }

    /// Rebuilds the credentials from stored values; nil when the base keys are missing.
    init?(stored values: [String: [UInt8]]) throws {
        guard let noise = values[Key.noisePrivate], let identity = values[Key.identityPrivate],
            let registration = values[Key.registrationID], registration.count == 4,
            let signed = values[Key.signedPreKey], let adv = values[Key.advSecret]
        else { return nil }
        self.noise = try Crypto.X25519KeyPair(privateKey: noise)
        self.identity = try SignalKeyPair(privateKey: identity)
        self.registrationID = registration.bigEndianUInt32
        self.signedPreKey = try SignedPreKeyRecord(serialized: signed)
        self.advSecret = adv
        self.me = try values[Key.me].map { try JID(parsing: String(decoding: $0, as: UTF8.self)) }
        self.pushName = values[Key.pushName].map { String(decoding: $0, as: UTF8.self) }
        self.nextPreKeyID = values[Key.nextPreKeyID].map { $0.bigEndianUInt32 } ?? 1
        self.preKeysUploaded = values[Key.preKeysUploaded] != nil
    }

    init(
        noise: Crypto.X25519KeyPair, identity: SignalKeyPair, registrationID: UInt32, signedPreKey: SignedPreKeyRecord,
        advSecret: [UInt8], me: JID?, pushName: String?, nextPreKeyID: UInt32, preKeysUploaded: Bool
    ) {
        self.noise = noise
        self.identity = identity
        self.registrationID = registrationID
        self.signedPreKey = signedPreKey
        self.advSecret = advSecret
        self.me = me
        self.pushName = pushName
        self.nextPreKeyID = nextPreKeyID
        self.preKeysUploaded = preKeysUploaded
    }

    /// The values written on first start, in one batch.
    func baseValues() throws -> [String: [UInt8]?] {
        [
            Key.noisePrivate: noise.privateKey, Key.identityPrivate: identity.privateKey,
            Key.registrationID: registrationID.bigEndianBytes, Key.signedPreKey: try signedPreKey.serialized(),
            Key.advSecret: advSecret,
        ]
    }
}

extension UInt32 {
    /// Four bytes, most significant first.
    var bigEndianBytes: [UInt8] { [UInt8(self >> 24), UInt8(self >> 16 & 0xFF), UInt8(self >> 8 & 0xFF), UInt8(self & 0xFF)] }
    /// The low three bytes, most significant first (prekey ids on the wire).
    var bigEndian3Bytes: [UInt8] { Array(bigEndianBytes[1...]) }
}

extension Array where Element == UInt8 {
    /// Reads up to four bytes as a big-endian integer.
    var bigEndianUInt32: UInt32 { reduce(0) { $0 << 8 | UInt32($1) } }
}
