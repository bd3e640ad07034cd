import Foundation

/// A Double Ratchet message, the `msg` payload: `0x33 ‖ SignalMessage ‖ MAC(8)` (reference part 2, 1.8).
package struct WhisperMessage: Sendable, Hashable {
    /// The sender's ratchet public key, raw 32 bytes.
    package let ratchetKey: [UInt8]
    package let counter: UInt32
    package let previousCounter: UInt32
    package let ciphertext: [UInt8]
    /// The complete wire form, MAC included.
    package let serialized: [UInt8]

    /// Builds and MACs a message. The MAC covers both identities (sender first) and the bytes before it.
    init(
        ratchetKey: [UInt8], counter: UInt32, previousCounter: UInt32, ciphertext: [UInt8], macKey: [UInt8],
        senderIdentity: [UInt8], receiverIdentity: [UInt8]
    ) throws {
        var proto = Wasignal_SignalMessage()
        // Fields 1–4 in order with counter and previousCounter always present, even when 0: Go libsignal
        // re-serializes the parsed message to check the MAC, so any other encoding fails at whatsmeow.
        proto.ratchetKey = Data(DJBKey.serialize(ratchetKey))
        proto.counter = counter
        proto.previousCounter = previousCounter
        proto.ciphertext = Data(ciphertext)
        let body = [SignalLimits.versionByte] + (try SignalProto.encode(proto))
        let mac = Self.mac(body, macKey: macKey, senderIdentity: senderIdentity, receiverIdentity: receiverIdentity)
        self.ratchetKey = ratchetKey
        self.counter = counter
        self.previousCounter = previousCounter
        self.ciphertext = ciphertext
        self.serialized = body + mac
    }

    /// Parses a received `msg`; the MAC is checked later, once the message keys are known.
    package init(serialized bytes: some Collection<UInt8>) throws {
        let bytes = Array(bytes)
        guard bytes.count > 1 + SignalLimits.macLength else {
            throw ProtocolError.signalMalformed("msg of \(bytes.count) bytes is too short")
        }
        try SignalVersion.check(bytes[0])
        let proto: Wasignal_SignalMessage = try SignalProto.decode(
            bytes[1..<(bytes.count - SignalLimits.macLength)], "SignalMessage")
        guard proto.hasRatchetKey, proto.hasCounter, proto.hasCiphertext else {
            throw ProtocolError.signalMalformed("SignalMessage lacks a ratchet key, counter or ciphertext")
        }
        self.ratchetKey = try DJBKey.deserialize(proto.ratchetKey)
        self.counter = proto.counter
        self.previousCounter = proto.previousCounter
        self.ciphertext = Array(proto.ciphertext)
        self.serialized = bytes
    }

    /// Constant-time check of the trailing MAC. It covers the received bytes, not a re-encoding, so a
    /// sender's field order or varint form cannot matter.
    func hasValidMAC(macKey: [UInt8], senderIdentity: [UInt8], receiverIdentity: [UInt8]) -> Bool {
        let split = serialized.count - SignalLimits.macLength
        let expected = Self.mac(
            Array(serialized[..<split]), macKey: macKey, senderIdentity: senderIdentity,
            receiverIdentity: receiverIdentity)
        return SignalCrypto.constantTimeEquals(expected, Array(serialized[split...]))
    }

    private static func mac(
        _ body: [UInt8], macKey: [UInt8], senderIdentity: [UInt8], receiverIdentity: [UInt8]
    ) -> [UInt8] {
        let input = DJBKey.serialize(senderIdentity) + DJBKey.serialize(receiverIdentity) + body
        return Array(SignalCrypto.hmac(key: macKey, input).prefix(SignalLimits.macLength))
    }
}
