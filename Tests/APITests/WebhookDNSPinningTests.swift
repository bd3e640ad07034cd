import Engines
import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport

/// With SSRF protection on, a delivery connects to the address that passed the check, never to a
/// second DNS answer: the policy's resolver stands in for a DNS server, while the HTTP client
/// would resolve through the system (where `localhost` is loopback and `.invalid` is nothing).
@Suite(.timeLimit(.minutes(1))) struct WebhookDNSPinningTests {
    static func world(allowed: Set<String>, resolve: @escaping @Sendable (String, Int) throws -> [String]) async throws
        -> (TestGateway, WebhookReceiver, String)
    {
        var settings = WebhookSettings()
        settings.urlPolicy = WebhookURLPolicy(protect: true, allowedHosts: allowed, resolve: resolve)
        settings.retryDelayMilliseconds = 10
        settings.timeoutMilliseconds = 300
        let gateway = try await TestGateway.start(webhooks: settings)
        let receiver = try await WebhookReceiver.start()
        let id = try await WebhookRouteTests.session(gateway)
        return (gateway, receiver, id)
    }

    @Test func aDeliveryGoesToTheCheckedAddressWithTheNameInTheHostHeader() async throws {
        // Only the policy's "DNS" knows this name; the system resolver would fail on it.
        let (gateway, receiver, session) = try await Self.world(allowed: ["127.0.0.1"]) { _, _ in ["127.0.0.1"] }
        let created = try await gateway.request(
            "POST", "/api/sessions/\(session)/webhooks", body: #"{"url":"http://hooks.pinned.invalid:\#(receiver.port)/hook"}"#)
        #expect(created.status == 201, "\(created.text)")
        gateway.events.publish(WebhookDeliveryTests.message(session, chat: "1@c.us", number: 1))
        let delivery = try #require(try await receiver.wait("the pinned delivery") { $0.count == 1 }.first)
        #expect(delivery.header("Host") == "hooks.pinned.invalid:\(receiver.port)")
        await gateway.stop()
        await receiver.stop()
    }

    @Test func aRebindToLoopbackAfterTheCheckIsNotFollowed() async throws {
        // The check sees a public address (TEST-NET-1); the system resolver says loopback, where
        // the receiver listens. Connecting to the checked address fails, so nothing arrives and
        // the delivery is dead-lettered; following the second answer would have reached the receiver.
        let (gateway, receiver, session) = try await Self.world(allowed: []) { _, _ in ["192.0.2.10"] }
        let created = try await gateway.request(
            "POST", "/api/sessions/\(session)/webhooks", body: #"{"url":"http://localhost:\#(receiver.port)/hook","retryCount":1}"#)
        #expect(created.status == 201, "\(created.text)")
        gateway.events.publish(WebhookDeliveryTests.message(session, chat: "1@c.us", number: 1))
        var failures: [[String: Any]] = []
        for _ in 0..<500 {
            failures = try await gateway.request("GET", "/api/webhooks/delivery-failures").array
            if !failures.isEmpty { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(failures.count == 1, "\(failures)")
        #expect(receiver.deliveries.isEmpty, "the loopback receiver must never be reached")
        await gateway.stop()
        await receiver.stop()
    }

    @Test func anExpiredVerdictIsRenewedByOneLookupAndARefusalThenHolds() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-verdict-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let workers = WorkerPool(size: 2)
        let handle = try ReactorThread.start(workers: workers, logger: quietLogger)
        let database = try await SQLiteDatabase.open(path: directory.appendingPathComponent("data.sqlite").path, name: "data", pool: workers)
        try await Migrator.migrate(database, DataSchema.migrations)
        let receiver = try await WebhookReceiver.start()
        // The manual clock and the "DNS": how many lookups, and what they answer.
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let dns = Mutex((lookups: 0, answer: "127.0.0.1"))
        var settings = WebhookSettings()
        settings.retryDelayMilliseconds = 10
        settings.urlPolicy = WebhookURLPolicy(protect: true, allowedHosts: ["127.0.0.1"]) { _, _ in
            dns.withLock { state in
                state.lookups += 1
                return [state.answer]
            }
        }
        let service = try await WebhookService(
            handle: handle, workers: workers, database: database, settings: settings, logger: quietLogger,
            now: { clock.withLock { $0 } })
        let bus = EventBus()
        try await service.start(bus: bus)
        var draft = WebhookDraft()
        draft.url = "http://hooks.verdict.invalid:\(receiver.port)/hook"
        draft.retryCount = 1
        _ = try await service.create(sessionId: "s1", draft)
        func publish(_ number: Int) { bus.publish(WebhookDeliveryTests.message("s1", chat: "c\(number)@c.us", number: number)) }

        publish(0)
        try await receiver.wait("the first delivery") { $0.count == 1 }
        let afterFirst = dns.withLock { $0.lookups }  // creation's check and the first delivery's

        clock.withLock { $0 += 61 }
        for number in 1...20 { publish(number) }
        try await receiver.wait("twenty deliveries on the expired verdict") { $0.count == 21 }
        try await Self.waitForRenewal(service, lookups: afterFirst + 1) { dns.withLock { $0.lookups } }
        #expect(dns.withLock { $0.lookups } == afterFirst + 1, "one background lookup renews the verdict")

        // The name now points inside: once a renewal has seen it, deliveries are refused.
        dns.withLock { $0.answer = "10.0.0.7" }
        clock.withLock { $0 += 61 }
        let deadBefore21 = await service.deadCount
        publish(21)  // may still go out on the old verdict (to the address that was checked)
        try await Self.waitForRenewal(service, lookups: afterFirst + 2) { dns.withLock { $0.lookups } }
        // Either way it settles (delivered, or refused and dead) before the count is taken: a
        // delivery still in flight would otherwise land after it.
        for _ in 0..<2_000 where receiver.deliveries.count == 21 {
            if await service.deadCount > deadBefore21 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let (before, deadBefore) = (receiver.deliveries.count, await service.deadCount)
        publish(22)
        for _ in 0..<2_000 where await service.deadCount == deadBefore { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await service.deadCount == deadBefore + 1)
        #expect(receiver.deliveries.count == before)

        await service.shutdown()
        await receiver.stop()
        await database.close()
        handle.stop()
        await handle.waitUntilStopped()
    }

    /// Waits until the resolver has answered `lookups` times and no renewal is still running.
    static func waitForRenewal(_ service: WebhookService, lookups: Int, seen: () -> Int) async throws {
        for _ in 0..<2_000 {
            if seen() >= lookups, await service.renewingVerdictCount == 0 { return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
