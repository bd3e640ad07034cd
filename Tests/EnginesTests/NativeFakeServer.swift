import Foundation
import Logging
import Reactor
import SwiftProtobuf
import Synchronization
import TestSupport
import WAProtocol

/// A small WhatsApp server for the native engine's tests until the simulator target lands: real
/// WebSocket, Noise XX under the test root, pair-device/pair-success/515, login, prekeys,
/// pairing codes and the disconnect hooks. Its state lives on its own reactor thread.
final class FakeWhatsAppServer: Sendable {
    let handle: ReactorHandle
    let port: Int
    private let state: ReactorBound<FakeServerState>

    var url: String { "ws://127.0.0.1:\(port)/ws/chat" }

    private init(handle: ReactorHandle, port: Int, state: ReactorBound<FakeServerState>) {
        self.handle = handle
        self.port = port
        self.state = state
    }

    static func start() throws -> FakeWhatsAppServer {
        let box = Mutex<(Int, ReactorBound<FakeServerState>?)>((0, nil))
        let handle = try ReactorThread.start(name: "fake-wa", workers: WorkerPool(size: 1), logger: quietLogger) { reactor in
            let state = try FakeServerState(reactor: reactor)
            let server = try HTTPServer(reactor: reactor, configuration: HTTPServer.Configuration(), responder: state)
            state.server = server
            reactor.onShutdown { server.closeNow() }
            box.withLock { $0 = (server.port, ReactorBound(handle: reactor.handle, state)) }
        }
        let (port, state) = box.withLock { $0 }
        return FakeWhatsAppServer(handle: handle, port: port, state: state!)
    }

    func stop() async {
        _ = try? await handle.submit { [state] _ in state.value.shutdown() }
        handle.stop()
        await handle.waitUntilStopped()
    }

    /// The phone scans `qr`: pair-success goes to the connection whose noise key it shows.
    func scan(_ qr: String, user: String = "15551234567") async throws {
        try await handle.submit { [state] _ in try state.value.scan(qr, user: user) }
    }

    /// The phone user types `code`: primary_hello goes to the connection that asked for it.
    func enterPairingCode(_ code: String) async throws {
        try await handle.submit { [state] _ in try state.value.enterCode(code) }
    }

    /// Kills every connection without a word.
    func dropAll() async throws { try await handle.submit { [state] _ in state.value.dropAll() } }

    /// Another client logged in with the same device: `conflict replaced`.
    func replace() async throws {
        try await handle.submit { [state] _ in
            state.value.streamErrorAll(BinaryNode("stream:error", children: [BinaryNode("conflict", ["type": "replaced"])]))
        }
    }

    /// The phone removes every linked device.
    func unlinkAll() async throws {
        try await handle.submit { [state] _ in
            state.value.devices.removeAll()
            state.value.streamErrorAll(
                BinaryNode("stream:error", ["code": "401"], children: [BinaryNode("conflict", ["type": "device_removed"])]))
        }
    }

    /// Sends bytes that are not a valid frame payload to every logged-in connection.
    func sendGarbage() async throws { try await handle.submit { [state] _ in state.value.sendGarbage() } }

    func setAnswerPings(_ answer: Bool) async throws { try await handle.submit { [state] _ in state.value.answerPings = answer } }

    var deviceCount: Int { get async throws { try await handle.submit { [state] _ in state.value.devices.count } } }
    var loginCount: Int { get async throws { try await handle.submit { [state] _ in state.value.logins } } }
    var uploadedPreKeys: Int { get async throws { try await handle.submit { [state] _ in state.value.uploadedPreKeys } } }
    var removedByLogout: Int { get async throws { try await handle.submit { [state] _ in state.value.removedByLogout } } }
}

/// Everything the fake server knows; reactor-confined.
final class FakeServerState: HTTPResponder {
    unowned let reactor: Reactor
    var server: HTTPServer?
    let staticKey: Crypto.X25519KeyPair
    let chain: [UInt8]
    let phoneIdentity: Crypto.X25519KeyPair
    var connections: [ObjectIdentifier: FakeConnection] = [:]
    /// "user:device" → registered noise key.
    var devices: [String: [UInt8]] = [:]
    var nextDevice: UInt16 = 1
    var logins = 0
    var uploadedPreKeys = 0
    var removedByLogout = 0
    var answerPings = true

