import Foundation
import Logging
import Reactor
import SwiftProtobuf
import WAProtocol

/// QR pairing (part 1, sections 5.2-5.6) and pairing by code (section 5.7), server side.
extension SimulatorConnection {
    // MARK: - QR pairing (§5.2–5.6)

    func sendPairDevice() {
        let configuration = core.configuration
        var refNodes: [BinaryNode] = []
        let start = core.reactor.now
        for index in 0..<max(1, configuration.qrRefCount) {
            let ref = "2@" + Data((try? Crypto.randomBytes(48)) ?? []).base64EncodedString()
            let expires = start.adding(
                milliseconds: configuration.qrFirstRefMilliseconds + index * configuration.qrNextRefMilliseconds)
            refs.append((ref, expires))
            core.refs[ref] = self
            refNodes.append(BinaryNode("ref", bytes: Array(ref.utf8)))
        }
        var attributes = serverAttributes
        attributes.append("id", .string(makeID()))
        attributes.append("type", "set")
        attributes.append("xmlns", "md")
        send(BinaryNode("iq", attributes, children: [BinaryNode("pair-device", children: refNodes)]))
        // When the last ref runs out, the unpaired connection is over (a grace second for the client to close first).
        let last = configuration.qrFirstRefMilliseconds + (max(1, configuration.qrRefCount) - 1) * configuration.qrNextRefMilliseconds
        refsTimer = core.reactor.schedule(afterMilliseconds: last + 1_000) { [weak self] in
            guard let self, self.stage == .unpaired, self.pairSuccess == nil, self.linkCode?.completion == nil else { return }
            self.abort("QR refs ran out")
        }
    }

    /// Whether `ref` was sent on this connection and has not expired.
    func refIsCurrent(_ ref: String) -> Bool {
        let now = core.reactor.now
        return refs.contains { $0.ref == ref && now <= $0.expires }
    }

    /// The phone scanned (or finished a pairing-code exchange): sign the ADV identity and send `pair-success`.
    func sendPairSuccess(
        account: Account, identityKey: [UInt8], advSecret: [UInt8], platform: String?,
        completion: @escaping (Result<PairingResult, SimulatorError>) -> Void
    ) {
        guard stage == .unpaired, pairSuccess == nil else {
            return completion(.failure(.conflict("this connection is not waiting for a pairing")))
        }
        let device = account.nextDevice
        account.nextDevice &+= 1
        let made: (content: [UInt8], signedIdentity: AdvSignedDeviceIdentity)
        do {
            let rawID = (try Crypto.randomBytes(4)).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            made = try AdvPairing.makePairSuccess(
                device: AdvDeviceIdentity(
                    rawID: rawID, timestamp: unixNow(), keyIndex: UInt32(device), accountType: .e2ee, deviceType: .e2ee),
                accountIdentity: account.identity, companionIdentity: identityKey, advSecret: advSecret,
                random: try Crypto.randomBytes(64))
        } catch {
            return completion(.failure(SimulatorError(500, "cannot sign the device identity: \(error)")))
        }
        let iqID = makeID()
        let timer = core.reactor.schedule(afterMilliseconds: core.configuration.pairingTimeoutMilliseconds) {
            [weak self] in
            guard let self, let pending = self.pairSuccess, pending.iqID == iqID else { return }
            self.pairSuccess = nil
            pending.completion(.failure(SimulatorError(504, "the companion did not answer pair-success")))
            self.abort("pair-success not answered")
        }
        pairSuccess = PendingPairSuccess(
            iqID: iqID, account: account, device: device, identityKey: identityKey, platform: platform,
            signedIdentity: made.signedIdentity, completion: completion, timer: timer)
        var attributes = serverAttributes
        attributes.append("id", .string(iqID))
        attributes.append("type", "set")
        attributes.append("xmlns", "md")
        attributes.append("t", .string(String(unixNow())))
        send(
            BinaryNode(
                "iq", attributes,
                children: [
                    BinaryNode(
                        "pair-success",
                        children: [
                            BinaryNode("device-identity", bytes: made.content),
                            BinaryNode("platform", ["name": "android"]),
                            BinaryNode(
                                "device", ["jid": .jid(account.jid(device: device)), "lid": .jid(account.lid(device: device))]),
                        ])
                ]))
    }

    func pairDeviceSigned(_ node: BinaryNode, _ pending: PendingPairSuccess) {
        pairSuccess = nil
        core.reactor.cancel(pending.timer)
        guard node.attributes.string("type") == "result",
            let reply = node.child("pair-device-sign")?.child("device-identity")?.contentBytes
        else {
            let text = node.child("error")?.attributes.string("text") ?? "no pair-device-sign"
            pending.completion(.failure(SimulatorError(422, "the companion refused pair-success: \(text)")))
            return abort("pairing refused")
        }
        let signed: AdvSignedDeviceIdentity
        do {
            signed = try AdvPairing.verifyPairDeviceSign(
                reply: reply, sent: pending.signedIdentity, companionIdentity: pending.identityKey)
        } catch {
            pending.completion(.failure(SimulatorError(422, "bad pair-device-sign: \(error)")))
            return abort("bad pair-device-sign")
        }
        var recorded = signed
        recorded.accountSignatureKey = pending.account.identity.publicKey
        let companion = Companion(
            device: pending.device, identityKey: pending.identityKey, noiseKey: clientStatic, platform: pending.platform,
            signedIdentity: recorded, pairedAt: unixNow())
        pending.account.companions[pending.device] = companion
        core.announceDevices(of: pending.account, change: "add", device: pending.device)
        core.logger.info(
            "companion linked", metadata: ["jid": "\(pending.account.jid(device: pending.device))"])
        pending.completion(
            .success(
                PairingResult(
                    phone: pending.account.phone, device: pending.device,
                    jid: pending.account.jid(device: pending.device).description,
                    lid: pending.account.lid(device: pending.device).description)))
        linkCode = nil
        streamError(code: "515", conflict: nil)
    }

