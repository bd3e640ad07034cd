import Reactor

/// The crypto of `pair-success` and its `pair-device-sign` reply (ref part 1 §5.4–5.5), for both the
/// companion (client) and the primary (the simulator's phone).
///
/// Messages signed, by prefix:
///
///     HMAC      key = advSecret,        msg = [06 05 if hosted account] ‖ signedIdentity
///     account   signed by the primary,   msg = 06 00 (06 05 hosted device) ‖ details ‖ companionIdentity
///     device    signed by the companion, msg = 06 01 ‖ details ‖ companionIdentity ‖ accountSignatureKey
///
/// The hosted-account HMAC prefix follows the container's `accountType`, the account-signature prefix the
/// device identity's `deviceType` (whatsmeow and Baileys; whatsapp-rust selects on `accountType`). The
/// companion always signs with `06 01` as whatsmeow and Baileys do; whatsapp-rust's `06 06` for hosted
/// accounts is accepted when verifying.
package enum AdvPairing {
    /// Prefix of the account-signature message.
    package static let accountSignaturePrefix: [UInt8] = [6, 0]
    /// Prefix of the device-signature message.
    package static let deviceSignaturePrefix: [UInt8] = [6, 1]
    /// Prefix of the hosted account-signature message and of the hosted HMAC input.
    package static let hostedAccountSignaturePrefix: [UInt8] = [6, 5]
    /// Hosted device-signature prefix (whatsapp-rust only); accepted when verifying.
    package static let hostedDeviceSignaturePrefix: [UInt8] = [6, 6]

    /// The outcome of a verified `pair-success`, with everything the companion stores and replies.
    package struct Verified: Sendable, Equatable {
        /// The full identity with the new device signature; store it (it goes into later `pkmsg`s).
        package let signedIdentity: AdvSignedDeviceIdentity
        /// The parsed device slot (`keyIndex` goes into the reply's `key-index` attribute).
        package let deviceIdentity: AdvDeviceIdentity
        /// The primary's identity key, to trust as the account's device-0 identity.
        package let accountSignatureKey: [UInt8]
        /// The `device-identity` content of the reply: fields 1, 3, 4 (no `accountSignatureKey`).
        package let reply: [UInt8]
    }

    // MARK: - Companion

    /// Companion steps 1–6 and 8 of §5.5 on the `device-identity` content of `pair-success`.
    ///
    /// Throws `.authentication` with message `hmac-mismatch` or `signature-mismatch` (the texts of the 401
    /// error reply) and `.malformed` for bytes that do not parse (reply 500 `internal-error`).
    package static func verifyPairSuccess(
        deviceIdentityContent: [UInt8], advSecret: [UInt8], identityKey: Crypto.X25519KeyPair, random: [UInt8]
    ) throws(ProtocolError) -> Verified {
        let container = try AdvSignedDeviceIdentityHMAC(serialized: deviceIdentityContent)
        guard let outer = container.details, let tag = container.hmac else {
            throw ProtocolError.malformed("device identity container lacks details or HMAC")
        }
        let expected = hmac(signedIdentity: outer, advSecret: advSecret, accountType: container.accountType)
        guard Crypto.constantTimeEquals(expected, tag) else { throw ProtocolError.authentication("hmac-mismatch") }
        var signed = try AdvSignedDeviceIdentity(serialized: outer)
        guard let details = signed.details, let accountKey = signed.accountSignatureKey, accountKey.count == 32,
            let accountSignature = signed.accountSignature, accountSignature.count == 64
        else { throw ProtocolError.malformed("signed device identity lacks details, key or signature") }
        let device = try AdvDeviceIdentity(serialized: details)
        let message = accountSignatureMessage(
            details: details, companionIdentity: identityKey.publicKey, hostedDevice: device.deviceType == .hosted)
        guard Crypto.xeddsaVerify(publicKey: accountKey, message: message, signature: accountSignature) else {
            throw ProtocolError.authentication("signature-mismatch")
        }
        signed.deviceSignature = try sign(
            deviceSignatureMessage(
                details: details, companionIdentity: identityKey.publicKey, accountSignatureKey: accountKey),
            with: identityKey.privateKey, random: random)
        var reply = signed
        reply.accountSignatureKey = nil
        return Verified(
            signedIdentity: signed, deviceIdentity: device, accountSignatureKey: accountKey, reply: reply.serialized())
    }

    /// `HMAC-SHA256(advSecret, [06 05 if hosted] ‖ signedIdentity)`.
    package static func hmac(signedIdentity: [UInt8], advSecret: [UInt8], accountType: AdvEncryptionType?) -> [UInt8] {
        var mac = Crypto.IncrementalHMAC(.sha256, key: advSecret)
        if accountType == .hosted { mac.update(hostedAccountSignaturePrefix) }
        mac.update(signedIdentity)
        return mac.finalize()
    }

    /// The bytes the primary's account signature covers.
    package static func accountSignatureMessage(details: [UInt8], companionIdentity: [UInt8], hostedDevice: Bool)
        -> [UInt8]
    {
        (hostedDevice ? hostedAccountSignaturePrefix : accountSignaturePrefix) + details + companionIdentity
    }

    /// The bytes the companion's device signature covers.
    package static func deviceSignatureMessage(
        details: [UInt8], companionIdentity: [UInt8], accountSignatureKey: [UInt8],
        prefix: [UInt8] = deviceSignaturePrefix
    ) -> [UInt8] {
        prefix + details + companionIdentity + accountSignatureKey
    }

    // MARK: - Primary (simulator)

    /// Builds the `device-identity` content of `pair-success` as the primary: signs `device` for the companion
    /// identity with the account key, wraps it with the HMAC under `advSecret`. `hosted` sets the container's
    /// `accountType` (and so the HMAC prefix); the account-signature prefix follows `device.deviceType`.
    package static func makePairSuccess(
        device: AdvDeviceIdentity, accountIdentity: Crypto.X25519KeyPair, companionIdentity: [UInt8],
        advSecret: [UInt8],
        hosted: Bool = false, random: [UInt8]
    ) throws(ProtocolError) -> (content: [UInt8], signedIdentity: AdvSignedDeviceIdentity) {
        let details = device.serialized()
        let message = accountSignatureMessage(
            details: details, companionIdentity: companionIdentity, hostedDevice: device.deviceType == .hosted)
        let signed = AdvSignedDeviceIdentity(
            details: details, accountSignatureKey: accountIdentity.publicKey,
            accountSignature: try sign(message, with: accountIdentity.privateKey, random: random))
        let outer = signed.serialized()
        let accountType: AdvEncryptionType? = hosted ? .hosted : nil
        let container = AdvSignedDeviceIdentityHMAC(
            details: outer, hmac: hmac(signedIdentity: outer, advSecret: advSecret, accountType: accountType),
            accountType: accountType)
        return (container.serialized(), signed)
    }

    /// The simulator's check of the companion's `pair-device-sign` reply against what it sent: same details and
    /// account signature, and a device signature by `companionIdentity` (prefix `06 01`, or `06 06` for a hosted
    /// device). Returns the parsed reply.
    package static func verifyPairDeviceSign(
        reply: [UInt8], sent: AdvSignedDeviceIdentity, companionIdentity: [UInt8]
    ) throws(ProtocolError) -> AdvSignedDeviceIdentity {
        let parsed = try AdvSignedDeviceIdentity(serialized: reply)
        guard let details = sent.details, let accountKey = sent.accountSignatureKey, parsed.details == details,
            parsed.accountSignature == sent.accountSignature
        else { throw ProtocolError.authentication("reply does not match the identity sent") }
        guard let signature = parsed.deviceSignature else {
            throw ProtocolError.malformed("reply lacks device signature")
        }
        let hosted = (try? AdvDeviceIdentity(serialized: details))?.deviceType == .hosted
        let prefixes = hosted ? [deviceSignaturePrefix, hostedDeviceSignaturePrefix] : [deviceSignaturePrefix]
        let valid = prefixes.contains { prefix in
            Crypto.xeddsaVerify(
                publicKey: companionIdentity,
                message: deviceSignatureMessage(
                    details: details, companionIdentity: companionIdentity, accountSignatureKey: accountKey,
                    prefix: prefix),
                signature: signature)
        }
        guard valid else { throw ProtocolError.authentication("signature-mismatch") }
        return parsed
    }

    private static func sign(_ message: [UInt8], with privateKey: [UInt8], random: [UInt8]) throws(ProtocolError)
        -> [UInt8]
    {
        try ProtocolError.fromCrypto("xeddsa sign") { () throws(ReactorError) in
            try Crypto.xeddsaSign(privateKey: privateKey, message: message, random: random)
        }
    }
}
