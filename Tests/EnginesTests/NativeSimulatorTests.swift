import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// One test's world on the real simulator: TLS WebSocket, the simulator's root key, a phone.
struct SimulatorWorld {
    static let phone = "15551234567"

    let simulator: Simulator
    let reactor: ReactorHandle
    let clock: ManualReactorClock?
    let store: any AuthStateStore
    let messages = RecordingMessageSink()

    static func start(manualClock: Bool = false, store: any AuthStateStore = InMemoryAuthStateStore()) async throws -> SimulatorWorld {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(phone, pushName: "Alice")
        let clock = manualClock ? ManualReactorClock() : nil
        let reactor = try ReactorThread.start(
            name: "engine", clock: clock ?? MonotonicReactorClock(), workers: WorkerPool(size: 2), logger: quietLogger)
        return SimulatorWorld(simulator: simulator, reactor: reactor, clock: clock, store: store)
    }

    func engine(
        _ sessionID: String = "s1", recorder: EventRecorder,
        config: SessionEngineConfig = SessionEngineConfig(reconnectBaseDelayMilliseconds: 1_000), root: [UInt8]? = nil,
        messages: RecordingMessageSink? = nil
    ) throws -> NativeEngine {
        let configuration = NativeEngineConfiguration(
            serverURL: simulator.webSocketURL, tls: try TLSContext(clientTrusting: simulator.caFile),
            rootPublicKey: root ?? simulator.rootPublicKey, connectTimeoutMilliseconds: 5_000, handshakeTimeoutMilliseconds: 5_000)
        let factory = NativeEngineFactory(
            configuration: configuration, reactor: reactor, authState: store, messages: messages ?? self.messages, logger: quietLogger)
        return factory.makeEngine(sessionID: sessionID, config: config, events: recorder.sink) as! NativeEngine
    }

    func pairAndLogIn(_ engine: NativeEngine, _ recorder: EventRecorder) async throws {
        try await engine.start()
        let (qr, _) = try await recorder.qr()
        _ = try await simulator.scan(qr: qr, by: Self.phone)
        try await recorder.wait { $0 == .authenticating }
        _ = try await recorder.readyIndex()
    }

    func advance(milliseconds: Int) async throws {
        clock?.advance(milliseconds: milliseconds)
        _ = try await reactor.submit { _ in 0 }
    }

    func device() async throws -> UInt16 {
        try #require(try await simulator.companions(of: Self.phone).first).device
    }