    init(reactor: Reactor) throws {
        self.reactor = reactor
        staticKey = try Crypto.x25519KeyPair()
        phoneIdentity = try Crypto.x25519KeyPair()
        let now = UInt64(Date().timeIntervalSince1970)
        chain = try NoiseCertificateChain.issueTestChain(
            serverStaticKey: staticKey.publicKey, notBefore: now - 3600, notAfter: now + 86_400,
            random: (try Crypto.randomBytes(64), try Crypto.randomBytes(64))
        ).serialized()
    }

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        guard let key = WebSocketHandshake.clientKey(of: request.head) else {
            return sink.send(HTTPResponse(status: 426, body: []))
        }
        let box = Unchecked(self)
        sink.switchProtocols(headers: WebSocketHandshake.switchingProtocolsHeaders(key: key)) { stream, leftover in
            let state = box.value
            let socket = WebSocketConnection(reactor: state.reactor, stream: stream, role: .server, leftover: leftover)
            let connection = FakeConnection(state: state, socket: socket)
            state.connections[ObjectIdentifier(connection)] = connection
        }
    }

    func remove(_ connection: FakeConnection) { connections.removeValue(forKey: ObjectIdentifier(connection)) }

    func shutdown() {
        dropAll()
        server?.closeNow()
        server = nil
    }

    func dropAll() {
        for connection in connections.values { connection.close() }
        connections.removeAll()
    }

    func streamErrorAll(_ node: BinaryNode) {
        for connection in connections.values where connection.transport != nil {
            connection.send(node)
            connection.close()
        }
        connections.removeAll()
    }

    func sendGarbage() {
        for connection in connections.values where connection.loggedIn {
            var transport = connection.transport!
            let ciphertext = (try? transport.encrypt([0, 0xFF, 0xFF, 0xFF])) ?? []
            connection.transport = transport
            connection.socket.send(.binary((try? FrameWriter.frame(ciphertext)) ?? []))
        }
    }

    func scan(_ qr: String, user: String) throws {
        let contents = try PairingQR.parse(qr)
        guard let connection = connections.values.first(where: { $0.pendingRefs.contains(contents.ref) && $0.clientStatic == contents.noisePublicKey })
        else { throw FakeServerError("no unpaired connection shows that QR") }
        try connection.sendPairSuccess(user: user, advSecret: contents.advSecret)
    }

    func enterCode(_ code: String) throws {
        guard let connection = connections.values.first(where: { $0.codeRequest != nil }) else {
            throw FakeServerError("nobody asked for a pairing code")
        }
        try connection.sendPrimaryHello(code: code)
    }
}

struct FakeServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One client connection of the fake server.
final class FakeConnection: WebSocketDelegate {
    unowned let state: FakeServerState
    let socket: WebSocketConnection
    var reader = FrameReader(expectsIntroHeader: true)
    var responder: NoiseHandshake.Responder?
    var transport: NoiseTransport?
    var clientStatic: [UInt8] = []
    var registrationIdentity: [UInt8] = []
    var pendingRefs: [String] = []
    var loggedIn = false
    var sentIdentity: (id: String, identity: AdvSignedDeviceIdentity, jid: JID)?
    var codeRequest: (wrapped: [UInt8], phone: String, primaryEphemeral: Crypto.X25519KeyPair?, code: String?)?
    var counter = 0

    init(state: FakeServerState, socket: WebSocketConnection) {
        self.state = state
        self.socket = socket
        socket.delegate = self
    }

    func close() {
        socket.delegate = nil
        socket.close()
        state.remove(self)
    }

    func webSocketDidClose(_ socket: WebSocketConnection, code: UInt16, reason: String) { state.remove(self) }

