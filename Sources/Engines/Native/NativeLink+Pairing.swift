import Foundation
import Logging
import Reactor
import WAProtocol

/// QR rotation, pair-success and phone-number pairing (ref part 1 §5).
extension NativeLink {
    func handlePairDevice(_ pairDevice: BinaryNode) {
        qrRefs = pairDevice.children("ref").compactMap { $0.contentBytes.map { String(decoding: $0, as: UTF8.self) } }
        qrIndex = 0
        phase = .unpaired
        cancel(&handshakeTimer)
        showQR()
    }

    private func showQR() {
        cancel(&qrTimer)
        guard qrIndex < qrRefs.count else { return linkLost("QR refs attempts ended") }
        emitCurrentQR()
        let duration = qrIndex == 0 ? configuration.firstQRMilliseconds : configuration.nextQRMilliseconds
        qrTimer = reactor.schedule(afterMilliseconds: duration) { [weak self] in
            guard let self else { return }
            self.qrTimer = nil
            self.qrIndex += 1
            self.showQR()
        }
    }

    private func emitCurrentQR() {
        guard let credentials, qrIndex < qrRefs.count else { return }
        emit(
            .qr(
                PairingQR.string(
                    for: .init(
                        ref: qrRefs[qrIndex], noisePublicKey: credentials.noise.publicKey,
                        identityPublicKey: credentials.identity.publicKey, advSecret: credentials.advSecret,
                        platform: configuration.platformID))))
    }

    /// `companion_reg_refresh`: a new ADV secret, the same ref shown again.
    func refreshAdvSecret() {
        guard phase == .unpaired, pairingCode?.ref == nil, var credentials, let secret = try? Crypto.randomBytes(32) else { return }
        credentials.advSecret = secret
        self.credentials = credentials
        persist([NativeCredentials.Key.advSecret: secret]) { link in link.emitCurrentQR() }
    }

    // MARK: - pair-success (§5.4-5.5)

    func handlePairSuccess(_ success: BinaryNode, id: String) {
        guard let credentials, let content = success.child("device-identity")?.contentBytes,
            let device = success.child("device")?.attributes.jid("jid")
        else {
            send(pairError(id: id, code: "500", text: "internal-error"))
            return fail("protocol violation: pair-success without device identity or JID")
        }
        cancel(&qrTimer)
        phase = .pairing
        emit(.authenticating)
        let lid = success.child("device")?.attributes.jid("lid")
        let platform = success.child("platform")?.attributes.string("name")
        let advSecret = credentials.advSecret
        let identity: Crypto.X25519KeyPair
        do { identity = try credentials.identityX25519 } catch { return fail("identity key unusable: \(error)") }
        onWorker({
            try AdvPairing.verifyPairSuccess(
                deviceIdentityContent: content, advSecret: advSecret, identityKey: identity, random: try Crypto.randomBytes(64))
        }) { link, result in
            switch result {
            case .failure(let error):
                let text = (error as? ProtocolError).map { "\($0)" } ?? "\(error)"
                let authentication = text.contains("hmac-mismatch") ? "hmac-mismatch" : text.contains("signature-mismatch") ? "signature-mismatch" : nil
                link.send(link.pairError(id: id, code: authentication == nil ? "500" : "401", text: authentication ?? "internal-error"))
                link.fail("pairing failed: the server's pair-success did not verify (\(text))")
            case .success(let verified):
                link.completePairing(verified, id: id, device: device, lid: lid, platform: platform)
            }
        }
    }

    private func completePairing(_ verified: AdvPairing.Verified, id: String, device: JID, lid: JID?, platform: String?) {
        credentials?.me = device
        var changes: [String: [UInt8]?] = [
            NativeCredentials.Key.me: Array(device.description.utf8),
            NativeCredentials.Key.signedIdentity: verified.signedIdentity.serialized(),
            NativeCredentials.Key.accountSignatureKey: verified.accountSignatureKey,
        ]
        if let lid { changes[NativeCredentials.Key.lid] = Array(lid.description.utf8) }
        if let platform { changes[NativeCredentials.Key.platform] = Array(platform.utf8) }
        let keyIndex = verified.deviceIdentity.keyIndex ?? 0
        persist(changes) { link in
            let reply = BinaryNode(
                "iq", ["to": .jid(.whatsAppServer), "id": .string(id), "type": "result"],
                children: [
                    BinaryNode(
                        "pair-device-sign",
                        children: [BinaryNode("device-identity", ["key-index": .string(String(keyIndex))], bytes: verified.reply)])
                ])
            link.send(reply)
        }
    }