    func shutdown(_ engines: NativeEngine...) async {
        for engine in engines { await engine.stop() }
        var left = (timers: -1, registrations: -1)
        for _ in 0..<300 {
            left = (try? await reactor.submit { ($0.timerCount, $0.registrationCount) }) ?? (-1, -1)
            if left == (0, 0) { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        #expect(left.timers == 0, "timers left on the engine reactor")
        #expect(left.registrations == 0, "sockets left on the engine reactor")
        reactor.stop()
        await reactor.waitUntilStopped()
        await simulator.stop()
    }
}

/// The native engine against the WhatsApp simulator, end to end over TLS.
@Suite(.timeLimit(.minutes(1))) struct NativeSimulatorTests {
    @Test func qrScanThen515ThenReady() async throws {
        let world = try await SimulatorWorld.start()
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        let ready = try await recorder.wait { if case .ready = $0 { true } else { false } }.event
        #expect(ready == .ready(phone: SimulatorWorld.phone, pushName: "Alice"))
        let companions = try await world.simulator.companions(of: SimulatorWorld.phone)
        #expect(companions.count == 1)
        let stored = try await world.store.load(sessionID: "s1")
        #expect(stored["me.jid"].map { String(decoding: $0, as: UTF8.self) } == companions.first?.jid)
        #expect(stored["noise.private"]?.count == 32)
        #expect(stored["account.signed-identity"] != nil)
        // First login: the full prekey batch, uploaded and kept locally, less the one the primary's
        // app-state key share used (taken from the server at once, deleted here once it arrived).
        try await waitUntil { try await world.simulator.companions(of: SimulatorWorld.phone).first?.preKeyCount == 811 }
        try await waitUntil {
            try await world.store.load(sessionID: "s1").keys.filter { $0.hasPrefix("prekey.") && $0.dropFirst(7).allSatisfy(\.isNumber) }
                .count == 811
        }
        await world.shutdown(engine)
    }

    @Test func restartWithoutQR() async throws {
        let world = try await SimulatorWorld.start()
        let first = EventRecorder()
        let engine = try world.engine(recorder: first)
        try await world.pairAndLogIn(engine, first)
        await engine.stop()
        let second = EventRecorder()
        let restarted = try world.engine(recorder: second)
        try await restarted.start()
        _ = try await second.readyIndex()
        #expect(!second.all.contains { if case .qr = $0 { true } else { false } })
        await world.shutdown(restarted)
    }

    @Test func pairingCode() async throws {
        let world = try await SimulatorWorld.start()
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        await #expect(throws: EngineError.self) { try await engine.requestPairingCode(phoneNumber: SimulatorWorld.phone) }
        try await engine.start()
        _ = try await recorder.qr()
        let code = try await engine.requestPairingCode(phoneNumber: SimulatorWorld.phone)
        #expect(code.count == 8)
        _ = try await world.simulator.enterPairingCode(code, on: SimulatorWorld.phone)
        try await recorder.wait { $0 == .authenticating }
        _ = try await recorder.readyIndex()
        await world.shutdown(engine)
    }

    @Test func droppedLinkReconnectsAfterBackoff() async throws {
        let world = try await SimulatorWorld.start(manualClock: true)
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        let before = recorder.all.count
        try await world.simulator.inject(fault: .drop, phone: SimulatorWorld.phone, device: try await world.device())
        let dropped = try await recorder.wait(from: before) { if case .disconnected = $0 { true } else { false } }
        #expect({ if case .disconnected(_, true) = dropped.event { true } else { false } }())
        try await world.advance(milliseconds: 1_000)
        _ = try await recorder.readyIndex(from: dropped.index)
        await world.shutdown(engine)
    }

    @Test func reconnectLoopEveryFifthAttemptThenFailedAtTheCap() async throws {
        let world = try await SimulatorWorld.start(manualClock: true)
        let recorder = EventRecorder()
        let engine = try world.engine(
            recorder: recorder, config: SessionEngineConfig(maxReconnectAttempts: 5, reconnectBaseDelayMilliseconds: 100))
        try await world.pairAndLogIn(engine, recorder)
        await world.simulator.stop()  // every attempt now fails to connect
        var delay = 100
        for attempt in 1...5 {
            try await recorder.wait { _ in
                recorder.all.filter { if case .disconnected(_, true) = $0 { true } else { false } }.count >= attempt
            }
            try await world.advance(milliseconds: delay)
            delay *= 2
        }
        try await recorder.wait { if case .failed = $0 { true } else { false } }
        #expect(recorder.all.filter { if case .reconnectLoop = $0 { true } else { false } } == [
            .reconnectLoop(attempts: 5, nextDelayMilliseconds: 1_600)
        ])
        #expect(recorder.all.contains { if case .disconnected(_, false) = $0 { true } else { false } })
        await engine.stop()
        world.reactor.stop()
        await world.reactor.waitUntilStopped()
    }

    @Test func theAttemptCounterResetsAfterFiveMinutesReady() async throws {
        let world = try await SimulatorWorld.start(manualClock: true)
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        for round in 0..<2 {
            let before = recorder.all.count
            try await world.simulator.inject(fault: .drop, phone: SimulatorWorld.phone, device: try await world.device())
            let dropped = try await recorder.wait(from: before) { if case .disconnected = $0 { true } else { false } }
            // Always the base delay: the first drop is attempt 1, and five minutes ready reset it.
            try await world.advance(milliseconds: 1_000)
            _ = try await recorder.readyIndex(from: dropped.index)
            if round == 0 { try await world.advance(milliseconds: 300_000) }
        }
        await world.shutdown(engine)
    }