    // MARK: - Pairing code (§5.7)

    func linkCodeRequest(_ node: BinaryNode) {
        guard stage == .unpaired, let request = node.child("link_code_companion_reg") else {
            return error(node, code: 400, text: "bad-request")
        }
        switch request.attributes.string("stage") {
        case "companion_hello":
            let phone = request.attributes.jid("jid")?.user ?? request.attributes.string("jid")?.split(separator: "@").first.map(String.init)
            guard let phone, core.accounts[phone] != nil else { return error(node, code: 404, text: "not-found") }
            guard let wrapped = request.child("link_code_pairing_wrapped_companion_ephemeral_pub")?.contentBytes,
                wrapped.count == PairingCode.wrappedKeySize,
                let noiseKey = request.child("companion_server_auth_key_pub")?.contentBytes,
                Crypto.constantTimeEquals(noiseKey, clientStatic)
            else { return error(node, code: 400, text: "bad-request") }
            let platform = request.child("companion_platform_id").flatMap(text(of:))
            let ref = Data((try? Crypto.randomBytes(24)) ?? []).base64EncodedString()
            linkCode = LinkCode(
                phone: phone, ref: ref, wrappedCompanionEphemeral: wrapped, noiseKey: noiseKey, platform: platform)
            core.linkCodeWaiting[phone] = self
            result(
                node,
                [
                    BinaryNode(
                        "link_code_companion_reg",
                        children: [BinaryNode("link_code_pairing_ref", bytes: Array(ref.utf8))])
                ])
        case "companion_finish":
            guard var state = linkCode, let primaryEphemeral = state.primaryEphemeral,
                let companionEphemeral = state.companionEphemeral, let completion = state.completion,
                let account = core.accounts[state.phone]
            else { return error(node, code: 400, text: "bad-request") }
            guard let bundle = request.child("link_code_pairing_wrapped_key_bundle")?.contentBytes,
                let identity = request.child("companion_identity_public")?.contentBytes,
                request.child("link_code_pairing_ref").flatMap(text(of:)) == state.ref
            else { return error(node, code: 400, text: "bad-request") }
            state.completion = nil
            linkCode = state
            do {
                let finish = try PairingCode.primaryFinish(
                    wrappedKeyBundle: bundle, primaryEphemeral: primaryEphemeral, companionEphemeralKey: companionEphemeral,
                    primaryIdentity: account.identity, companionIdentityKey: identity)
                result(node)
                sendPairSuccess(
                    account: account, identityKey: finish.companionIdentityKey, advSecret: finish.advSecret,
                    platform: state.platform, completion: completion)
            } catch {
                self.error(node, code: 401, text: "key-bundle-mismatch")
                completion(.failure(SimulatorError(422, "companion_finish did not verify: \(error)")))
            }
        default:
            error(node, code: 400, text: "bad-request")
        }
    }

    /// Stage 2 once the phone has entered the code: sends `primary_hello` with the primary's
    /// wrapped ephemeral key. `companionEphemeral` was unwrapped with the code by the caller.
    func primaryHello(
        companionEphemeral: [UInt8], primaryEphemeral: Crypto.X25519KeyPair, wrappedPrimaryEphemeral: [UInt8],
        account: Account, completion: @escaping (Result<PairingResult, SimulatorError>) -> Void
    ) {
        guard stage == .unpaired, var state = linkCode, state.completion == nil else {
            return completion(.failure(.conflict("no pairing-code request is waiting")))
        }
        state.primaryEphemeral = primaryEphemeral
        state.companionEphemeral = companionEphemeral
        state.completion = completion
        linkCode = state
        var attributes = serverAttributes
        attributes.append("id", .string(makeID()))
        attributes.append("type", "link_code_companion_reg")
        attributes.append("t", .string(String(unixNow())))
        send(
            BinaryNode(
                "notification", attributes,
                children: [
                    BinaryNode(
                        "link_code_companion_reg", ["stage": "primary_hello"],
                        children: [
                            BinaryNode("link_code_pairing_ref", bytes: Array(state.ref.utf8)),
                            BinaryNode("link_code_pairing_wrapped_primary_ephemeral_pub", bytes: wrappedPrimaryEphemeral),
                            BinaryNode("primary_identity_pub", bytes: account.identity.publicKey),
                        ])
                ]))
    }

    func text(of node: BinaryNode) -> String? {
        switch node.content {
        case .string(let string): return string
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }
}
