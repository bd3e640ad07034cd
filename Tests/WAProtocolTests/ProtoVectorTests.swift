import Foundation
import SwiftProtobuf
import Testing

@testable import WAProtocol

/// Protobuf bytes from the reference vectors (part 1 §7.4–7.5, wa-vectors-handshake-pairing.json and
/// part 2 §8.3): decoding gives the documented values and re-encoding gives the same bytes.
struct ProtoVectorTests {
    private func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ bytes: [UInt8]) throws -> M {
        try M(serializedBytes: bytes)
    }

    private func encode(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
        try message.serializedBytes()
    }

    // payload.login
    private static let login = signalHex(
        "088784b4f73918012a38080e120b080210b81718d7afcdf2031a0330303022033030302a03302e3132003a074465736b746f70"
            + "4203302e3150005a02656e620255533202200060016801900107c00101880201c80201")
    // payload.registration
    private static let registration = signalHex(
        "18002a38080e120b080210b81718d7afcdf2031a0330303022033030302a03302e3132003a074465736b746f704203302e31"
            + "50005a02656e6202555332022000600168019a01c2010a04123456781201051a208f8713e996c6d6f66ab730c61979aca5d5"
            + "0a1e920739472e71d1e96a8afe014f22030000012a2018e292ece6c97fcc0b0a39d3a8e496141f4e34f3a48ca9b483d56a08"
            + "74f5700f32404b348cdeb719f22b5bad8acb2cef55ad75a2a90837326ebe7f4c81eb0a2407f49d5e4715c0c1efbac95b9fa1"
            + "112e50bce46ee20f25b97f0608f12f9f851ab20f3a109fa53af9421567b114e33c9bb1ef7db2421a0a05537769667412060800"
            + "10011800180120002a051880502001880200")
    // payload.deviceProps
    private static let deviceProps = signalHex("0a0553776966741206080010011800180120002a051880502001")

    @Test func loginPayloadMatchesReference() throws {
        let payload = try decode(Waproto_ClientPayload.self, Self.login)
        #expect(payload.username == 15_551_234_567)
        #expect(payload.passive && payload.pull && payload.lidDbMigrated)
        #expect(payload.device == 7)
        #expect(payload.lc == 1)
        #expect(payload.connectType == .wifiUnknown)
        #expect(payload.connectReason == .userActivated)
        #expect(!payload.hasDevicePairingData)
        let agent = payload.userAgent
        #expect(agent.platform == .web)
        #expect(
            [agent.appVersion.primary, agent.appVersion.secondary, agent.appVersion.tertiary] == [
                2, 3000, 1_045_649_367,
            ])
        #expect(agent.mcc == "000" && agent.mnc == "000")
        #expect(agent.osVersion == "0.1" && agent.osBuildNumber == "0.1")
        #expect(agent.hasManufacturer && agent.manufacturer.isEmpty)
        #expect(agent.device == "Desktop")
        #expect(agent.releaseChannel == .release)
        #expect(agent.localeLanguageIso6391 == "en" && agent.localeCountryIso31661Alpha2 == "US")
        #expect(payload.webInfo.hasWebSubPlatform && payload.webInfo.webSubPlatform == .webBrowser)
        #expect(try encode(payload) == Self.login)
    }

    @Test func registrationPayloadMatchesReference() throws {
        let payload = try decode(Waproto_ClientPayload.self, Self.registration)
        #expect(!payload.hasUsername && !payload.hasDevice)
        #expect(payload.hasPassive && !payload.passive)
        #expect(payload.hasPull && !payload.pull)
        let pairing = payload.devicePairingData
        #expect(Array(pairing.eRegid) == signalHex("12345678"))
        #expect(Array(pairing.eKeytype) == [0x05])
        #expect(Array(pairing.eIdent) == signalHex("8f8713e996c6d6f66ab730c61979aca5d50a1e920739472e71d1e96a8afe014f"))
        #expect(Array(pairing.eSkeyID) == signalHex("000001"))
        #expect(Array(pairing.eSkeyVal) == signalHex("18e292ece6c97fcc0b0a39d3a8e496141f4e34f3a48ca9b483d56a0874f5700f"))
        #expect(
            Array(pairing.eSkeySig)
                == signalHex(
                    "4b348cdeb719f22b5bad8acb2cef55ad75a2a90837326ebe7f4c81eb0a2407f4"
                        + "9d5e4715c0c1efbac95b9fa1112e50bce46ee20f25b97f0608f12f9f851ab20f"))
        #expect(Array(pairing.buildHash) == signalHex("9fa53af9421567b114e33c9bb1ef7db2"))
        #expect(Array(pairing.deviceProps) == Self.deviceProps)
        #expect(try encode(payload) == Self.registration)
    }

    @Test func devicePropsMatchReference() throws {
        let props = try decode(Waproto_DeviceProps.self, Self.deviceProps)
        #expect(props.os == "Swift")
        #expect([props.version.primary, props.version.secondary, props.version.tertiary] == [0, 1, 0])
        #expect(props.platformType == .chrome)
        #expect(props.hasRequireFullSync && !props.requireFullSync)
        #expect(props.historySyncConfig.storageQuotaMb == 10240)
        #expect(props.historySyncConfig.inlineInitialPayloadInE2EeMsg)
        #expect(try encode(props) == Self.deviceProps)
    }

    @Test func advMessagesMatchReference() throws {
        // adv.ADVDeviceIdentity
        let identityBytes = signalHex("0887ad4b1080e2cfaa06180320002800")
        let identity = try decode(Waproto_ADVDeviceIdentity.self, identityBytes)
        #expect(identity.rawID == 1_234_567 && identity.timestamp == 1_700_000_000 && identity.keyIndex == 3)
        #expect(identity.hasAccountType && identity.accountType == .endToEnd)
        #expect(identity.hasDeviceType && identity.deviceType == .endToEnd)
        #expect(try encode(identity) == identityBytes)

        // adv.ADVSignedDeviceIdentity(from server)
        let signedBytes = signalHex(
            "0a100887ad4b1080e2cfaa061803200028001220c1918a72051a5900e0f148780c2cec4492eda1e9eefe0e1eee82993e6ae7a312"
                + "1a40a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe5a2ba7e21e922d659136e987bc52b046ee88a196ac0c"
                + "11f74840b84bd8f34f3b3c9449a3708f")
        let signed = try decode(Waproto_ADVSignedDeviceIdentity.self, signedBytes)
        #expect(Array(signed.details) == identityBytes)
        #expect(
            Array(signed.accountSignatureKey) == signalHex("c1918a72051a5900e0f148780c2cec4492eda1e9eefe0e1eee82993e6ae7a312")
        )
        #expect(signed.accountSignature.count == 64 && !signed.hasDeviceSignature)
        #expect(try encode(signed) == signedBytes)

        // adv.ADVSignedDeviceIdentityHMAC(device-identity content)
        let hmacBytes =
            signalHex("0a76") + signedBytes + signalHex("1220f8296048b37915b0bc5a9cde05251b91c7a0050dff6c25feb73843ceda07b881")
        let container = try decode(Waproto_ADVSignedDeviceIdentityHMAC.self, hmacBytes)
        #expect(Array(container.details) == signedBytes)
        #expect(Array(container.hmac) == signalHex("f8296048b37915b0bc5a9cde05251b91c7a0050dff6c25feb73843ceda07b881"))
        #expect(!container.hasAccountType)
        #expect(try encode(container) == hmacBytes)

        // adv.reply.ADVSignedDeviceIdentity(no accountSignatureKey): fields 1, 3, 4 only.
        var reply = signed
        reply.clearAccountSignatureKey()
        reply.deviceSignature = Data(
            signalHex(
                "3f13975cf162a336d6e82d04e997b785f5bca79917659db258aae64bad424ec0"
                    + "12bed61119d4d375f9415d851363d628171e4c628a2e711a4646099790b64909"))
        #expect(
            try encode(reply)
                == signalHex(
                    "0a100887ad4b1080e2cfaa061803200028001a40a9ebd96e572c89c57a93dd6b123f556e9ebdfcf3bbd50c870bfe"
                        + "5a2ba7e21e922d659136e987bc52b046ee88a196ac0c11f74840b84bd8f34f3b3c9449a3708f22403f13975cf1"
                        + "62a336d6e82d04e997b785f5bca79917659db258aae64bad424ec012bed61119d4d375f9415d851363d628171e"
                        + "4c628a2e711a4646099790b64909"))
    }

    @Test func certificateChainMatchesReference() throws {
        // cert.chain
        let chainBytes = signalHex(
            "0a760a32080210011a20427265d836c915925b7db24ebb0e6be96b23a96d50dcfd9f9866aba150a5a50c2080e2cfaa062880a8d6"
                + "b9071240970d76c82105b1b630e57d224d4832a720873eabffd89f6b007db9a5ad4bd394d7c02813a04a8869194e6ec72ad9"
                + "f7ca4fb325d5e0ab2d4c9258e9a1336e8e0a12760a32080110001a2092044e96eb6ecffa1fe2662e5506ed743a833d86ff79"
                + "d7b07265d2567543e9732080e2cfaa062880a8d6b9071240014733e7b4c9de9afbeb990ce8e6e3c05111fe2046c1ab2b0749"
                + "142b01f6ad6d8e578e878a38f113a554e99e270dbd044924d61be20e19a5a20f0ff1b123368a")
        let chain = try decode(Waproto_CertChain.self, chainBytes)
        let leaf = try decode(Waproto_CertChain.NoiseCertificate.Details.self, Array(chain.leaf.details))
        #expect(leaf.serial == 2 && leaf.issuerSerial == 1)
        #expect(Array(leaf.key) == signalHex("427265d836c915925b7db24ebb0e6be96b23a96d50dcfd9f9866aba150a5a50c"))
        #expect(leaf.notBefore == 1_700_000_000 && leaf.notAfter == 2_000_000_000)
        let intermediate = try decode(
            Waproto_CertChain.NoiseCertificate.Details.self, Array(chain.intermediate.details))
        #expect(intermediate.serial == 1 && intermediate.hasIssuerSerial && intermediate.issuerSerial == 0)
        #expect(Array(intermediate.key) == signalHex("92044e96eb6ecffa1fe2662e5506ed743a833d86ff79d7b07265d2567543e973"))
        #expect(try encode(intermediate) == Array(chain.intermediate.details))
        #expect(chain.leaf.signature.count == 64 && chain.intermediate.signature.count == 64)
        #expect(try encode(chain) == chainBytes)
    }

    @Test func handshakeMessagesMatchReference() throws {
        // hs.login.clientHello.proto
        let helloBytes = signalHex("12220a20f01e3feed2953d4221feddad1b6baa06ee321666eb0e170d33428905b0057d4e")
        let hello = try decode(Waproto_HandshakeMessage.self, helloBytes)
        #expect(
            Array(hello.clientHello.ephemeral)
                == signalHex("f01e3feed2953d4221feddad1b6baa06ee321666eb0e170d33428905b0057d4e"))
        #expect(!hello.hasServerHello && !hello.hasClientFinish)
        #expect(try encode(hello) == helloBytes)

        // hs.login.clientFinish.full
        let finishBytes = signalHex(
            "229a010a30a565f8741ed67136285aa696aaced73cca10f14db2d18b9f2070c13fd6975a55d91132dd1bc6604d7ce2dcdac2803e"
                + "c712669cb301a63678b000bf964fc3acaba7c7b22669c3246e32e85515ff27ce0f314da6ede63d48325f89085c923e879e32"
                + "12c7296a36fec6d7b7ed118235582f51553c09558d21ff22f446dc2b064435e69c4098f420c5334cf8e3f85423a319fd5736"
                + "b855a8601e")
        let finish = try decode(Waproto_HandshakeMessage.self, finishBytes)
        #expect(finish.clientFinish.staticKey.count == 48)
        #expect(finish.clientFinish.payload.count == 102)  // 86-byte login payload + 16-byte tag
        #expect(try encode(finish) == finishBytes)
    }

    /// Part 2 §8.3 V8: the SyncActionData plaintext of a mute mutation.
    @Test func syncActionDataMatchesV8() throws {
        let bytes = signalHex(
            "0a245b226d757465222c223132333435363738393040732e77686174736170702e6e6574225d12160880d095ffbc31220d08"
                + "0110ffffffffffffffffff011a002002")
        let data = try decode(Waproto_SyncActionData.self, bytes)
        #expect(String(decoding: data.index, as: UTF8.self) == #"["mute","1234567890@s.whatsapp.net"]"#)
        #expect(data.value.timestamp == 1_700_000_000_000)
        #expect(data.value.muteAction.muted)
        #expect(data.value.muteAction.muteEndTimestamp == -1)
        #expect(data.hasPadding && data.padding.isEmpty)
        #expect(data.version == 2)
        #expect(try encode(data) == bytes)
    }

    /// Plaintexts of part 2 V5 and V6 (before padding).
    @Test func conversationMessagesMatchV5AndV6() throws {
        #expect(try decode(Waproto_Message.self, signalHex("0a0548656c6c6f")).conversation == "Hello")
        var message = Waproto_Message()
        message.conversation = "Hi group"
        #expect(try encode(message) == signalHex("0a0848692067726f7570"))
    }
}
