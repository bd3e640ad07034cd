import Engines
import Foundation
import Logging
import Reactor
import Testing
import TestSupport

/// Real Chromium for the browser engine tests (installed by `scripts/setup.sh test`). Without it
/// the suites are skipped, unless `OPENWA_TEST_SERVICES=1` says the test command installed it.
enum BrowserTestEnvironment {
    static let executable = ProcessInfo.processInfo.environment["CHROME_BIN"] ?? BrowserEngineConfiguration.chromiumPath

    static var enabled: Bool {
        FileManager.default.isExecutableFile(atPath: executable) || ProcessInfo.processInfo.environment["OPENWA_TEST_SERVICES"] == "1"
    }

    /// The fixture page that stands in for WhatsApp Web (a test fixture, not WA Web).
    /// `OPENWA_TEST_LOG=1` prints the engine's debug log to stderr.
    static let logger: Logger = {
        guard ProcessInfo.processInfo.environment["OPENWA_TEST_LOG"] == "1" else { return quietLogger }
        var logger = Logger(label: "browser-test", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .trace
        return logger
    }()

    static let fixtureHTML: [UInt8] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fake-wa-web.html")
        return Array((try? Data(contentsOf: url)) ?? Data())
    }()
}

/// One test's world: a reactor, a temporary profiles directory, and a configuration that serves
/// the fixture as https://web.whatsapp.com/ and lets nothing reach the network.
struct BrowserWorld {
    let reactor: ReactorHandle
    let directory: String
    var configuration: BrowserEngineConfiguration

    static func start() throws -> BrowserWorld {
        let directory = NSTemporaryDirectory() + "openwa-browser-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let reactor = try ReactorThread.start(name: "browser", workers: WorkerPool(size: 1), logger: BrowserTestEnvironment.logger)
        let configuration = BrowserEngineConfiguration(
            executable: BrowserTestEnvironment.executable, profilesDirectory: directory,
            pinnedHTML: BrowserTestEnvironment.fixtureHTML, blockOtherRequests: true, commandTimeoutMilliseconds: 5_000,
            loadTimeoutMilliseconds: 15_000, closeGraceMilliseconds: 2_000)
        return BrowserWorld(reactor: reactor, directory: directory, configuration: configuration)
    }

    func engine(_ sessionID: String = "s1", recorder: EventRecorder, reconnectDelay: Int = 100) -> BrowserEngine {
        let factory = BrowserEngineFactory(configuration: configuration, reactor: reactor, logger: BrowserTestEnvironment.logger)
        return factory.makeEngine(
            sessionID: sessionID, config: SessionEngineConfig(reconnectBaseDelayMilliseconds: reconnectDelay),
            events: recorder.sink) as! BrowserEngine
    }

    /// Starts, waits for the QR, "scans" it in the fixture and waits for ready.
    func link(_ engine: BrowserEngine, _ recorder: EventRecorder) async throws {
        try await engine.start()
        _ = try await recorder.qr()
        _ = try await engine.evaluate("__fake.pair()")
        try await recorder.wait { $0 == .authenticating }
        _ = try await recorder.readyIndex()
    }

    /// Stops the engines, checks that their process groups are gone and that nothing is left on
    /// the reactor, then stops it and removes the profiles.
    func shutdown(_ engines: BrowserEngine...) async {
        for engine in engines {
            let group = await engine.processGroup()
            await engine.stop()
            if let group { await expectGone(group) }
        }
        var left = (timers: -1, registrations: -1)
        for _ in 0..<300 {
            left = (try? await reactor.submit { ($0.timerCount, $0.registrationCount) }) ?? (-1, -1)
            if left == (0, 0) { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        #expect(left.timers == 0, "timers left on the reactor")
        #expect(left.registrations == 0, "descriptors left on the reactor")
        reactor.stop()
        await reactor.waitUntilStopped()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Live (not zombie) processes of process group `group`, from /proc.
func liveProcesses(inGroup group: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { entry -> Int32? in
        guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, fields[0] != "Z", fields[0] != "X", Int32(fields[2]) == group else { return nil }
        return pid
    }
}

/// Waits (briefly) until no live process of `group` is left.
func expectGone(_ group: Int32, _ sourceLocation: SourceLocation = #_sourceLocation) async {
    for _ in 0..<100 {
        if liveProcesses(inGroup: group).isEmpty { return }
        try? await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("Chromium processes left in group \(group): \(liveProcesses(inGroup: group))", sourceLocation: sourceLocation)
}
