import Engines
import Foundation
import Reactor
import Synchronization
import Testing
import TestSupport

/// `messages/send-text` through REST with the browser engine on real Chromium, the fake WA Web
/// fixture of the engine tests standing in for WhatsApp Web (served offline through Fetch).
@Suite(.timeLimit(.minutes(1)), .enabled(if: BrowserRESTWorld.enabled))
struct BrowserMessageRouteTests {
    @Test func sendTextThroughRESTAndReceiveMessageEvents() async throws {
        let world = try await BrowserRESTWorld.start()
        let gateway = world.gateway
        let seen = GatewayEventLog()
        _ = gateway.events.subscribe { seen.append($0) }
        let id = try #require(try await gateway.request("POST", "/api/sessions", body: #"{"name":"browser"}"#).object["id"] as? String)
        #expect(try await gateway.request("POST", "/api/sessions/\(id)/start").status == 200)
        _ = try await world.waitForStatus(id, "qr_ready")
        let early = try await gateway.request("POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"1555","text":"x"}"#)
        #expect(early.status == 400, "a session that is not ready cannot send: \(early.text)")

        let engine = try #require(world.factory.engine(for: id))
        _ = try await engine.evaluate("__fake.pair()")
        let ready = try await world.waitForStatus(id, "ready")
        #expect(ready["phone"] as? String == "15551234567")

        let sent = try await gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"15550001111","text":"hello over REST"}"#)
        #expect(sent.status == 201, "\(sent.text)")
        let messageID = try #require(sent.object["messageId"] as? String)
        #expect(messageID.hasPrefix("true_15550001111@c.us_"))
        #expect((sent.object["timestamp"] as? Double ?? 0) > 0)
        let quoted = try await gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"15550001111","text":"x","quotedMessageId":"abc"}"#)
        #expect(quoted.status == 404, "a quote of an unknown message is refused, never sent unquoted: \(quoted.text)")

        _ = try await engine.evaluate("__fake.incoming('inbound over REST')")
        try await seen.wait { $0.name == "message.received" && $0.data["body"]?.stringValue == "inbound over REST" }
        try await seen.wait { $0.name == "message.sent" && $0.data["id"]?.stringValue == messageID }
        try await seen.wait { $0.name == "message.ack" && $0.data["status"]?.stringValue == "sent" }
        // The browser engine's messages are stored too: both directions are listed.
        let listed = try await gateway.request("GET", "/api/sessions/\(id)/messages")
        let rows = listed.object["messages"] as? [[String: Any]] ?? []
        #expect(Set(rows.compactMap { $0["direction"] as? String }) == ["incoming", "outgoing"], "\(listed.text)")
        #expect(rows.first { $0["waMessageId"] as? String == messageID }?["status"] as? String == "sent")

        #expect(try await gateway.request("POST", "/api/sessions/\(id)/stop").status == 200)
        await world.stop()
    }
}

/// A gateway whose sessions run the browser engine against the fixture page.
struct BrowserRESTWorld {
    static let executable = ProcessInfo.processInfo.environment["CHROME_BIN"] ?? BrowserEngineConfiguration.chromiumPath
    static var enabled: Bool {
        FileManager.default.isExecutableFile(atPath: executable) || ProcessInfo.processInfo.environment["OPENWA_TEST_SERVICES"] == "1"
    }

    let gateway: TestGateway
    let factory: RecordingEngineFactory
    let profiles: String

    static func start(media: MediaDownloader.Settings = MediaDownloader.Settings()) async throws -> BrowserRESTWorld {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../EnginesTests/Fixtures/fake-wa-web.html")
        let html = Array(try Data(contentsOf: fixture))
        let profiles = NSTemporaryDirectory() + "openwa-rest-browser-\(UUID().uuidString.prefix(8))"
        let configuration = BrowserEngineConfiguration(
            executable: executable, profilesDirectory: profiles, pinnedHTML: html, blockOtherRequests: true,
            commandTimeoutMilliseconds: 5_000, loadTimeoutMilliseconds: 15_000)
        let box = Mutex<RecordingEngineFactory?>(nil)
        var limits = TestLimits()
        limits.media = media
        let gateway = try await TestGateway.start(engines: { handle in
            let factory = RecordingEngineFactory(BrowserEngineFactory(configuration: configuration, reactor: handle, logger: quietLogger))
            box.withLock { $0 = factory }
            return factory
        }, limits: limits)
        return BrowserRESTWorld(gateway: gateway, factory: try #require(box.withLock { $0 }), profiles: profiles)
    }

    /// Creates a session, starts it, links it through the fixture page and waits for `ready`.
    func readySession() async throws -> (id: String, engine: BrowserEngine) {
        let id = try #require(try await gateway.request("POST", "/api/sessions", body: #"{"name":"browser"}"#).object["id"] as? String)
        #expect(try await gateway.request("POST", "/api/sessions/\(id)/start").status == 200)
        _ = try await waitForStatus(id, "qr_ready")
        let engine = try #require(factory.engine(for: id))
        _ = try await engine.evaluate("__fake.pair()")
        _ = try await waitForStatus(id, "ready")
        return (id, engine)
    }

    func waitForStatus(_ id: String, _ status: String) async throws -> [String: Any] {
        for _ in 0..<750 {
            let session = try await gateway.request("GET", "/api/sessions/\(id)").object
            if session["status"] as? String == status { return session }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("session never reached \(status)")
        return [:]
    }

    func stop() async {
        await gateway.stop()
        try? FileManager.default.removeItem(atPath: profiles)
    }
}

/// Makes browser engines and remembers them, so a test can drive the fixture page.
final class RecordingEngineFactory: WhatsAppEngineFactory {
    private let inner: BrowserEngineFactory
    private let made = Mutex<[String: BrowserEngine]>([:])

    init(_ inner: BrowserEngineFactory) { self.inner = inner }

    var engineType: EngineType { .browser }

    func makeEngine(sessionID: String, config: SessionEngineConfig, events: @escaping @Sendable (EngineEvent) -> Void) -> any WhatsAppEngine {
        let engine = inner.makeEngine(sessionID: sessionID, config: config, events: events) as! BrowserEngine
        made.withLock { $0[sessionID] = engine }
        return engine
    }

    func engine(for sessionID: String) -> BrowserEngine? { made.withLock { $0[sessionID] } }
}

/// Gateway events seen by a test.
final class GatewayEventLog: Sendable {
    private let storage = Mutex<[GatewayEvent]>([])
    func append(_ event: GatewayEvent) { storage.withLock { $0.append(event) } }

    func wait(_ sourceLocation: SourceLocation = #_sourceLocation, _ match: (GatewayEvent) -> Bool) async throws {
        for _ in 0..<500 {
            if storage.withLock({ $0.contains(where: match) }) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("no matching event; got \(storage.withLock { $0.map(\.name) })", sourceLocation: sourceLocation)
    }
}