    func webSocket(_ socket: WebSocketConnection, didReceive message: WebSocketMessage) {
        guard case .binary(let bytes) = message else { return }
        do {
            for frame in try reader.frames(in: bytes) { try handle(frame) }
        } catch {
            close()
        }
    }

    private func handle(_ frame: [UInt8]) throws {
        if var transport {
            let node = try NodePlaintext.decode(try transport.decrypt(frame))
            self.transport = transport
            return try handleNode(node)
        }
        if responder == nil {
            var responder = NoiseHandshake.Responder(staticKey: state.staticKey, ephemeralKey: try Crypto.x25519KeyPair(), certificateChain: state.chain)
            try responder.readClientHello(frame)
            socket.send(.binary(try FrameWriter.frame(try responder.makeServerHello())))
            self.responder = responder
            return
        }
        var responder = responder!
        let (client, transport) = try responder.readClientFinish(frame)
        self.transport = transport
        clientStatic = client.staticKey
        let payload = try Waproto_ClientPayload(serializedBytes: client.payload)
        if payload.hasDevicePairingData, !payload.hasUsername {
            registrationIdentity = Array(payload.devicePairingData.eIdent)
            pendingRefs = (0..<6).map { _ in "2@" + Data((try? Crypto.randomBytes(24)) ?? []).base64EncodedString() }
            send(iq("set", xmlns: "md", children: [BinaryNode("pair-device", children: pendingRefs.map { BinaryNode("ref", bytes: Array($0.utf8)) })]))
        } else if state.devices["\(payload.username):\(payload.device)"] == clientStatic {
            loggedIn = true
            state.logins += 1
            send(BinaryNode("success", ["t": .string(String(Int(Date().timeIntervalSince1970))), "lid": .jid(JID(user: "99", server: JID.Server.lid, device: UInt16(payload.device)))]))
        } else {
            send(BinaryNode("failure", ["reason": "401", "location": "test"]))
            close()
        }
    }

    private func handleNode(_ node: BinaryNode) throws {
        guard node.tag == "iq" else { return }
        let id = node.attributes.string("id") ?? ""
        let type = node.attributes.string("type")
        if let sent = sentIdentity, id == sent.id {
            guard type == "result", let reply = node.child("pair-device-sign")?.child("device-identity")?.contentBytes else { return close() }
            _ = try AdvPairing.verifyPairDeviceSign(reply: reply, sent: sent.identity, companionIdentity: registrationIdentity)
            state.devices["\(sent.jid.user):\(sent.jid.device)"] = clientStatic
            send(BinaryNode("stream:error", ["code": "515"]))
            return close()
        }
        let xmlns = node.attributes.string("xmlns")
        switch (xmlns, type) {
        case ("w:p", "get"):
            if state.answerPings { send(result(id)) }
        case ("encrypt", "get"):
            send(result(id, children: [BinaryNode("count", ["value": .string(String(state.uploadedPreKeys))])]))
        case ("encrypt", "set"):
            state.uploadedPreKeys += node.child("list")?.children("key").count ?? 0
            send(result(id))
        case ("passive", "set"):
            send(result(id))
        case ("md", "set"):
            if let removal = node.child("remove-companion-device"), let jid = removal.attributes.jid("jid") {
                state.devices.removeValue(forKey: "\(jid.user):\(jid.device)")
                state.removedByLogout += 1
                send(result(id))
            } else if let registration = node.child("link_code_companion_reg") {
                try handleLinkCode(registration, id: id)
            }
        default:
            break
        }
    }

