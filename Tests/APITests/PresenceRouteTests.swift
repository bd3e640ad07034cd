import Engines
import Foundation
import Simulator
import Testing
import TestSupport

/// Presence through REST, the native engine and simulated phones (reference 2.3, 3.7).
@Suite(.timeLimit(.minutes(2))) struct PresenceRouteTests {
    static let alice = "15550300001"
    static let bob = "15550300002"

    @Test func availabilitySubscriptionsAndTyping() async throws {
        var settings = WebhookSettings()
        settings.urlPolicy = WebhookURLPolicy(protect: false)
        let world = try await LinkWorld.start(.sqlite, phones: [Self.alice, Self.bob], webhooks: settings)
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: Self.alice)
        let receiver = try await WebhookReceiver.start()
        let hook = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/webhooks", body: #"{"url":"\#(receiver.url)","events":["presence.update"]}"#)
        #expect(hook.status == 201, "\(hook.text)")
        let base = "/api/sessions/\(id)/presence"
        // Nothing seen yet: null.
        let empty = try await world.gateway.request("GET", "\(base)/\(Self.bob)@c.us")
        #expect(empty.status == 200 && empty.text == "null", "\(empty.text)")
        // Our own availability reaches WhatsApp.
        #expect(try await world.gateway.request("PUT", base, body: #"{"available":true}"#).status == 200)
        for _ in 0..<250 where !(try await world.simulator.isAvailable(Self.alice)) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await world.simulator.isAvailable(Self.alice))
        // Subscribing answers Bob's current state at once (offline), then every change follows.
        let subscribed = try await world.gateway.request("POST", "\(base)/subscribe", body: #"{"chatId":"\#(Self.bob)@c.us"}"#)
        #expect(subscribed.status == 200, "\(subscribed.text)")
        _ = try await receiver.wait("Bob unavailable") { $0.contains { Self.state(of: $0) == "unavailable" } }
        try await world.simulator.setPresence(of: Self.bob, available: true)
        _ = try await receiver.wait("Bob available") { $0.contains { Self.state(of: $0) == "available" } }
        try await world.simulator.sendChatState(from: Self.bob, to: Self.alice, state: "recording")
        let updates = try await receiver.wait("Bob recording") { $0.contains { Self.state(of: $0) == "recording" } }
        #expect(updates.first?.data["chatId"] as? String == "\(Self.bob)@c.us")
        #expect(updates.first?.data["sessionId"] as? String == id)
        let seen = try await world.gateway.request("GET", "\(base)/\(Self.bob)@c.us")
        let participants = try #require(seen.object["participants"] as? [[String: Any]])
        #expect(participants.count == 1)
        #expect(participants.first?["id"] as? String == "\(Self.bob)@c.us")
        #expect(participants.first?["state"] as? String == "recording")
        #expect(seen.object["observedAt"] is String)
        // Bad input.
        #expect(try await world.gateway.request("PUT", base, body: #"{"available":"yes"}"#).status == 400)
        #expect(try await world.gateway.request("POST", "\(base)/subscribe", body: #"{"chatId":"bob"}"#).status == 400)
        #expect(try await world.gateway.request("GET", "/api/sessions/nope/presence/\(Self.bob)@c.us").status == 404)
        await receiver.stop()
        await world.stop()
    }

    private static func state(of delivery: WebhookReceiver.Delivery) -> String? {
        ((delivery.data["participants"] as? [[String: Any]])?.first)?["state"] as? String
    }
}
