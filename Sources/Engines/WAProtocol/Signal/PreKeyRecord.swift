import Foundation

/// A one-time prekey: consumed by the first session a peer builds with it.
package struct PreKeyRecord: Sendable, Hashable {
    /// 24-bit id, as uploaded (`<id>` is 3 bytes).
    package let id: UInt32
    package let keyPair: SignalKeyPair

    package init(id: UInt32, keyPair: SignalKeyPair) {
        self.id = id
        self.keyPair = keyPair
    }

    /// `count` fresh prekeys with consecutive ids from `start`, wrapping inside 1...0xFFFFFF (id 0 is
    /// avoided because a missing id reads as 0 on the wire).
    package static func generate(start: UInt32, count: Int) throws -> [PreKeyRecord] {
        try (0..<count).map { offset in
            let id = (start &- 1 &+ UInt32(offset)) % SignalLimits.maxPreKeyID + 1
            return PreKeyRecord(id: id, keyPair: try .generate())
        }
    }

    package func serialized() throws -> [UInt8] {
        var proto = Wasignal_PreKeyRecordStructure()
        proto.id = id
        proto.publicKey = Data(keyPair.publicKey)
        proto.privateKey = Data(keyPair.privateKey)
        return try SignalProto.encode(proto)
    }

    package init(serialized bytes: [UInt8]) throws {
        let proto: Wasignal_PreKeyRecordStructure = try SignalProto.decode(bytes, "prekey record")
        self.init(id: proto.id, keyPair: try SignalKeyPair(privateKey: Array(proto.privateKey)))
    }
}
