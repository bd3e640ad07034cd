import Reactor
import Testing

@testable import WAProtocol

/// QR string and `pair-success` crypto: ref part 1 §7.5 (JSON keys `qr.string`, `adv.*`).
struct PairingADVTests {
    // key.client-identity.*, key.client-noise-static.pub, key.phone-account-identity.*
    static let companionIdentityPrivate = CryptoVectors.bytes(
        "30540783e788824fd7783d659090ea6a1314717fd4ce1b55f1f555a7c0832471")
    static let companionIdentityPublic = CryptoVectors.bytes(
        "8f8713e996c6d6f66ab730c61979aca5d50a1e920739472e71d1e96a8afe014f")
    static let noisePublic = CryptoVectors.bytes("e8cd327c5b1ccacd930c87af022adfe821740bd3918e29b3d11dc9b35aae553c")
    static let accountPrivate = CryptoVectors.bytes("00a828bdbd84ae7a89cb871951953b95577b004b77969fa6b3f05afeab1e8353")
    static let accountPublic = CryptoVectors.bytes("c1918a72051a5900e0f148780c2cec4492eda1e9eefe0e1eee82993e6ae7a312")
    // adv.secret
    static let advSecret = CryptoVectors.bytes("20350f7f317b020f23bc17421d94c7c6660c452f14bd67004ec5b0cbfd12941a")
    // adv.ADVDeviceIdentity
    static let details = CryptoVectors.bytes("0887ad4b1080e2cfaa06180320002800")
    // adv.accountSignature
    static let accountSignature = CryptoVectors.bytes(
        "a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a2ba7e21e922d659136e987bc52b046ee88a196ac0c11f74840b84bd8f34f3b3c9449a3708f"
    )
    // adv.ADVSignedDeviceIdentity(from server)
    static let signedIdentity = CryptoVectors.bytes(
        "0a100887ad4b1080e2cfaa061803200028001220c1918a72051a5900e0f148780c2cec4492eda1e9eefe0e1eee82993e6ae7a3121a40"
            + "a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a2ba7e21e922d659136e987bc52b046ee88a196ac0c11f74840b84bd8f3"
            + "4f3b3c9449a3708f")
    // adv.ADVSignedDeviceIdentityHMAC(device-identity content)
    static let content = CryptoVectors.bytes(
        "0a760a100887ad4b1080e2cfaa061803200028001220c1918a72051a5900e0f148780c2cec4492eda1e9eefe0e1eee82993e6ae7a3121a40"
            + "a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a2ba7e21e922d659136e987bc52b046ee88a196ac0c11f74840b84bd8f3"
            + "4f3b3c9449a3708f1220f8296048b37915b0bc5a9cde05251b91c7a0050dff6c25feb73843ceda07b881")
    // adv.deviceSignature(random=sha512('sig-device'))
    static let deviceSignature =
        "3f13975cf162a336d6e82d04e997b785f5bca79917659db258aae64bad424ec012bed61119d4d375f9415d851363d628171e4c628a2e711a4646099790b64909"
    // adv.reply.ADVSignedDeviceIdentity(no accountSignatureKey)
    static let reply =
        "0a100887ad4b1080e2cfaa061803200028001a40a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a2ba7e21e922d659136e987bc52b046ee88a196ac0c11f74840b84bd8f34f3b3c9449a3708f22403f13975cf162a336d6e82d04e997b785f5bca79917659db258aae64bad424ec012bed61119d4d375f9415d851363d628171e4c628a2e711a4646099790b64909"

    static func z(_ label: String) -> [UInt8] { Crypto.sha512(Array(label.utf8)) }
    static func companion() throws -> Crypto.X25519KeyPair {
        try Crypto.X25519KeyPair(privateKey: companionIdentityPrivate)
    }
    static func account() throws -> Crypto.X25519KeyPair { try Crypto.X25519KeyPair(privateKey: accountPrivate) }

