import Foundation
import Logging
import Reactor
import SwiftProtobuf
import WAProtocol

/// One client connection on `/ws/chat`, on the reactor thread: intro header, Noise XX responder,
/// ClientPayload (registration or login), then binary nodes over the transport cipher (protocol
/// reference part 1 §6.7).
final class SimulatorConnection: WebSocketDelegate {
    enum Stage: Equatable {
        case handshake, unpaired, online, closed
    }

    /// A `pair-success` that was sent and waits for the companion's `pair-device-sign`.
    struct PendingPairSuccess {
        let iqID: String
        let account: Account
        let device: UInt16
        let identityKey: [UInt8]
        let platform: String?
        let signedIdentity: AdvSignedDeviceIdentity
        let completion: (Result<PairingResult, SimulatorError>) -> Void
        let timer: TimerID
    }

    /// The phone-number pairing in progress (§5.7).
    struct LinkCode {
        let phone: String
        let ref: String
        let wrappedCompanionEphemeral: [UInt8]
        let noiseKey: [UInt8]
        let platform: String?
        /// Set once the phone has entered the code (stage 2 sent).
        var primaryEphemeral: Crypto.X25519KeyPair?
        var companionEphemeral: [UInt8]?
        var completion: ((Result<PairingResult, SimulatorError>) -> Void)?
    }

    let id: UInt64
    private unowned let core: SimulatorCore
    private let socket: WebSocketConnection
    private let stream: any ByteStream
    private var reader: FrameReader
    private var responder: NoiseHandshake.Responder?
    private var transport: NoiseTransport?
    private(set) var stage = Stage.handshake
    private var handshakeTimer: TimerID?

    /// The client's static noise key (its credential).
    private(set) var clientStatic: [UInt8] = []
    private(set) var registration: Waproto_ClientPayload.DevicePairingRegistrationData?
    private(set) var refs: [(ref: String, expires: ReactorInstant)] = []
    private var refsTimer: TimerID?
    private var pairSuccess: PendingPairSuccess?
    var linkCode: LinkCode?
    private(set) weak var account: Account?
    private(set) weak var companion: Companion?

    private var stalled = false
    private var latencyMilliseconds = 0
    private var delayedFrames: [[UInt8]] = []
    private var pingTimer: TimerID?
    private var pingDeadline: TimerID?
    private var outstandingPing: String?
    private var nextIQ: UInt64 = 0

    init(core: SimulatorCore, id: UInt64, stream: any ByteStream, leftover: [UInt8]) {
        self.core = core
        self.id = id
        self.stream = stream
        self.reader = FrameReader(maxFrameSize: core.configuration.maxFrameSize, expectsIntroHeader: true)
        self.socket = WebSocketConnection(
            reactor: core.reactor, stream: stream, role: .server, maxMessageBytes: core.configuration.maxFrameSize + 64,
            leftover: leftover)
        socket.delegate = self
        do {
            responder = NoiseHandshake.Responder(
                staticKey: core.serverStaticKey, ephemeralKey: try Crypto.x25519KeyPair(),
                certificateChain: core.certificateChain)
        } catch {
            responder = nil
        }
        handshakeTimer = core.reactor.schedule(afterMilliseconds: core.configuration.handshakeTimeoutMilliseconds) {
            [weak self] in
            self?.abort("handshake timed out")
        }
    }

    var isOnline: Bool { stage == .online }

