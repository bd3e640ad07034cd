import Foundation

/// Hands a sender-key chain to one recipient device: `0x33 ‖ SenderKeyDistributionMessage`, carried
/// pairwise inside `Message.senderKeyDistributionMessage` (reference part 2, 1.9).
package struct SenderKeyDistributionMessage: Sendable, Hashable {
    package let keyID: UInt32
    package let iteration: UInt32
    package let chainKey: [UInt8]
    /// The sender's signing public key, raw 32 bytes.
    package let signingKey: [UInt8]
    package let serialized: [UInt8]

    init(keyID: UInt32, iteration: UInt32, chainKey: [UInt8], signingKey: [UInt8]) throws {
        var proto = Wasignal_SenderKeyDistributionMessage()
        proto.id = keyID
        proto.iteration = iteration
        proto.chainKey = Data(chainKey)
        proto.signingKey = Data(DJBKey.serialize(signingKey))
        self.keyID = keyID
        self.iteration = iteration
        self.chainKey = chainKey
        self.signingKey = signingKey
        self.serialized = [SignalLimits.versionByte] + (try SignalProto.encode(proto))
    }

    package init(serialized bytes: some Collection<UInt8>) throws {
        let bytes = Array(bytes)
        guard bytes.count > 1 else { throw ProtocolError.signalMalformed("empty sender key distribution message") }
        try SignalVersion.check(bytes[0])
        let proto: Wasignal_SenderKeyDistributionMessage = try SignalProto.decode(
            bytes[1...], "SenderKeyDistributionMessage")
        guard proto.hasID, proto.hasIteration, proto.chainKey.count == 32, proto.hasSigningKey else {
            throw ProtocolError.signalMalformed(
                "SenderKeyDistributionMessage lacks an id, iteration, chain key or signing key")
        }
        self.keyID = proto.id
        self.iteration = proto.iteration
        self.chainKey = Array(proto.chainKey)
        self.signingKey = try DJBKey.deserialize(proto.signingKey)
        self.serialized = bytes
    }
}