    private func handleLinkCode(_ registration: BinaryNode, id: String) throws {
        switch registration.attributes.string("stage") {
        case "companion_hello":
            guard let wrapped = registration.child("link_code_pairing_wrapped_companion_ephemeral_pub")?.contentBytes,
                let phone = registration.attributes.jid("jid")?.user
            else { return close() }
            codeRequest = (wrapped, phone, nil, nil)
            send(result(id, children: [BinaryNode("link_code_companion_reg", children: [BinaryNode("link_code_pairing_ref", bytes: Array("ref-1".utf8))])]))
        case "companion_finish":
            guard let request = codeRequest, let primaryEphemeral = request.primaryEphemeral, let code = request.code,
                let bundle = registration.child("link_code_pairing_wrapped_key_bundle")?.contentBytes
            else { return close() }
            send(result(id))
            let companionEphemeral = try PairingCode.unwrap(request.wrapped, code: code)
            let finish = try PairingCode.primaryFinish(
                wrappedKeyBundle: bundle, primaryEphemeral: primaryEphemeral, companionEphemeralKey: companionEphemeral,
                primaryIdentity: state.phoneIdentity, companionIdentityKey: registrationIdentity)
            try sendPairSuccess(user: request.phone, advSecret: finish.advSecret)
        default:
            break
        }
    }

    func sendPrimaryHello(code: String) throws {
        guard var request = codeRequest else { throw FakeServerError("no code request") }
        let ephemeral = try Crypto.x25519KeyPair()
        request.primaryEphemeral = ephemeral
        request.code = code
        codeRequest = request
        counter += 1
        send(
            BinaryNode(
                "notification", ["from": .jid(.whatsAppServer), "id": .string("n\(counter)"), "type": "link_code_companion_reg"],
                children: [
                    BinaryNode(
                        "link_code_companion_reg", ["stage": "primary_hello"],
                        children: [
                            BinaryNode("link_code_pairing_ref", bytes: Array("ref-1".utf8)),
                            BinaryNode("link_code_pairing_wrapped_primary_ephemeral_pub", bytes: try PairingCode.wrap(publicKey: ephemeral.publicKey, code: code)),
                            BinaryNode("primary_identity_pub", bytes: state.phoneIdentity.publicKey),
                        ])
                ]))
    }

    func sendPairSuccess(user: String, advSecret: [UInt8]) throws {
        let device = state.nextDevice
        state.nextDevice += 1
        let jid = JID(user: user, server: JID.Server.user, device: device)
        let identity = AdvDeviceIdentity(rawID: 7, timestamp: UInt64(Date().timeIntervalSince1970), keyIndex: 1, accountType: .e2ee, deviceType: .e2ee)
        let (content, signed) = try AdvPairing.makePairSuccess(
            device: identity, accountIdentity: state.phoneIdentity, companionIdentity: registrationIdentity, advSecret: advSecret,
            random: try Crypto.randomBytes(64))
        counter += 1
        let id = "p\(counter)"
        sentIdentity = (id, signed, jid)
        send(
            BinaryNode(
                "iq", ["from": .jid(.whatsAppServer), "id": .string(id), "type": "set", "xmlns": "md"],
                children: [
                    BinaryNode(
                        "pair-success",
                        children: [
                            BinaryNode("device-identity", bytes: content),
                            BinaryNode("platform", ["name": "android"]),
                            BinaryNode("device", ["jid": .jid(jid), "lid": .jid(JID(user: "99", server: JID.Server.lid, device: device))]),
                        ])
                ]))
    }

    private func iq(_ type: String, xmlns: String, children: [BinaryNode]) -> BinaryNode {
        counter += 1
        return BinaryNode("iq", ["from": .jid(.whatsAppServer), "id": .string("s\(counter)"), "type": .string(type), "xmlns": .string(xmlns)], children: children)
    }

    private func result(_ id: String, children: [BinaryNode]? = nil) -> BinaryNode {
        let attributes: NodeAttributes = ["from": .jid(.whatsAppServer), "id": .string(id), "type": "result"]
        guard let children else { return BinaryNode("iq", attributes) }
        return BinaryNode("iq", attributes, children: children)
    }

    func send(_ node: BinaryNode) {
        guard var transport else { return }
        guard let ciphertext = try? transport.encrypt(try NodePlaintext.encode(node)) else { return }
        self.transport = transport
        socket.send(.binary((try? FrameWriter.frame(ciphertext)) ?? []))
    }
}

/// Moves a reactor-confined reference through a `Sendable` closure that runs on the same reactor.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
