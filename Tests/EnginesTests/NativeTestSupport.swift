import Engines
import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport
import WAProtocol

/// Records an engine's events and lets a test wait for one.
final class EventRecorder: Sendable {
    private let events = Mutex<[EngineEvent]>([])

    var sink: @Sendable (EngineEvent) -> Void { { [self] event in events.withLock { $0.append(event) } } }
    var all: [EngineEvent] { events.withLock { $0 } }

    /// Waits until an event after index `from` matches, and returns it with its index.
    @discardableResult
    func wait(
        from start: Int = 0, timeout: Duration = .seconds(20), _ sourceLocation: SourceLocation = #_sourceLocation,
        _ match: (EngineEvent) -> Bool
    ) async throws -> (event: EngineEvent, index: Int) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = all.enumerated().dropFirst(start).first { match($0.element) }
            if let found { return (found.element, found.offset) }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no matching event; got \(all)", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    /// The QR string of the first `.qr` event from `start`.
    func qr(from start: Int = 0) async throws -> (String, Int) {
        let (event, index) = try await wait(from: start) { if case .qr = $0 { true } else { false } }
        guard case .qr(let text) = event else { throw CancellationError() }
        return (text, index)
    }

    func readyIndex(from start: Int = 0) async throws -> Int {
        try await wait(from: start) { if case .ready = $0 { true } else { false } }.index
    }
}

/// One test's world: a fake WhatsApp server, an engine reactor (optionally on a manual clock)
/// and an auth-state store shared by the engines it makes.
struct NativeHarness {
    let server: FakeWhatsAppServer
    let reactor: ReactorHandle
    let clock: ManualReactorClock?
    let store: any AuthStateStore

    static func start(manualClock: Bool = false, store: any AuthStateStore = InMemoryAuthStateStore()) throws -> NativeHarness {
        let server = try FakeWhatsAppServer.start()
        let clock = manualClock ? ManualReactorClock() : nil
        let reactor = try ReactorThread.start(
            name: "engine", clock: clock ?? MonotonicReactorClock(), workers: WorkerPool(size: 2), logger: quietLogger)
        return NativeHarness(server: server, reactor: reactor, clock: clock, store: store)
    }

    func configuration(root: [UInt8] = NoiseCertificateChain.testRootPublicKey) -> NativeEngineConfiguration {
        NativeEngineConfiguration(
            serverURL: server.url, rootPublicKey: root, connectTimeoutMilliseconds: 5_000, handshakeTimeoutMilliseconds: 5_000)
    }

    func engine(
        _ sessionID: String = "s1", recorder: EventRecorder, config: SessionEngineConfig = SessionEngineConfig(reconnectBaseDelayMilliseconds: 1_000),
        root: [UInt8] = NoiseCertificateChain.testRootPublicKey
    ) -> NativeEngine {
        let factory = NativeEngineFactory(configuration: configuration(root: root), reactor: reactor, authState: store, logger: quietLogger)
        return factory.makeEngine(sessionID: sessionID, config: config, events: recorder.sink) as! NativeEngine
    }

    /// start → QR → scan → authenticating → (515) → ready.
    func pairAndLogIn(_ engine: NativeEngine, _ recorder: EventRecorder) async throws {
        try await engine.start()
        let (qr, _) = try await recorder.qr()
        try await server.scan(qr)
        try await recorder.wait { $0 == .authenticating }
        _ = try await recorder.readyIndex()
    }

    /// Advances the manual clock in steps so timers scheduled on the way fire too.
    func advance(milliseconds: Int) async throws {
        guard let clock else { return }
        clock.advance(milliseconds: milliseconds)
        _ = try await reactor.submit { _ in 0 }
    }

    func shutdown(_ engines: NativeEngine...) async {
        for engine in engines { await engine.stop() }
        // A closing WebSocket keeps its close-handshake deadline until the peer answers.
        var left = (timers: -1, registrations: -1)
        for _ in 0..<200 {
            left = (try? await reactor.submit { ($0.timerCount, $0.registrationCount) }) ?? (-1, -1)
            if left == (0, 0) { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        #expect(left.timers == 0, "timers left on the engine reactor")
        #expect(left.registrations == 0, "sockets left on the engine reactor")
        reactor.stop()
        await reactor.waitUntilStopped()
        await server.stop()
    }
}
