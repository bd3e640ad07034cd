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
    unowned let core: SimulatorCore
    let socket: WebSocketConnection
    let stream: any ByteStream
    var reader: FrameReader
    var responder: NoiseHandshake.Responder?
    var transport: NoiseTransport?
    var stage = Stage.handshake
    var handshakeTimer: TimerID?

    /// The client's static noise key (its credential).
    var clientStatic: [UInt8] = []
    var registration: Waproto_ClientPayload.DevicePairingRegistrationData?
    var refs: [(ref: String, expires: ReactorInstant)] = []
    var refsTimer: TimerID?
    var pairSuccess: PendingPairSuccess?
    var linkCode: LinkCode?
    weak var account: Account?
    weak var companion: Companion?

    var stalled = false
    /// The companion went active and got its queued stanzas: new ones go out at once.
    var caughtUp = false
    var latencyMilliseconds = 0
    var delayedFrames: [[UInt8]] = []
    var pingTimer: TimerID?
    var pingDeadline: TimerID?
    var outstandingPing: String?
    var nextIQ: UInt64 = 0

    /// A fault armed for this connection's handshake, if any.
    let handshakeFault: HandshakeFault?

    init(core: SimulatorCore, id: UInt64, stream: any ByteStream, leftover: [UInt8], handshakeFault: HandshakeFault?) {
        self.handshakeFault = handshakeFault
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
                certificateChain: handshakeFault == .badCertificate ? try core.untrustedCertificateChain() : core.certificateChain)
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

    func handle(frame: [UInt8]) {
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
                var hello = try responder.makeServerHello()
                if handshakeFault == .badNoise, hello.count > 40 {
                    hello[40] ^= 0x5A  // inside the encrypted static key (after the 32-byte ephemeral)
                }
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

    var responderSentHello = false

    func authenticate(_ payload: Waproto_ClientPayload) {
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
    func sendRaw(_ bytes: [UInt8]) {
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

    var serverAttributes: NodeAttributes { ["from": .jid(JID.whatsAppServer)] }

    func result(_ request: BinaryNode, _ children: [BinaryNode]? = nil) {
        var attributes = serverAttributes
        attributes.append("id", .string(request.attributes.string("id") ?? ""))
        attributes.append("type", "result")
        send(children.map { BinaryNode("iq", attributes, children: $0) } ?? BinaryNode("iq", attributes))
    }

    func error(_ request: BinaryNode, code: Int, text: String) {
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

    func abort(_ reason: String) {
        core.logger.debug("closing connection", metadata: ["connection": "\(id)", "reason": "\(reason)"])
        tearDown()
        stream.close(error: nil)
    }

    func tearDown() {
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
        case .oversized:
            // A binary frame header declaring 1 GiB (64-bit length form), then a few payload
            // bytes: a client must refuse it from the header, before buffering anything.
            var header: [UInt8] = [0x82, 127]
            let length = UInt64(1) << 30
            for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
            stream.write(header + [UInt8](repeating: 0, count: 64))
            stalled = true
        }
    }

    // MARK: - Server pings (urn:xmpp:ping)

    func startPings() {
        guard let interval = core.configuration.pingIntervalMilliseconds, interval > 0 else { return }
        pingTimer = core.reactor.schedule(afterMilliseconds: interval) { [weak self] in self?.ping() }
    }

    func ping() {
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

    func pong(_ pingID: String) {
        guard pingID == outstandingPing else { return }
        outstandingPing = nil
        if let pingDeadline { core.reactor.cancel(pingDeadline) }
        pingDeadline = nil
        startPings()
    }

    // MARK: - Nodes

    func handle(node: BinaryNode) {
        let type = node.attributes.string("type") ?? ""
        guard node.tag == "iq" else {
            switch node.tag {
            case "message": routeMessage(node)
            case "chatstate": recordChatState(node)
            case "receipt": companionReceipt(node)
            case "ack": companionAck(node)
            case "presence":
                if let account, let companion, stage == .online {
                    core.companionPresence(node, from: account, device: companion.device, connection: self)
                }
            default: break  // ib, notification replies: nothing to answer
            }
            return
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
            if node.child("active") != nil { flushOutbox() }
        case ("usync", "get"):
            answerUsync(node)
        case ("w:m", "set") where node.child("media_conn") != nil:
            result(node, [core.media.mediaConnNode()])
        case ("w:g2", _):
            answerGroupIQ(node)
        case ("abt", "get"):
            result(node, [BinaryNode("props", ["protocol": "1", "hash": "sim"], children: [])])
        case ("blocklist", _):
            answerBlocklist(node, type: type)
        case ("status", "set"):
            answerSetAbout(node)
        case ("privacy", "get"):
            result(node, [BinaryNode("privacy", children: [])])
        case ("w:profile:picture", "get"):
            answerProfilePicture(node)
        case ("w:profile:picture", "set"):
            answerSetPicture(node)
        case ("w:sync:app:state", "set"):
            answerAppStateSync(node)
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
}
