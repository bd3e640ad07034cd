import Foundation
import Logging
import Reactor
import WAProtocol

/// Moves a reactor-confined value into a `Sendable` closure that runs on the same reactor.
struct ReactorConfined<Value>: @unchecked Sendable {
    // Only dereferenced on the reactor thread that created it.
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The simulator's state and behaviour, confined to its reactor thread: accounts, live
/// connections, outstanding QR refs and pairing-code requests, the two HTTP servers.
final class SimulatorCore: HTTPResponder {
    unowned let reactor: Reactor
    let configuration: Simulator.Configuration
    let logger: Logger
    /// The server's Noise static key, certified by the chain's leaf.
    let serverStaticKey: Crypto.X25519KeyPair
    /// The serialized `CertChain` sent in every ServerHello.
    let certificateChain: [UInt8]

    var accounts: [String: Account] = [:]
    /// Media uploads and downloads on the chat listener (`SimulatorMediaHost`).
    let media = SimulatorMediaHost()
    /// The media of the messages phones sent, by message id, for re-upload requests.
    var heldMedia: [String: HeldMedia] = [:]
    /// Groups by id (the digits before `@g.us`).
    var groups: [String: SimulatorGroup] = [:]
    /// Outstanding QR refs and the unpaired connection each was sent on.
    var refs: [String: SimulatorConnection] = [:]
    /// Unpaired connections that sent `companion_hello`, by the phone number they asked for.
    var linkCodeWaiting: [String: SimulatorConnection] = [:]
    private var connections: [UInt64: SimulatorConnection] = [:]
    private var nextConnectionID: UInt64 = 0
    private var nextLID: UInt64 = 100_000_000_000_000
    private var chatServer: HTTPServer?
    private var adminServer: HTTPServer?
    private var admin: SimulatorAdmin?
    private var signalWatcher: SignalWatcher?
    private var signalsSeen = 0
    private var armedHandshakeFaults: [HandshakeFault] = []
    private var untrustedChain: [UInt8]?

    init(reactor: Reactor, configuration: Simulator.Configuration, tls: TLSContext) throws {
        self.reactor = reactor
        self.configuration = configuration
        self.logger = configuration.logger
        serverStaticKey = try Crypto.x25519KeyPair()
        let rootPrivateKey = configuration.rootPrivateKey
        let intermediate = try Crypto.x25519KeyPair()
        let now = unixNow()
        let validity = (notBefore: now - 86_400, notAfter: now + 10 * 365 * 86_400)
        certificateChain = try NoiseCertificateChain.issue(
            rootPrivateKey: rootPrivateKey,
            intermediate: NoiseCertificateChain.Details(
                serial: 1, issuerSerial: NoiseCertificateChain.rootSerial, key: intermediate.publicKey,
                notBefore: validity.notBefore, notAfter: validity.notAfter),
            intermediatePrivateKey: intermediate.privateKey,
            leaf: NoiseCertificateChain.Details(
                serial: 2, issuerSerial: 1, key: serverStaticKey.publicKey, notBefore: validity.notBefore,
                notAfter: validity.notAfter),
            random: (try Crypto.randomBytes(64), try Crypto.randomBytes(64))
        ).serialized()
        let chat = try HTTPServer(
            reactor: reactor,
            configuration: HTTPServer.Configuration(
                host: configuration.host, port: configuration.port,
                limits: HTTPRequestParser.Limits(maxBodyBytes: configuration.maxMediaBytes),
                maxConnections: configuration.maxConnections, tls: tls),
            responder: self)
        let admin = SimulatorAdmin(core: nil)
        let adminServer = try HTTPServer(
            reactor: reactor,
            configuration: HTTPServer.Configuration(host: configuration.adminHost, port: configuration.adminPort),
            responder: admin)
        chatServer = chat
        media.hostname = "localhost:\(chat.port)"
        self.adminServer = adminServer
        self.admin = admin
        admin.core = self
    }

    var port: Int { chatServer?.port ?? 0 }
    var adminPort: Int { adminServer?.port ?? 0 }

    // MARK: - WebSocket upgrade on /ws/chat

    func respond(to request: HTTPRequest, sink: HTTPResponseSink) {
        if media.handles(request.head.path) { return media.respond(to: request, sink: sink) }
        guard request.head.path == "/ws/chat" else {
            return sink.send(HTTPResponse(status: 404, body: Array("not found\n".utf8)))
        }
        guard request.head.method == "GET", let key = WebSocketHandshake.clientKey(of: request.head) else {
            return sink.send(HTTPResponse(status: 426, body: Array("upgrade required\n".utf8)))
        }
        let box = ReactorConfined(self)
        sink.switchProtocols(headers: WebSocketHandshake.switchingProtocolsHeaders(key: key)) { stream, leftover in
            box.value.accept(stream: stream, leftover: leftover)
        }
    }