    // MARK: - WebSocket events

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) {
        guard case .binary(let bytes) = message, !stalled, stage != .closed else { return }
        reader.append(bytes)
        while stage != .closed, !stalled {
            let frame: [UInt8]?
            do {
                frame = try reader.nextFrame()
            } catch {
                return abort("bad framing: \(error)")
            }
            guard let frame else { return }
            handle(frame: frame)
        }
    }

    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) {
        tearDown()
        core.release(self)
    }

    // MARK: - Frames

    private func handle(frame: [UInt8]) {
        if var transport {
            let node: BinaryNode
            do {
                let plaintext = try transport.decrypt(frame)
                self.transport = transport
                node = try NodePlaintext.decode(plaintext)
            } catch {
                return abort("undecryptable frame: \(error)")
            }
            return handle(node: node)
        }
        guard var responder else { return abort("no handshake state") }
        do {
            if !responderSentHello {
                try responder.readClientHello(frame)
                let hello = try responder.makeServerHello()
                responderSentHello = true
                self.responder = responder
                sendRaw(try FrameWriter.frame(hello))
            } else {
                let (client, transport) = try responder.readClientFinish(frame)
                self.responder = nil
                self.transport = transport
                clientStatic = client.staticKey
                if let handshakeTimer { core.reactor.cancel(handshakeTimer) }
                handshakeTimer = nil
                let payload = try Waproto_ClientPayload(serializedBytes: client.payload)
                authenticate(payload)
            }
        } catch {
            abort("handshake failed: \(error)")
        }
    }

    private var responderSentHello = false

    private func authenticate(_ payload: Waproto_ClientPayload) {
        if payload.hasDevicePairingData, !payload.hasUsername {
            registration = payload.devicePairingData
            stage = .unpaired
            core.logger.debug("registration", metadata: ["connection": "\(id)"])
            sendPairDevice()
            startPings()
            return
        }
        let phone = String(payload.username)
        guard payload.hasUsername, payload.hasDevice, let account = core.accounts[phone],
            let device = UInt16(exactly: payload.device), let companion = account.companions[device],
            Crypto.constantTimeEquals(companion.noiseKey, clientStatic)
        else {
            core.logger.debug("login refused", metadata: ["connection": "\(id)", "user": "\(payload.username)"])
            send(BinaryNode("failure", ["reason": "401", "location": "sim"]))
            return close()
        }
        if let previous = companion.connection, previous !== self {
            previous.streamError(code: nil, conflict: "replaced")
        }
        self.account = account
        self.companion = companion
        companion.connection = self
        stage = .online
        core.logger.debug("login", metadata: ["connection": "\(id)", "jid": "\(account.jid(device: device))"])
        send(
            BinaryNode(
                "success",
                [
                    "t": .string(String(unixNow())), "props": "27", "abprops": "8",
                    "lid": .jid(account.lid(device: device)), "display_name": .string(account.pushName),
                    "creation": .string(String(account.createdAt)), "location": "sim",
                    "companion_enc_static": .string(Data(clientStatic.prefix(16)).base64EncodedString()),
                ]))
        startPings()
    }

    // MARK: - Sending

    func send(_ node: BinaryNode) {
        guard var transport, stage != .closed else { return }
        do {
            let ciphertext = try transport.encrypt(try NodePlaintext.encode(node))
            self.transport = transport
            sendRaw(try FrameWriter.frame(ciphertext))
        } catch {
            abort("cannot send \(node.tag): \(error)")
        }
    }

    /// Writes one WebSocket message, after the injected latency if any (order is kept: every
    /// delayed frame waits the same time and each timer sends the oldest one).
    private func sendRaw(_ bytes: [UInt8]) {
        guard latencyMilliseconds > 0 else { return socket.send(.binary(bytes)) }
        delayedFrames.append(bytes)
        core.reactor.schedule(afterMilliseconds: latencyMilliseconds) { [weak self] in
            guard let self, !self.delayedFrames.isEmpty else { return }
            self.socket.send(.binary(self.delayedFrames.removeFirst()))
        }
    }

    func makeID() -> String {
        nextIQ += 1
        return "\(id).\(nextIQ)"
    }

    private var serverAttributes: NodeAttributes { ["from": .jid(JID.whatsAppServer)] }

    private func result(_ request: BinaryNode, _ children: [BinaryNode]? = nil) {
        var attributes = serverAttributes
        attributes.append("id", .string(request.attributes.string("id") ?? ""))
        attributes.append("type", "result")
        send(children.map { BinaryNode("iq", attributes, children: $0) } ?? BinaryNode("iq", attributes))
    }

    private func error(_ request: BinaryNode, code: Int, text: String) {
        var attributes = serverAttributes
        attributes.append("id", .string(request.attributes.string("id") ?? ""))
        attributes.append("type", "error")
        send(BinaryNode("iq", attributes, children: [BinaryNode("error", ["code": .string(String(code)), "text": .string(text)])]))
    }

    // MARK: - Closing

    /// `<stream:error …/>`, `<xmlstreamend/>`, then the close handshake.
    func streamError(code: String?, conflict: String?) {
        guard stage != .closed else { return }
        var attributes = NodeAttributes()
        if let code { attributes.append("code", .string(code)) }
        let children = conflict.map { [BinaryNode("conflict", ["type": .string($0)])] }
        send(children.map { BinaryNode("stream:error", attributes, children: $0) } ?? BinaryNode("stream:error", attributes))
        send(BinaryNode("xmlstreamend"))
        close()
    }

    /// Ends the connection after what is queued has been written.
    func close() {
        guard stage != .closed else { return }
        // Frames still held back by injected latency go out first.
        for frame in delayedFrames { socket.send(.binary(frame)) }
        delayedFrames = []
        latencyMilliseconds = 0
        tearDown()
        socket.close()
    }

    private func abort(_ reason: String) {
        core.logger.debug("closing connection", metadata: ["connection": "\(id)", "reason": "\(reason)"])
        tearDown()
        stream.close(error: nil)
    }

    private func tearDown() {
        guard stage != .closed else { return }
        stage = .closed
        for timer in [handshakeTimer, refsTimer, pingTimer, pingDeadline].compactMap({ $0 }) { core.reactor.cancel(timer) }
        handshakeTimer = nil
        refsTimer = nil
        pingTimer = nil
        pingDeadline = nil
        if let pairSuccess {
            core.reactor.cancel(pairSuccess.timer)
            pairSuccess.completion(.failure(SimulatorError(410, "the companion disconnected during pairing")))
        }
        pairSuccess = nil
        if let completion = linkCode?.completion {
            completion(.failure(SimulatorError(410, "the companion disconnected during pairing")))
        }
        linkCode = nil
        if companion?.connection === self { companion?.connection = nil }
        core.connectionEnded(self)
    }

    // MARK: - Faults

    func inject(_ fault: SimulatorFault) {
        switch fault {
        case .drop:
            abort("fault: drop")
        case .stall:
            stalled = true
            stream.setReading(false)
            for timer in [pingTimer, pingDeadline].compactMap({ $0 }) { core.reactor.cancel(timer) }
            pingTimer = nil
            pingDeadline = nil
        case .conflict:
            streamError(code: nil, conflict: "replaced")
        case .latency(let milliseconds):
            latencyMilliseconds = max(0, milliseconds)
        case .malformed:
            var garbage = (try? Crypto.randomBytes(48)) ?? [UInt8](repeating: 0xA5, count: 48)
            garbage[0] ^= 0xFF
            if let frame = try? FrameWriter.frame(garbage) { sendRaw(frame) }
        }
    }

    // MARK: - Server pings (urn:xmpp:ping)

    private func startPings() {
        guard let interval = core.configuration.pingIntervalMilliseconds, interval > 0 else { return }
        pingTimer = core.reactor.schedule(afterMilliseconds: interval) { [weak self] in self?.ping() }
    }

    private func ping() {
        pingTimer = nil
        guard stage == .online || stage == .unpaired, !stalled else { return }
        let pingID = makeID()
        outstandingPing = pingID
        var attributes = serverAttributes
        attributes.append("id", .string(pingID))
        attributes.append("t", .string(String(unixNow())))
        attributes.append("type", "get")
        attributes.append("xmlns", "urn:xmpp:ping")
        send(BinaryNode("iq", attributes))
        pingDeadline = core.reactor.schedule(afterMilliseconds: core.configuration.pingTimeoutMilliseconds) {
            [weak self] in
            self?.abort("server ping not answered")
        }
    }

    private func pong(_ pingID: String) {
        guard pingID == outstandingPing else { return }
        outstandingPing = nil
        if let pingDeadline { core.reactor.cancel(pingDeadline) }
        pingDeadline = nil
        startPings()
    }

    // MARK: - Nodes

    private func handle(node: BinaryNode) {
        let type = node.attributes.string("type") ?? ""
        guard node.tag == "iq" else {
            if node.tag == "message" {
                // No routing yet: acknowledge so the client's send completes.
                var attributes = serverAttributes
                attributes.append("class", "message")
                attributes.append("id", .string(node.attributes.string("id") ?? ""))
                attributes.append("t", .string(String(unixNow())))
                send(BinaryNode("ack", attributes))
            }
            return  // ack, receipt, presence, ib, notification replies: nothing to answer
        }
        let iqID = node.attributes.string("id") ?? ""
        if type == "result" || type == "error" {
            if iqID == outstandingPing { return pong(iqID) }
            if let pending = pairSuccess, pending.iqID == iqID { return pairDeviceSigned(node, pending) }
            return
        }
        let xmlns = node.attributes.string("xmlns") ?? ""
        switch (xmlns, type) {
        case ("w:p", "get"):
            var attributes = serverAttributes
            attributes.append("id", .string(iqID))
            attributes.append("type", "result")
            attributes.append("t", .string(String(unixNow())))
            send(BinaryNode("iq", attributes))
        case ("md", "set") where node.child("link_code_companion_reg") != nil:
            linkCodeRequest(node)
        case _ where stage != .online:
            error(node, code: 401, text: "not-authorized")
        case ("encrypt", "set"):
            storeKeys(node)
        case ("encrypt", "get"):
            answerEncryptGet(node)
        case ("passive", "set"):
            result(node)
            if node.child("active") != nil { send(BinaryNode("ib", serverAttributes, children: [BinaryNode("offline", ["count": "0"])])) }
        case ("usync", "get"):
            answerUsync(node)
        case ("abt", "get"):
            result(node, [BinaryNode("props", ["protocol": "1", "hash": "sim"], children: [])])
        case ("blocklist", "get"):
            result(node, [BinaryNode("list", children: [])])
        case ("privacy", "get"):
            result(node, [BinaryNode("privacy", children: [])])
        case ("urn:xmpp:whatsapp:dirty", "set"):
            result(node)
        case ("md", "set") where node.child("remove-companion-device") != nil:
            result(node)
            if let account, let companion { core.forget(companion, of: account, notify: false) }
            close()
        default:
            error(node, code: 501, text: "feature-not-implemented")
        }
    }

    // MARK: - Prekeys (part 2 §1.4)

    private func storeKeys(_ node: BinaryNode) {
        guard let companion else { return error(node, code: 500, text: "internal-error") }
        if let rotate = node.child("rotate"), let skey = rotate.child("skey") {
            companion.keys.signedPreKey = signedPreKey(skey)
            return result(node)
        }
        guard let identity = node.child("identity")?.contentBytes, identity.count == 32,
            let registration = node.child("registration")?.contentBytes
        else { return error(node, code: 400, text: "bad-request") }
        companion.keys.registrationID = registration
        companion.keys.identity = identity
        if let skey = node.child("skey") { companion.keys.signedPreKey = signedPreKey(skey) }
        let known = Set(companion.keys.preKeys.map(\.id))
        for key in node.child("list")?.children("key") ?? [] {
            guard let id = key.child("id")?.contentBytes, let value = key.child("value")?.contentBytes, !known.contains(id)
            else { continue }
            companion.keys.preKeys.append((id, value))
        }
        result(node)
    }

    private func signedPreKey(_ skey: BinaryNode) -> (id: [UInt8], value: [UInt8], signature: [UInt8])? {
        guard let id = skey.child("id")?.contentBytes, let value = skey.child("value")?.contentBytes,
            let signature = skey.child("signature")?.contentBytes
        else { return nil }
        return (id, value, signature)
    }

    private func answerEncryptGet(_ node: BinaryNode) {
        guard let companion else { return error(node, code: 500, text: "internal-error") }
        if node.child("count") != nil {
            return result(node, [BinaryNode("count", ["value": .string(String(companion.keys.preKeys.count))])])
        }
        if node.child("digest") != nil {
            let keys = companion.keys
            guard let skey = keys.signedPreKey, !keys.identity.isEmpty else { return error(node, code: 404, text: "item-not-found") }
            // No <hash>: SHA-1 is not among our primitives yet; a client that checks it re-uploads.
            return result(
                node,
                [
                    BinaryNode(
                        "digest",
                        children: [
                            BinaryNode("registration", bytes: keys.registrationID), BinaryNode("type", bytes: [5]),
                            BinaryNode("identity", bytes: keys.identity),
                            BinaryNode("skey", children: [BinaryNode("id", bytes: skey.id)]),
                            BinaryNode("list", children: keys.preKeys.map { BinaryNode("id", bytes: $0.id) }),
                        ])
                ])
        }
        if let key = node.child("key") {
            return result(node, [BinaryNode("list", children: key.children("user").compactMap(bundle(for:)))])
        }
        error(node, code: 501, text: "feature-not-implemented")
    }

    /// A prekey bundle for one `<user jid="user:device@server"/>`, consuming one one-time prekey.
    private func bundle(for user: BinaryNode) -> BinaryNode? {
        guard let jid = user.attributes.jid("jid") else { return nil }
        let account = core.accounts[jid.user] ?? core.accounts.values.first { $0.lidUser == jid.user }
        guard let account, let companion = account.companions[jid.device], let skey = companion.keys.signedPreKey
        else {
            return BinaryNode(
                "user", ["jid": .jid(jid)], children: [BinaryNode("error", ["code": "404", "text": "item-not-found"])])
        }
        var children = [
            BinaryNode("registration", bytes: companion.keys.registrationID), BinaryNode("type", bytes: [5]),
            BinaryNode("identity", bytes: companion.keys.identity),
        ]
        if !companion.keys.preKeys.isEmpty {
            let key = companion.keys.preKeys.removeFirst()
            children.append(BinaryNode("key", children: [BinaryNode("id", bytes: key.id), BinaryNode("value", bytes: key.value)]))
        }
        children.append(
            BinaryNode(
                "skey",
                children: [
                    BinaryNode("id", bytes: skey.id), BinaryNode("value", bytes: skey.value),
                    BinaryNode("signature", bytes: skey.signature),
                ]))
        return BinaryNode("user", ["jid": .jid(jid)], children: children)
    }

    /// Device lists for the users asked about (part 2 §1.11), without key-index lists.
    private func answerUsync(_ node: BinaryNode) {
        guard let usync = node.child("usync") else { return error(node, code: 400, text: "bad-request") }
        let users: [BinaryNode] = (usync.child("list")?.children("user") ?? []).compactMap { user in
            guard let jid = user.attributes.jid("jid") else { return nil }
            let account = core.accounts[jid.user] ?? core.accounts.values.first { $0.lidUser == jid.user }
            guard let account else {
                return BinaryNode(
                    "user", ["jid": .jid(jid)],
                    children: [BinaryNode("devices", children: [BinaryNode("error", ["code": "404", "text": "not-found"])])])
            }
            var devices = [BinaryNode("device", ["id": "0"])]
            for companion in account.companions.values.sorted(by: { $0.device < $1.device }) {
                devices.append(BinaryNode("device", ["id": .string(String(companion.device)), "key-index": .string(String(companion.device))]))
            }
            return BinaryNode(
                "user", ["jid": .jid(jid)],
                children: [
                    BinaryNode("devices", children: [BinaryNode("device-list", children: devices)]),
                    BinaryNode("lid", ["val": .jid(account.lid)]),
                ])
        }
        var attributes = usync.attributes
        if attributes["sid"] == nil { attributes.append("sid", .string(node.attributes.string("id") ?? "")) }
        result(node, [BinaryNode("usync", attributes, children: [BinaryNode("list", children: users)])])
    }

    // MARK: - QR pairing (§5.2–5.6)

    private func sendPairDevice() {
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

    private func pairDeviceSigned(_ node: BinaryNode, _ pending: PendingPairSuccess) {
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

    private func linkCodeRequest(_ node: BinaryNode) {
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

    private func text(of node: BinaryNode) -> String? {
        switch node.content {
        case .string(let string): return string
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }
}