    @Test func qrStringMatchesVectorAndParsesBack() throws {
        let contents = PairingQR.Contents(
            ref: "2@AAAA", noisePublicKey: Self.noisePublic, identityPublicKey: Self.companionIdentityPublic,
            advSecret: Self.advSecret, platform: "1")
        let string = PairingQR.string(for: contents)
        // qr.string
        #expect(
            string
                == "https://wa.me/settings/linked_devices#2@AAAA,6M0yfFscys2TDIevAirf6CF0C9ORjimz0R3Js1quVTw=,j4cT6ZbG1vZqtzDGGXmspdUKHpIHOUcucdHpaor+AU8=,IDUPfzF7Ag8jvBdCHZTHxmYMRS8UvWcATsWwy/0SlBo=,1"
        )
        #expect(try PairingQR.parse(string) == contents)
        // Legacy four-field form without the URL prefix.
        let legacy =
            "2@AAAA,6M0yfFscys2TDIevAirf6CF0C9ORjimz0R3Js1quVTw=,j4cT6ZbG1vZqtzDGGXmspdUKHpIHOUcucdHpaor+AU8=,IDUPfzF7Ag8jvBdCHZTHxmYMRS8UvWcATsWwy/0SlBo="
        let parsed = try PairingQR.parse(legacy)
        #expect(parsed.platform == nil && parsed.advSecret == Self.advSecret)
        for bad in ["", "2@AAAA,abc", "2@AAAA,6M0y,j4cT,IDUP,1", legacy + ",1,2"] {
            #expect(throws: ProtocolError.self) { try PairingQR.parse(bad) }
        }
    }

    @Test func base64RoundTripsAllLengths() {
        for count in 0..<40 {
            let bytes = CryptoVectors.pseudoRandom(count: count, seed: UInt64(count + 1))
            let text = PairingBase64.encode(bytes)
            #expect(text.count % 4 == 0)
            #expect(PairingBase64.decode(text) == bytes)
        }
        #expect(PairingBase64.decode("a") == nil)
        #expect(PairingBase64.decode("ab=c") == nil)
        #expect(PairingBase64.decode("a-b_") == nil)
    }

    @Test func identityMessagesMatchVectors() throws {
        let device = try AdvDeviceIdentity(serialized: Self.details)
        #expect(
            device
                == AdvDeviceIdentity(
                    rawID: 1_234_567, timestamp: 1_700_000_000, keyIndex: 3, accountType: .e2ee, deviceType: .e2ee))
        #expect(device.serialized() == Self.details)
        let signed = AdvSignedDeviceIdentity(
            details: Self.details, accountSignatureKey: Self.accountPublic, accountSignature: Self.accountSignature)
        #expect(signed.serialized() == Self.signedIdentity)
        #expect(try AdvSignedDeviceIdentityHMAC(serialized: Self.content).details == Self.signedIdentity)
        // adv.hmac
        #expect(
            CryptoVectors.hex(
                AdvPairing.hmac(signedIdentity: Self.signedIdentity, advSecret: Self.advSecret, accountType: nil))
                == "f8296048b37915b0bc5a9cde05251b91c7a0050dff6c25feb73843ceda07b881")
        // adv.accountSignature, re-made by the primary with Z = SHA-512("sig-account").
        let (content, sent) = try AdvPairing.makePairSuccess(
            device: device, accountIdentity: try Self.account(), companionIdentity: Self.companionIdentityPublic,
            advSecret: Self.advSecret, random: Self.z("sig-account"))
        #expect(sent.accountSignature == Self.accountSignature)
        #expect(content == Self.content)
    }

    @Test func companionVerifiesPairSuccessAndRepliesLikeTheVector() throws {
        let verified = try AdvPairing.verifyPairSuccess(
            deviceIdentityContent: Self.content, advSecret: Self.advSecret, identityKey: try Self.companion(),
            random: Self.z("sig-device"))
        #expect(CryptoVectors.hex(verified.signedIdentity.deviceSignature ?? []) == Self.deviceSignature)
        #expect(CryptoVectors.hex(verified.reply) == Self.reply)
        #expect(verified.deviceIdentity.keyIndex == 3)
        #expect(verified.accountSignatureKey == Self.accountPublic)
        // The simulator accepts the reply.
        let sent = try AdvSignedDeviceIdentity(serialized: Self.signedIdentity)
        let parsed = try AdvPairing.verifyPairDeviceSign(
            reply: verified.reply, sent: sent, companionIdentity: Self.companionIdentityPublic)
        #expect(parsed.accountSignatureKey == nil)
    }

    @Test func wrongSecretOrKeyIsRefusedWithTheReplyText() throws {
        var wrongSecret = Self.advSecret
        wrongSecret[0] ^= 1
        let hmacError = #expect(throws: ProtocolError.self) {
            try AdvPairing.verifyPairSuccess(
                deviceIdentityContent: Self.content, advSecret: wrongSecret, identityKey: try Self.companion(),
                random: Self.z("x"))
        }
        #expect(hmacError?.kind == .authentication && hmacError?.message == "hmac-mismatch")
        // A different companion identity: the HMAC holds but the account signature covers another key.
        let signatureError = #expect(throws: ProtocolError.self) {
            try AdvPairing.verifyPairSuccess(
                deviceIdentityContent: Self.content, advSecret: Self.advSecret, identityKey: try Crypto.x25519KeyPair(),
                random: Self.z("x"))
        }
        #expect(signatureError?.message == "signature-mismatch")
        #expect(throws: ProtocolError.self) {
            try AdvPairing.verifyPairSuccess(
                deviceIdentityContent: [0x0a, 0x05], advSecret: Self.advSecret, identityKey: try Self.companion(),
                random: Self.z("x"))
        }
        // A tampered reply fails the simulator's check.
        var tamperedReply = CryptoVectors.bytes(Self.reply)
        tamperedReply[tamperedReply.count - 1] ^= 1
        #expect(throws: ProtocolError.self) {
            try AdvPairing.verifyPairDeviceSign(
                reply: tamperedReply, sent: try AdvSignedDeviceIdentity(serialized: Self.signedIdentity),
                companionIdentity: Self.companionIdentityPublic)
        }
    }

    @Test func hostedVariantsRoundTrip() throws {
        let companion = try Crypto.x25519KeyPair()
        let account = try Crypto.x25519KeyPair()
        let secret = try Crypto.randomBytes(32)
        let device = AdvDeviceIdentity(rawID: 9, timestamp: 1, keyIndex: 4, accountType: .hosted, deviceType: .hosted)
        let (content, sent) = try AdvPairing.makePairSuccess(
            device: device, accountIdentity: account, companionIdentity: companion.publicKey, advSecret: secret,
            hosted: true,
            random: try Crypto.randomBytes(64))
        let container = try AdvSignedDeviceIdentityHMAC(serialized: content)
        #expect(container.accountType == .hosted)
        // The hosted HMAC is over 06 05 ‖ details, so the plain HMAC does not match it.
        #expect(
            container.hmac
                != AdvPairing.hmac(signedIdentity: container.details ?? [], advSecret: secret, accountType: nil))
        let message = AdvPairing.accountSignatureMessage(
            details: device.serialized(), companionIdentity: companion.publicKey, hostedDevice: true)
        #expect(message.prefix(2) == [6, 5])
        let verified = try AdvPairing.verifyPairSuccess(
            deviceIdentityContent: content, advSecret: secret, identityKey: companion,
            random: try Crypto.randomBytes(64))
        _ = try AdvPairing.verifyPairDeviceSign(
            reply: verified.reply, sent: sent, companionIdentity: companion.publicKey)
        // whatsapp-rust's hosted device prefix 06 06 is accepted by the simulator too.
        var rustStyle = try AdvSignedDeviceIdentity(serialized: verified.reply)
        rustStyle.deviceSignature = try Crypto.xeddsaSign(
            privateKey: companion.privateKey,
            message: AdvPairing.deviceSignatureMessage(
                details: device.serialized(), companionIdentity: companion.publicKey,
                accountSignatureKey: account.publicKey,
                prefix: AdvPairing.hostedDeviceSignaturePrefix),
            random: try Crypto.randomBytes(64))
        _ = try AdvPairing.verifyPairDeviceSign(
            reply: rustStyle.serialized(), sent: sent, companionIdentity: companion.publicKey)
    }
}