    private func accept(stream: any ByteStream, leftover: [UInt8]) {
        nextConnectionID += 1
        let fault = armedHandshakeFaults.isEmpty ? nil : armedHandshakeFaults.removeFirst()
        let connection = SimulatorConnection(
            core: self, id: nextConnectionID, stream: stream, leftover: leftover, handshakeFault: fault)
        connections[connection.id] = connection
    }

    /// The connection's protocol state is over (refs and waiting pairing-code requests go).
    func connectionEnded(_ connection: SimulatorConnection) {
        for (ref, _) in connection.refs where refs[ref] === connection { refs[ref] = nil }
        if let phone = connection.linkCode?.phone, linkCodeWaiting[phone] === connection { linkCodeWaiting[phone] = nil }
    }

    /// The socket is closed: the connection object may go.
    func release(_ connection: SimulatorConnection) {
        connectionEnded(connection)
        connections[connection.id] = nil
    }

    var connectionCount: Int { connections.count }

    // MARK: - Operations (admin API and in-process API)

    func createPhone(_ phone: String, pushName: String) throws(SimulatorError) -> PhoneSnapshot {
        guard phone.count > 6, phone.count <= 15, phone.allSatisfy({ $0.isASCII && $0.isNumber }), phone.first != "0"
        else { throw .badRequest("phone must be 7 to 15 digits in international format, without + or a leading 0") }
        guard accounts[phone] == nil else { throw .conflict("phone \(phone) already exists") }
        let identity: Crypto.X25519KeyPair
        do { identity = try Crypto.x25519KeyPair() } catch { throw SimulatorError(500, "key generation failed") }
        nextLID += UInt64.random(in: 1...997)
        let account = Account(
            phone: phone, lidUser: String(nextLID), pushName: pushName, identity: identity, createdAt: unixNow())
        accounts[phone] = account
        logger.info("phone created", metadata: ["phone": "\(phone)"])
        return account.snapshot()
    }

    func phone(_ phone: String) throws(SimulatorError) -> PhoneSnapshot {
        try account(phone).snapshot()
    }

    func phones() -> [PhoneSnapshot] {
        accounts.values.sorted { $0.phone < $1.phone }.map { $0.snapshot() }
    }

    func account(_ phone: String) throws(SimulatorError) -> Account {
        guard let account = accounts[phone] else { throw .notFound("no phone \(phone)") }
        return account
    }

    /// The phone scans the QR shown by a companion (§5.3): checks the ref and keys against the
    /// waiting connection, then runs `pair-success` to its end.
    func scan(qr: String, by phone: String, completion: @escaping (Result<PairingResult, SimulatorError>) -> Void) {
        do throws(SimulatorError) {
            let account = try account(phone)
            let contents: PairingQR.Contents
            do { contents = try PairingQR.parse(qr) } catch { throw .badRequest("not a pairing QR string: \(error)") }
            guard let connection = refs[contents.ref], connection.stage == .unpaired else {
                throw .notFound("no connection is showing this QR code")
            }
            guard connection.refIsCurrent(contents.ref) else { throw SimulatorError(410, "this QR code has expired") }
            guard Crypto.constantTimeEquals(contents.noisePublicKey, connection.clientStatic) else {
                throw .badRequest("the QR's noise key is not the connection's")
            }
            if let registered = connection.registration?.eIdent, !registered.isEmpty,
                !Crypto.constantTimeEquals(Array(registered), contents.identityPublicKey)
            {
                throw .badRequest("the QR's identity key is not the registered one")
            }
            connection.sendPairSuccess(
                account: account, identityKey: contents.identityPublicKey, advSecret: contents.advSecret,
                platform: contents.platform, completion: completion)
        } catch {
            completion(.failure(error))
        }
    }