    @Test func zeroReconnectAttemptsMeansNone() async throws {
        let world = try await SimulatorWorld.start()
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder, config: SessionEngineConfig(maxReconnectAttempts: 0))
        try await world.pairAndLogIn(engine, recorder)
        try await world.simulator.inject(fault: .drop, phone: SimulatorWorld.phone, device: try await world.device())
        let event = try await recorder.wait { if case .disconnected = $0 { true } else { false } }.event
        #expect({ if case .disconnected(_, false) = event { true } else { false } }())
        await world.shutdown(engine)
    }

    @Test func conflictDisconnectsWithoutReconnect() async throws {
        let world = try await SimulatorWorld.start()
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        try await world.simulator.inject(fault: .conflict, phone: SimulatorWorld.phone, device: try await world.device())
        let event = try await recorder.wait { if case .disconnected = $0 { true } else { false } }.event
        guard case .disconnected(let reason, let willReconnect) = event else { return }
        #expect(!willReconnect)
        #expect(reason.contains("replaced"))
        await world.shutdown(engine)
    }

    @Test func phoneSideUnlinkLogsOutWipesAndShowsANewQR() async throws {
        let world = try await SimulatorWorld.start()
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        let before = recorder.all.count
        try await world.simulator.unlink(phone: SimulatorWorld.phone, device: try await world.device())
        let loggedOut = try await recorder.wait(from: before) { if case .loggedOut = $0 { true } else { false } }
        _ = try await recorder.qr(from: loggedOut.index)
        #expect(try await world.store.value(sessionID: "s1", key: "me.jid") == nil)
        await world.shutdown(engine)
    }

    @Test func credentialsTheServerNoLongerKnowsAreWipedAndRelinked() async throws {
        let store = InMemoryAuthStateStore()
        let world = try await SimulatorWorld.start(store: store)
        let first = EventRecorder()
        let engine = try world.engine(recorder: first)
        try await world.pairAndLogIn(engine, first)
        await engine.stop()
        await world.shutdown()
        // A new simulator (same test root) has never seen this device: login gets failure 401.
        let other = try await SimulatorWorld.start(store: store)
        let second = EventRecorder()
        let restarted = try other.engine(recorder: second)
        try await restarted.start()
        let loggedOut = try await second.wait { if case .loggedOut = $0 { true } else { false } }
        _ = try await second.qr(from: loggedOut.index)
        #expect(try await store.value(sessionID: "s1", key: "me.jid") == nil)
        await other.shutdown(restarted)
    }

    @Test func logoutUnlinksAndWipes() async throws {
        let world = try await SimulatorWorld.start()
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        try await engine.logout()
        #expect(recorder.all.last == .loggedOut(reason: "logged out"))
        #expect(try await world.store.load(sessionID: "s1").isEmpty)
        #expect(try await world.simulator.companions(of: SimulatorWorld.phone).isEmpty)
        await world.shutdown(engine)
    }

    @Test func wrongRootKeyFailsClearly() async throws {
        let world = try await SimulatorWorld.start()
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder, root: NoiseCertificateChain.whatsAppRootPublicKey)
        try await engine.start()
        let event = try await recorder.wait { if case .failed = $0 { true } else { false } }.event
        guard case .failed(let reason) = event else { return }
        #expect(reason.contains("certificate"))
        await world.shutdown(engine)
    }

    @Test func malformedFrameEndsThatLinkOnly() async throws {
        let world = try await SimulatorWorld.start()
        let one = EventRecorder()
        let two = EventRecorder()
        let first = try world.engine("a", recorder: one)
        try await world.pairAndLogIn(first, one)
        let device = try await world.device()
        let second = try world.engine("b", recorder: two)
        try await second.start()
        _ = try await two.qr()
        try await world.simulator.inject(fault: .malformed, phone: SimulatorWorld.phone, device: device)
        let event = try await one.wait { if case .disconnected = $0 { true } else { false } }.event
        guard case .disconnected(let reason, true) = event else { return }
        #expect(reason.contains("protocol violation"))
        #expect(!two.all.contains { if case .disconnected = $0 { true } else { false } })
        await world.shutdown(first, second)
    }

    @Test func stalledServerIsDetectedByKeepalive() async throws {
        let world = try await SimulatorWorld.start(manualClock: true)
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        try await world.simulator.inject(fault: .stall, phone: SimulatorWorld.phone, device: try await world.device())
        try await world.advance(milliseconds: 25_000)
        try await Task.sleep(for: .milliseconds(100))
        try await world.advance(milliseconds: 20_000)
        let event = try await recorder.wait { if case .disconnected = $0 { true } else { false } }.event
        guard case .disconnected(let reason, true) = event else { return }
        #expect(reason.contains("keepalive"))
        // The stalled peer never answers our close frame: the WebSocket gives up after 5 s.
        try await world.advance(milliseconds: 5_000)
        await world.shutdown(engine)
    }

    @Test func sqlStoreKeepsTheLinkAcrossEngines() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("native-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = WorkerPool(size: 1)
        let database = try await SQLiteDatabase.open(path: directory.appendingPathComponent("data.sqlite").path, name: "data", pool: pool)
        try await Migrator.migrate(database, DataSchema.migrations)
        let world = try await SimulatorWorld.start(store: SQLAuthStateStore(database: database))
        let first = EventRecorder()
        let engine = try world.engine(recorder: first)
        try await world.pairAndLogIn(engine, first)
        await engine.stop()
        let second = EventRecorder()
        let restarted = try world.engine(recorder: second)
        try await restarted.start()
        _ = try await second.readyIndex()
        #expect(!second.all.contains { if case .qr = $0 { true } else { false } })
        await world.shutdown(restarted)
        await database.close()
    }
}
