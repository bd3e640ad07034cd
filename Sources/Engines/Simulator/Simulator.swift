import Foundation
import Logging
import Reactor
import Synchronization
import WAProtocol

/// The WhatsApp simulator, in process: a TLS WebSocket endpoint (`/ws/chat`) that speaks
/// WhatsApp's side of the protocol (Noise XX with its own certificate chain, binary nodes,
/// pairing by QR and by code, prekeys, pings) and a plain-HTTP admin API, on a reactor thread of
/// its own. `openwa sim` runs the same thing standalone.
package final class Simulator: Sendable {
    package struct Configuration: Sendable {
        /// WebSocket (TLS) listener; port 0 picks a free one.
        package var host = "127.0.0.1"
        package var port = 0
        /// Admin API (plain HTTP) listener.
        package var adminHost = "127.0.0.1"
        package var adminPort = 0
        /// Where `ca.pem` and `root.pub` are written; a fresh temporary directory when nil.
        package var dataDirectory: String?
        /// Private key of the Noise certificate root; clients must trust its public key.
        package var rootPrivateKey: [UInt8] = NoiseCertificateChain.testRootPrivateKey
        /// QR refs per `pair-device`, how long the first one lives and each next one (ref part 1 §5.2).
        package var qrRefCount = 6
        package var qrFirstRefMilliseconds = 60_000
        package var qrNextRefMilliseconds = 20_000
        /// Server pings (`urn:xmpp:ping`) every this many ms; nil turns them off.
        package var pingIntervalMilliseconds: Int? = 30_000
        /// A client that does not answer a server ping within this is dropped.
        package var pingTimeoutMilliseconds = 20_000
        /// From the WebSocket upgrade to the ClientFinish.
        package var handshakeTimeoutMilliseconds = 20_000
        /// How long the companion has to answer `pair-success`.
        package var pairingTimeoutMilliseconds = 30_000
        /// Largest frame accepted from a client (the 3-byte length allows 16 MiB).
        package var maxFrameSize = FrameWriter.maxPayloadSize
        package var maxConnections = 65_536
        /// Largest media upload the media host accepts.
        package var maxMediaBytes = 128 << 20
        package var workerThreads = 1
        package var logger = Logger(label: "openwa.simulator")

        package init() {}
    }

    /// `wss://localhost:PORT/ws/chat`.
    package let webSocketURL: String
    /// `http://127.0.0.1:PORT` (routes under `/admin`).
    package let adminURL: String
    package let port: Int
    package let adminPort: Int
    /// The self-signed TLS certificate clients must trust, and where it was written.
    package let caPEM: String
    package let caFile: String
    /// The Noise certificate root's public key (also hex in `root.pub`).
    package let rootPublicKey: [UInt8]
    package let dataDirectory: String
    /// Whether `dataDirectory` was made by `start` (and is removed by `stop`).
    private let ownsDataDirectory: Bool

    private let handle: ReactorHandle
    private let core: ReactorConfined<SimulatorCore>

    private init(
        handle: ReactorHandle, core: ReactorConfined<SimulatorCore>, ports: (Int, Int), caPEM: String, caFile: String,
        rootPublicKey: [UInt8], dataDirectory: String, ownsDataDirectory: Bool
    ) {
        self.handle = handle
        self.core = core
        port = ports.0
        adminPort = ports.1
        webSocketURL = "wss://localhost:\(ports.0)/ws/chat"
        adminURL = "http://127.0.0.1:\(ports.1)"
        self.caPEM = caPEM
        self.caFile = caFile
        self.rootPublicKey = rootPublicKey
        self.dataDirectory = dataDirectory
        self.ownsDataDirectory = ownsDataDirectory
    }

    /// Starts the reactor thread and both listeners, and writes `ca.pem` and `root.pub`.
    package static func start(configuration: Configuration) throws -> Simulator {
        let directory =
            configuration.dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("openwa-sim-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let credentials = try TLSCertificateFactory.selfSigned(commonName: "openwa simulator")
        let tls = try TLSContext(serverCertificatePEM: credentials.certificatePEM, keyPEM: credentials.keyPEM)
        let rootPublicKey = try Crypto.x25519PublicKey(privateKey: configuration.rootPrivateKey)
        let caFile = (directory as NSString).appendingPathComponent("ca.pem")
        try credentials.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        try (Crypto.hex(rootPublicKey) + "\n").write(
            toFile: (directory as NSString).appendingPathComponent("root.pub"), atomically: true, encoding: .utf8)

        let made = Mutex<(ReactorConfined<SimulatorCore>, Int, Int)?>(nil)
        let handle = try ReactorThread.start(
            name: "openwa-sim", workers: WorkerPool(size: configuration.workerThreads, label: "openwa.sim.worker"),
            logger: configuration.logger
        ) { reactor in
            let core = try SimulatorCore(reactor: reactor, configuration: configuration, tls: tls)
            made.withLock { $0 = (ReactorConfined(core), core.port, core.adminPort) }
        }
        guard let (core, port, adminPort) = made.withLock({ $0 }) else { throw SimulatorError(500, "simulator did not start") }
        return Simulator(
            handle: handle, core: core, ports: (port, adminPort), caPEM: credentials.certificatePEM, caFile: caFile,
            rootPublicKey: rootPublicKey, dataDirectory: directory, ownsDataDirectory: configuration.dataDirectory == nil)
    }

    // MARK: - Mirrors of the admin API

    /// `POST /admin/phones`.
    package func createPhone(_ phone: String, pushName: String) async throws -> PhoneSnapshot {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.createPhone(phone, pushName: pushName) }) }
    }

    /// `GET /admin/phones`.
    package func phones() async throws -> [PhoneSnapshot] {
        try await call { core, done in done(.success(core.phones())) }
    }

    /// `GET /admin/phones/:phone`.
    package func phone(_ phone: String) async throws -> PhoneSnapshot {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.phone(phone) }) }
    }

    /// `GET /admin/phones/:phone`'s companions.
    package func companions(of phone: String) async throws -> [CompanionSnapshot] {
        try await self.phone(phone).companions
    }

    /// `POST /admin/phones/:phone/scan`: returns once the companion has signed and got 515.
    package func scan(qr: String, by phone: String) async throws -> PairingResult {
        try await call { core, done in core.scan(qr: qr, by: phone, completion: done) }
    }

    /// `POST /admin/phones/:phone/pairing-code`: returns once the companion has signed and got 515.
    package func enterPairingCode(_ code: String, on phone: String) async throws -> PairingResult {
        try await call { core, done in core.enterPairingCode(code, on: phone, completion: done) }
    }

    /// `DELETE /admin/phones/:phone/devices/:device`.
    package func unlink(phone: String, device: UInt16) async throws {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.unlink(phone: phone, device: device) }) }
    }

    /// `POST /admin/phones/:phone/devices/:device/fault`.
    package func inject(fault: SimulatorFault, phone: String, device: UInt16) async throws {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.inject(fault, phone: phone, device: device) })
        }
    }

    /// `POST /admin/handshake-faults`: the next `count` new connections get `fault` in their handshake.
    package func armHandshakeFault(_ fault: HandshakeFault, count: Int = 1) async throws {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.armHandshakeFault(fault, count: count) })
        }
    }

    /// Open WebSocket connections (any stage).
    /// The phone sends `text` to the account `to` (its companions, and the device-sent copy to
    /// the sender's own companions).
    package func sendMessage(from phone: String, to target: String, text: String, id: String? = nil) async throws -> PhoneSendResult {
        try await sendMessage(from: phone, to: target, content: MessageCodec.text(text), id: id)
    }

    /// The phone sends any content (reactions, revokes, edits, locations, contact cards, replies).
    package func sendMessage(from phone: String, to target: String, content: Waproto_Message, id: String? = nil) async throws
        -> PhoneSendResult
    {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.sendFromPhone(phone, to: target, content: content, id: id) })
        }
    }

    /// A send described as the admin route's JSON body (`{to, kind, text, targetId, emoji, …}`).
    package func sendMessage(from phone: String, json: [UInt8]) async throws -> PhoneSendResult {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.sendFromPhone(phone, json: json) }) }
    }

    /// What companions sent the phone, decrypted, oldest first.
    package func inbox(of phone: String) async throws -> [PhoneMessage] {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.inbox(of: phone) }) }
    }

    /// Typing states contacts' devices showed the phone, oldest first.
    package func chatStates(of phone: String) async throws -> [PhoneChatState] {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.chatStates(of: phone) }) }
    }

    /// Read and played receipts the phone got for what it sent, oldest first.
    package func receipts(of phone: String) async throws -> [PhoneReceipt] {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.receipts(of: phone) }) }
    }

    /// Takes a companion's one-time prekeys down to `leave` and tells it (the low-count
    /// notification); returns how many it has left.
    package func takePreKeys(phone: String, device: UInt16, leave: Int) async throws -> Int {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.takePreKeys(phone: phone, device: device, leave: leave) })
        }
    }

    /// The phone's Signal private keys, for independent decryption in tests.
    package func signalKeys(of phone: String) async throws -> PhoneSignalKeys {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.signalKeys(of: phone) }) }
    }

    /// `POST /admin/media/faults`: the media host corrupts the next `count` downloads or refuses
    /// the next `count` uploads.
    package func injectMediaFault(_ fault: MediaFault, count: Int = 1) async throws {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.injectMediaFault(fault, count: count) }) }
    }

    /// `GET /admin/media`.
    package func mediaHost() async throws -> MediaHostSnapshot {
        try await call { core, done in done(.success(core.mediaHost())) }
    }

    package func connectionCount() async throws -> Int {
        try await call { core, done in done(.success(core.connectionCount)) }
    }

    // MARK: - Lifecycle

    /// Stops the simulator on SIGTERM/SIGINT (which the caller has blocked in every thread); a
    /// second signal exits at once with status 1. Then `waitUntilStopped()` returns.
    package func stopOnSignals() async throws {
        let core = self.core
        _ = try await handle.submit { _ in try core.value.watchSignals([SignalFD.terminate, SignalFD.interrupt]) }
    }

    package func waitUntilStopped() async {
        await handle.waitUntilStopped()
        removeOwnDataDirectory()
    }

    /// Closes the listeners and every connection and stops the reactor thread.
    package func stop() async {
        let core = self.core
        _ = handle.post { reactor in
            core.value.shutdown()
            reactor.requestStop()
        }
        await handle.waitUntilStopped()
        removeOwnDataDirectory()
    }

    /// A directory the simulator made for itself holds only its CA and root key, useless once it
    /// stopped; left behind, every run would leave one more in the temporary directory.
    private func removeOwnDataDirectory() {
        if ownsDataDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    func call<T: Sendable>(
        _ body: @escaping @Sendable (SimulatorCore, @escaping (Result<T, SimulatorError>) -> Void) -> Void
    ) async throws -> T {
        let core = self.core
        return try await withCheckedThrowingContinuation { continuation in
            let posted = handle.post { _ in
                body(core.value) { result in continuation.resume(with: result.mapError { $0 as any Error }) }
            }
            if !posted { continuation.resume(throwing: SimulatorError(503, "the simulator is stopped")) }
        }
    }
}

