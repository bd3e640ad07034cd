/// A peer device's published keys, as a prekey-fetch reply carries them (reference part 2, 1.5).
/// All keys are raw 32-byte public keys.
package struct PreKeyBundle: Sendable, Hashable {
    package let registrationID: UInt32
    package let deviceID: UInt32
    /// The one-time prekey id and key; both nil when the device has none left.
    package let preKeyID: UInt32?
    package let preKey: [UInt8]?
    package let signedPreKeyID: UInt32
    package let signedPreKey: [UInt8]
    package let signedPreKeySignature: [UInt8]
    package let identityKey: [UInt8]

    package init(
        registrationID: UInt32, deviceID: UInt32, preKeyID: UInt32?, preKey: [UInt8]?, signedPreKeyID: UInt32,
        signedPreKey: [UInt8], signedPreKeySignature: [UInt8], identityKey: [UInt8]
    ) {
        self.registrationID = registrationID
        self.deviceID = deviceID
        self.preKeyID = preKeyID
        self.preKey = preKey
        self.signedPreKeyID = signedPreKeyID
        self.signedPreKey = signedPreKey
        self.signedPreKeySignature = signedPreKeySignature
        self.identityKey = identityKey
    }

    /// True when the signed prekey carries a valid signature by the identity key.
    package var hasValidSignature: Bool {
        SignalCrypto.verify(
            publicKey: identityKey, message: DJBKey.serialize(signedPreKey), signature: signedPreKeySignature)
    }
}
