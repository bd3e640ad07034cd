import Foundation

/// A group message, `skmsg`: `0x33 ‖ SenderKeyMessage ‖ signature(64)`, the signature by the sender's
/// signing key over everything before it (reference part 2, 1.8).
package struct SenderKeyMessage: Sendable, Hashable {
    package let keyID: UInt32
    package let iteration: UInt32
    package let ciphertext: [UInt8]
    package let serialized: [UInt8]

    init(keyID: UInt32, iteration: UInt32, ciphertext: [UInt8], signingKey: SignalKeyPair, random: [UInt8]? = nil)
        throws
    {
        var proto = Wasignal_SenderKeyMessage()
        proto.id = keyID
        proto.iteration = iteration
        proto.ciphertext = Data(ciphertext)
        let body = [SignalLimits.versionByte] + (try SignalProto.encode(proto))
        self.keyID = keyID
        self.iteration = iteration
        self.ciphertext = ciphertext
        self.serialized = body + (try signingKey.sign(body, random: random))
    }

    /// Parses a received `skmsg`; the signature is checked once the sender's state is found.
    package init(serialized bytes: some Collection<UInt8>) throws {
        let bytes = Array(bytes)
        guard bytes.count > 1 + SignalLimits.signatureLength else {
            throw ProtocolError.signalMalformed("skmsg of \(bytes.count) bytes is too short")
        }
        try SignalVersion.check(bytes[0])
        let proto: Wasignal_SenderKeyMessage = try SignalProto.decode(
            bytes[1..<(bytes.count - SignalLimits.signatureLength)], "SenderKeyMessage")
        guard proto.hasID, proto.hasIteration, proto.hasCiphertext else {
            throw ProtocolError.signalMalformed("SenderKeyMessage lacks an id, iteration or ciphertext")
        }
        self.keyID = proto.id
        self.iteration = proto.iteration
        self.ciphertext = Array(proto.ciphertext)
        self.serialized = bytes
    }

    func hasValidSignature(signingKey: [UInt8]) -> Bool {
        let split = serialized.count - SignalLimits.signatureLength
        return SignalCrypto.verify(
            publicKey: signingKey, message: Array(serialized[..<split]), signature: Array(serialized[split...]))
    }
}
