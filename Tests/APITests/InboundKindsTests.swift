import Engines
import Foundation
import Persistence
import Simulator
import Testing
import TestSupport

/// Received content beyond the basic kinds, through the simulator and the native engine:
/// several contact cards, a live location, a round video note, and content this gateway cannot
/// read, which is stored as `unknown` instead of lost, while add-ons that are no message of
/// their own (keep-in-chat) are not stored.
@Suite(.timeLimit(.minutes(2))) struct InboundKindsTests {
    static let alice = "15550200901"
    static let bob = "15550200902"
    static let carol = "15550200903"
    static var bobChat: String { "\(bob)@c.us" }

    private func phoneSends(_ world: LinkWorld, _ body: [String: Any]) async throws -> String {
        var body = body
        body["to"] = Self.alice
        let json = try JSONSerialization.data(withJSONObject: body)
        return try await world.simulator.sendMessage(from: Self.bob, json: Array(json)).id
    }

    /// The stored row of `messageID` once it is there.
    private func row(_ world: LinkWorld, _ id: String, _ messageID: String) async throws -> [String: Any] {
        for _ in 0..<500 {
            let response = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?messageId=\(messageID)")
            if let row = (response.object["messages"] as? [[String: Any]])?.first { return row }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("\(messageID) was never stored")
        return [:]
    }

    @Test(arguments: DataBackend.available)
    func everyKindIsStoredAndControlMessagesAreNot(_ backend: DataBackend) async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(backend, storage: nil, phones: [Self.alice, Self.bob, Self.carol])
        let cards = try await phoneSends(
            world, ["kind": "contacts", "contacts": [["name": "Dan", "number": "15550200904"], ["name": "Eve", "number": "15550200905"]]])
        let live = try await phoneSends(world, ["kind": "live-location", "latitude": 52.52, "longitude": 13.405, "text": "on my way"])
        let note = Data((0..<7_000).map { UInt8($0 % 199) })
        let ptv = try await phoneSends(world, ["kind": "ptv", "data": note.base64EncodedString(), "mimetype": "video/mp4"])
        // An event invitation (Message field 75, `name` = "Party"): nothing here decodes it.
        let event = try await phoneSends(world, ["kind": "raw", "data": Data([0xDA, 0x04, 0x07, 0x1A, 0x05] + Array("Party".utf8)).base64EncodedString()])
        // Keep-in-chat (field 51) acts on another message: no row of its own.
        _ = try await phoneSends(world, ["kind": "raw", "data": Data([0x9A, 0x03, 0x02, 0x10, 0x01]).base64EncodedString()])
        let last = try await phoneSends(world, ["text": "the end"])

        let cardRow = try await row(world, id, cards)
        #expect(cardRow["type"] as? String == "contact")
        #expect(cardRow["body"] as? String == "2 contacts")
        let cardMetadata = cardRow["metadata"] as? [String: Any]
        #expect((cardMetadata?["contacts"] as? [[String: Any]])?.compactMap { $0["displayName"] as? String } == ["Dan", "Eve"])
        #expect((cardMetadata?["contact"] as? [String: Any])?["displayName"] as? String == "Dan")

        let liveRow = try await row(world, id, live)
        #expect(liveRow["type"] as? String == "location")
        let place = (liveRow["metadata"] as? [String: Any])?["location"] as? [String: Any]
        #expect(place?["live"] as? Bool == true && place?["latitude"] as? Double == 52.52, "\(liveRow)")
        #expect(place?["description"] as? String == "on my way")

        #expect(try await row(world, id, ptv)["type"] as? String == "video")
        let stored = try await world.mediaRow(id, ptv) { $0.mediaPath != nil }
        let bytes = try await world.gateway.archive.storage.getBytes(key: try #require(stored.mediaPath))
        #expect(bytes == Array(note), "the video note's media was downloaded and decrypted")

        let eventRow = try await row(world, id, event)
        #expect(eventRow["type"] as? String == "unknown", "\(eventRow)")
        _ = try await row(world, id, last)
        let listed = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?chatId=\(Self.bobChat)&limit=100")
        let types = (listed.object["messages"] as? [[String: Any]])?.compactMap { $0["type"] as? String }.sorted()
        #expect(types == ["contact", "location", "text", "unknown", "video"], "the keep-in-chat made no row: \(types ?? [])")

        // Both cards go on when the message is forwarded.
        let forward = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/forward",
            body: #"{"fromChatId":"\#(Self.bobChat)","toChatId":"\#(Self.carol)","messageId":"\#(cards)"}"#)
        #expect(forward.status == 201, "\(forward.text)")
        let forwarded = try await world.simulator.inbox(of: Self.carol).first { $0.id == forward.object["messageId"] as? String }
        #expect(forwarded?.type == "contact" && forwarded?.body == "2 contacts", "\(String(describing: forwarded))")
        #expect(forwarded?.forwarded == true)
        await world.stop()
    }
}
