import Engines
import Foundation
import Reactor
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
}
