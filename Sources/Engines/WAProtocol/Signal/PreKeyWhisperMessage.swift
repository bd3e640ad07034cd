import Foundation

/// The first messages of a session, `pkmsg`: `0x33 ‖ PreKeySignalMessage`, carrying what the responder
/// needs to run X3DH plus the first `msg`.
package struct PreKeyWhisperMessage: Sendable, Hashable {
    package let registrationID: UInt32
    /// The one-time prekey used, nil when the bundle had none.
    package let preKeyID: UInt32?
    package let signedPreKeyID: UInt32
    /// The initiator's base (ephemeral) key, raw 32 bytes.
    package let baseKey: [UInt8]
    /// The initiator's identity key, raw 32 bytes.
    package let identityKey: [UInt8]
    package let message: WhisperMessage
    package let serialized: [UInt8]

    init(
        registrationID: UInt32, preKeyID: UInt32?, signedPreKeyID: UInt32, baseKey: [UInt8], identityKey: [UInt8],
        message: WhisperMessage
    ) throws {
        var proto = Wasignal_PreKeySignalMessage()
        if let preKeyID { proto.preKeyID = preKeyID }
        proto.baseKey = Data(DJBKey.serialize(baseKey))
        proto.identityKey = Data(DJBKey.serialize(identityKey))
        proto.message = Data(message.serialized)
        proto.registrationID = registrationID
        proto.signedPreKeyID = signedPreKeyID
        self.registrationID = registrationID
        self.preKeyID = preKeyID
        self.signedPreKeyID = signedPreKeyID
        self.baseKey = baseKey
        self.identityKey = identityKey
        self.message = message
        self.serialized = [SignalLimits.versionByte] + (try SignalProto.encode(proto))
    }

    /// Parses a received `pkmsg`, including the embedded `msg`.
    package init(serialized bytes: some Collection<UInt8>) throws {
        let bytes = Array(bytes)
        guard bytes.count > 1 else { throw ProtocolError.signalMalformed("empty pkmsg") }
        try SignalVersion.check(bytes[0])
        let proto: Wasignal_PreKeySignalMessage = try SignalProto.decode(bytes[1...], "PreKeySignalMessage")
        guard proto.hasBaseKey, proto.hasIdentityKey, proto.hasMessage, proto.hasSignedPreKeyID else {
            throw ProtocolError.signalMalformed(
                "PreKeySignalMessage lacks a base key, identity, message or signed prekey id")
        }
        self.registrationID = proto.registrationID
        // A missing or zero id both mean "no one-time prekey" (reference part 2, 1.8).
        self.preKeyID = proto.hasPreKeyID && proto.preKeyID != 0 ? proto.preKeyID : nil
        self.signedPreKeyID = proto.signedPreKeyID
        self.baseKey = try DJBKey.deserialize(proto.baseKey)
        self.identityKey = try DJBKey.deserialize(proto.identityKey)
        self.message = try WhisperMessage(serialized: proto.message)
        self.serialized = bytes
    }
}
