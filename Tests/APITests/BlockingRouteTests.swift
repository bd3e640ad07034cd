import Engines
import Foundation
import Reactor
import Simulator
import Testing
import TestSupport

/// The blocklist routes through REST, the native engine and simulated phones (reference 2.6):
/// the list round trip, a blocked phone's messages never arriving, and a block made on the
/// phone itself reaching the session through the server's `account_sync` notification.
@Suite(.timeLimit(.minutes(2))) struct BlockingRouteTests {
    static let alice = "15550210001"
    static let bob = "15550210002"
    static let carol = "15550210003"
    static var bobChat: String { "\(bob)@c.us" }

    private func linked() async throws -> (LinkWorld, String, WebhookReceiver) {
        try await LinkWorld.linkedWithWebhooks(
            .sqlite, phones: [Self.alice, Self.bob, Self.carol], linking: Self.alice,
            events: ["message.received"])
    }

    private func blocked(_ world: LinkWorld, _ id: String) async throws -> [String] {
        let response = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/blocked")
        #expect(response.status == 200, "\(response.text)")
        return (response.json as? [String]) ?? []
    }

    @Test func blockingRoundTripsAndStopsTheBlockedPhonesMessages() async throws {
        let (world, id, receiver) = try await linked()
        let contacts = "/api/sessions/\(id)/contacts"
        let first = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "before")
        _ = try await receiver.wait("bob's first message") { $0.contains { $0.data["id"] as? String == first.id } }
        #expect(try await blocked(world, id) == [])

        let block = try await world.gateway.request("POST", "\(contacts)/\(Self.bob)/block")
        #expect(block.status == 200, "\(block.text)")
        #expect(block.object["success"] as? Bool == true)
        #expect(block.object["message"] as? String == "Contact blocked")
        #expect(try await world.simulator.blocklist(of: Self.alice) == [Self.bob])
        #expect(try await blocked(world, id) == [Self.bobChat])
        let contact = try await world.gateway.request("GET", "\(contacts)/\(Self.bobChat)")
        #expect(contact.object["isBlocked"] as? Bool == true, "\(contact.text)")

        // Bob's message is taken from him but never reaches Alice's device; Carol's, sent after it, does.
        let muted = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "while blocked")
        #expect(muted.devices == 0, "queued for no device of Alice's")
        let heard = try await world.simulator.sendMessage(from: Self.carol, to: Self.alice, text: "carol")
        #expect(heard.devices == 1)
        _ = try await receiver.wait("carol's message") { $0.contains { $0.data["id"] as? String == heard.id } }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!receiver.deliveries.contains { $0.data["id"] as? String == muted.id })
        let rows = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?chatId=\(Self.bobChat)")
        #expect((rows.object["messages"] as? [[String: Any]])?.compactMap { $0["body"] as? String } == ["before"], "\(rows.text)")

        // Alice blocks Carol on the phone itself: the session hears it from the server.
        try await world.simulator.setBlocked(phone: Self.alice, contact: Self.carol, blocked: true)
        var list: [String] = []
        for _ in 0..<250 {
            list = try await blocked(world, id)
            if list.count == 2 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(list == [Self.bobChat, "\(Self.carol)@c.us"])

        let unblock = try await world.gateway.request("DELETE", "\(contacts)/\(Self.bobChat)/block")
        #expect(unblock.status == 200, "\(unblock.text)")
        #expect(unblock.object["message"] as? String == "Contact unblocked")
        #expect(try await world.simulator.blocklist(of: Self.alice) == [Self.carol])
        #expect(try await blocked(world, id) == ["\(Self.carol)@c.us"])
        let after = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "after")
        _ = try await receiver.wait("bob's message after unblocking") { $0.contains { $0.data["id"] as? String == after.id } }
        await receiver.stop()
        await world.stop()
    }

    @Test func refusalsCarryOpenWAsStatuses() async throws {
        let (world, id, receiver) = try await linked()
        let contacts = "/api/sessions/\(id)/contacts"
        let group = try await world.gateway.request("POST", "\(contacts)/120363000000000001@g.us/block")
        #expect(group.status == 400, "\(group.text)")
        #expect(group.object["statusCode"] as? Int == 400)
        let unknown = try await world.gateway.request("POST", "\(contacts)/19990000001/block")
        #expect(unknown.status == 404, "\(unknown.text)")
        #expect(unknown.object["statusCode"] as? Int == 404)
        let own = try await world.gateway.request("POST", "\(contacts)/\(Self.alice)/block")
        #expect(own.status == 400, "\(own.text)")
        let noSession = try await world.gateway.request("GET", "/api/sessions/nope/contacts/blocked")
        #expect(noSession.status == 404)
        #expect(try await world.simulator.blocklist(of: Self.alice) == [])
        #expect(try await blocked(world, id) == [])
        await receiver.stop()
        await world.stop()
    }
}