    /// The phone enters the code a companion shows (§5.7 stage 2); PBKDF2 runs on a worker.
    func enterPairingCode(
        _ code: String, on phone: String, completion: @escaping (Result<PairingResult, SimulatorError>) -> Void
    ) {
        let code = code.uppercased().filter { $0 != "-" && $0 != " " }
        guard code.count == 8 else { return completion(.failure(.badRequest("a pairing code has 8 characters"))) }
        guard let account = accounts[phone] else { return completion(.failure(.notFound("no phone \(phone)"))) }
        guard let connection = linkCodeWaiting[phone], let state = connection.linkCode, state.completion == nil else {
            return completion(.failure(.notFound("no companion is waiting for a pairing code of \(phone)")))
        }
        let wrapped = state.wrappedCompanionEphemeral
        let companionEphemeral: [UInt8]
        let primaryEphemeral: Crypto.X25519KeyPair
        let wrappedPrimary: [UInt8]
        do {
            companionEphemeral = try PairingCode.unwrap(wrapped, code: code)
            primaryEphemeral = try Crypto.x25519KeyPair()
            wrappedPrimary = try PairingCode.wrap(publicKey: primaryEphemeral.publicKey, code: code)
        } catch {
            return completion(.failure(SimulatorError(500, "pairing code crypto failed: \(error)")))
        }
        connection.primaryHello(
            companionEphemeral: companionEphemeral, primaryEphemeral: primaryEphemeral,
            wrappedPrimaryEphemeral: wrappedPrimary, account: account, completion: completion)
    }

    /// Phone-side unlink: a live connection gets `stream:error 401 device_removed`; the device is forgotten.
    func unlink(phone: String, device: UInt16) throws(SimulatorError) {
        let account = try account(phone)
        guard let companion = account.companions[device] else { throw .notFound("phone \(phone) has no device \(device)") }
        forget(companion, of: account, notify: true)
    }

    func forget(_ companion: Companion, of account: Account, notify: Bool) {
        account.companions[companion.device] = nil
        announceDevices(of: account, change: "remove", device: companion.device)
        if notify, let connection = companion.connection { connection.streamError(code: "401", conflict: "device_removed") }
        logger.info("companion unlinked", metadata: ["jid": "\(account.jid(device: companion.device))"])
    }

    func inject(_ fault: SimulatorFault, phone: String, device: UInt16) throws(SimulatorError) {
        let account = try account(phone)
        guard let companion = account.companions[device] else { throw .notFound("phone \(phone) has no device \(device)") }
        guard let connection = companion.connection, connection.isOnline else {
            throw .conflict("device \(device) of \(phone) is not connected")
        }
        logger.info("fault injected", metadata: ["jid": "\(account.jid(device: device))", "fault": "\(fault)"])
        connection.inject(fault)
    }

    /// Arms `fault` for the handshakes of the next `count` new connections.
    func armHandshakeFault(_ fault: HandshakeFault, count: Int) throws(SimulatorError) {
        guard (1...1_000).contains(count) else { throw .badRequest("count must be 1 to 1000") }
        armedHandshakeFaults += Array(repeating: fault, count: count)
        logger.info("handshake fault armed", metadata: ["fault": "\(fault.rawValue)", "count": "\(count)"])
    }

    /// A chain like the real one but issued under a fresh root no client trusts (made once).
    func untrustedCertificateChain() throws -> [UInt8] {
        if let untrustedChain { return untrustedChain }
        let root = try Crypto.x25519KeyPair()
        let intermediate = try Crypto.x25519KeyPair()
        let now = unixNow()
        let chain = try NoiseCertificateChain.issue(
            rootPrivateKey: root.privateKey,
            intermediate: NoiseCertificateChain.Details(
                serial: 1, issuerSerial: NoiseCertificateChain.rootSerial, key: intermediate.publicKey,
                notBefore: now - 86_400, notAfter: now + 86_400),
            intermediatePrivateKey: intermediate.privateKey,
            leaf: NoiseCertificateChain.Details(
                serial: 2, issuerSerial: 1, key: serverStaticKey.publicKey, notBefore: now - 86_400, notAfter: now + 86_400),
            random: (try Crypto.randomBytes(64), try Crypto.randomBytes(64))
        ).serialized()
        untrustedChain = chain
        return chain
    }

    func health() -> [String: Int] {
        let online = accounts.values.reduce(0) { $0 + $1.companions.values.filter { $0.connection?.isOnline == true }.count }
        return ["connections": connections.count, "phones": accounts.count, "online": online]
    }

    // MARK: - Lifecycle

    /// Closes the listeners and every connection.
    func shutdown() {
        chatServer?.closeNow()
        adminServer?.closeNow()
        for connection in Array(connections.values) { connection.inject(.drop) }
        signalWatcher?.close()
        signalWatcher = nil
    }

    /// SIGTERM/SIGINT stop the simulator; a second signal exits at once with status 1.
    func watchSignals(_ signals: [CInt]) throws {
        signalWatcher = try SignalWatcher(reactor: reactor, signals: signals) { [unowned self] signal in
            self.signalsSeen += 1
            guard self.signalsSeen == 1 else { exit(1) }
            self.logger.info("stopping", metadata: ["signal": "\(signal)"])
            self.shutdown()
            self.reactor.requestStop()
        }
    }
}