    func pairError(id: String, code: String, text: String) -> BinaryNode {
        BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "id": .string(id), "type": "error"],
            children: [BinaryNode("error", ["code": .string(code), "text": .string(text)])])
    }

    // MARK: - Phone-number pairing (§5.7)

    func requestPairingCode(phoneNumber: String, _ completion: @escaping @Sendable (Result<String, any Error>) -> Void) {
        guard phase == .unpaired, credentials != nil else {
            return completion(.failure(EngineError.conflict("a pairing code can only be requested while waiting for a QR scan")))
        }
        let digits = phoneNumber.filter { $0.isASCII && $0.isNumber }
        guard digits.count > 6, !digits.hasPrefix("0"), digits.count == phoneNumber.filter({ !"+ -()".contains($0) }).count else {
            return completion(.failure(EngineError.invalid("phoneNumber must be an international number without a leading 0")))
        }
        onWorker({ () throws -> Unchecked<(String, Crypto.X25519KeyPair, [UInt8])> in
            let code = try PairingCode.generateCode()
            let ephemeral = try Crypto.x25519KeyPair()
            return Unchecked((code, ephemeral, try PairingCode.wrap(publicKey: ephemeral.publicKey, code: code)))
        }) { link, result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let value):
                let (code, ephemeral, wrapped) = value.value
                link.sendCompanionHello(code: code, ephemeral: ephemeral, wrapped: wrapped, phone: digits, completion)
            }
        }
    }

    private func sendCompanionHello(
        code: String, ephemeral: Crypto.X25519KeyPair, wrapped: [UInt8], phone: String,
        _ completion: @escaping @Sendable (Result<String, any Error>) -> Void
    ) {
        guard phase == .unpaired, let credentials else {
            return completion(.failure(EngineError.conflict("the link changed while the code was prepared")))
        }
        pairingCode = (code, ephemeral, phone, nil)
        let node = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "md"],
            children: [
                BinaryNode(
                    "link_code_companion_reg",
                    [
                        "jid": .jid(JID(user: phone, server: JID.Server.user)), "stage": "companion_hello",
                        "should_show_push_notification": "true",
                    ],
                    children: [
                        BinaryNode("link_code_pairing_wrapped_companion_ephemeral_pub", bytes: wrapped),
                        BinaryNode("companion_server_auth_key_pub", bytes: credentials.noise.publicKey),
                        BinaryNode("companion_platform_id", bytes: Array(configuration.platformID.utf8)),
                        BinaryNode("companion_platform_display", bytes: Array(configuration.platformDisplay.utf8)),
                        BinaryNode("link_code_pairing_nonce", bytes: Array("0".utf8)),
                    ])
            ])
        sendRequest(node, timeout: configuration.requestTimeoutMilliseconds) { [weak self] result in
            switch result {
            case .failure(let error):
                self?.pairingCode = nil
                completion(.failure(error))
            case .success(let response):
                let ref = response.child("link_code_companion_reg")?.child("link_code_pairing_ref")?.contentBytes
                self?.pairingCode?.ref = ref ?? []
                completion(.success(code))
            }
        }
    }

    /// Stage 2 (`primary_hello`): unwrap, derive the new ADV secret, send `companion_finish`.
    func handlePrimaryHello(_ registration: BinaryNode) {
        guard registration.attributes.string("stage") == "primary_hello", let pairing = pairingCode, let credentials,
            let wrapped = registration.child("link_code_pairing_wrapped_primary_ephemeral_pub")?.contentBytes,
            let primaryIdentity = registration.child("primary_identity_pub")?.contentBytes
        else { return }
        let ref = registration.child("link_code_pairing_ref")?.contentBytes ?? pairing.ref ?? []
        if let expected = pairing.ref, !expected.isEmpty, expected != ref { return }
        let identity: Crypto.X25519KeyPair
        do { identity = try credentials.identityX25519 } catch { return fail("identity key unusable: \(error)") }
        onWorker({
            try PairingCode.companionFinish(
                code: pairing.code, companionEphemeral: pairing.ephemeral, wrappedPrimaryEphemeral: wrapped,
                primaryIdentityKey: primaryIdentity, companionIdentity: identity)
        }) { link, result in
            switch result {
            case .failure(let error): link.fail("pairing code stage 2 failed: \(error)")
            case .success(let finish):
                link.credentials?.advSecret = finish.advSecret
                link.persist([NativeCredentials.Key.advSecret: finish.advSecret]) { link in
                    let node = BinaryNode(
                        "iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "md"],
                        children: [
                            BinaryNode(
                                "link_code_companion_reg",
                                ["jid": .jid(JID(user: pairing.phone, server: JID.Server.user)), "stage": "companion_finish"],
                                children: [
                                    BinaryNode("link_code_pairing_wrapped_key_bundle", bytes: finish.wrappedKeyBundle),
                                    BinaryNode("companion_identity_public", bytes: identity.publicKey),
                                    BinaryNode("link_code_pairing_ref", bytes: ref),
                                ])
                        ])
                    link.sendRequest(node, timeout: link.configuration.requestTimeoutMilliseconds) { _ in }
                }
            }
        }
    }
}
