import Foundation

/// The medium-term prekey, signed by the identity key over its 33-byte DJB encoding.
package struct SignedPreKeyRecord: Sendable, Hashable {
    package let id: UInt32
    package let keyPair: SignalKeyPair
    package let signature: [UInt8]
    /// Milliseconds since the epoch; only used to decide when to rotate.
    package let timestamp: UInt64

    package init(id: UInt32, keyPair: SignalKeyPair, signature: [UInt8], timestamp: UInt64) {
        self.id = id
        self.keyPair = keyPair
        self.signature = signature
        self.timestamp = timestamp
    }

    /// A fresh signed prekey; `signatureRandom` only for reproducible vectors.
    package static func generate(
        id: UInt32, identity: SignalKeyPair, timestamp: UInt64 = 0, keyPair: SignalKeyPair? = nil,
        signatureRandom: [UInt8]? = nil
    ) throws -> SignedPreKeyRecord {
        let pair = try keyPair ?? .generate()
        let signature = try identity.sign(pair.serializedPublicKey, random: signatureRandom)
        return SignedPreKeyRecord(id: id, keyPair: pair, signature: signature, timestamp: timestamp)
    }

    package func serialized() throws -> [UInt8] {
        var proto = Wasignal_SignedPreKeyRecordStructure()
        proto.id = id
        proto.publicKey = Data(keyPair.publicKey)
        proto.privateKey = Data(keyPair.privateKey)
        proto.signature = Data(signature)
        proto.timestamp = timestamp
        return try SignalProto.encode(proto)
    }

    package init(serialized bytes: [UInt8]) throws {
        let proto: Wasignal_SignedPreKeyRecordStructure = try SignalProto.decode(bytes, "signed prekey record")
        self.init(
            id: proto.id, keyPair: try SignalKeyPair(privateKey: Array(proto.privateKey)),
            signature: Array(proto.signature), timestamp: proto.timestamp)
    }
}
