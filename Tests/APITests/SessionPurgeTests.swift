import Engines
import Foundation
import Persistence
import Simulator
import Testing
import TestSupport

/// What deleting a chat or a session removes (reference 2.3, 2.4): the stored rows and, once
/// they are gone, the media files they pointed at, on both data databases.
@Suite(.timeLimit(.minutes(2))) struct SessionPurgeTests {
    static let alice = "15550200701"
    static let bob = "15550200702"
    static let carol = "15550200703"

    private func phoneSendsImage(_ world: LinkWorld, from phone: String) async throws -> String {
        let bytes = (0..<5_000).map { _ in UInt8.random(in: 0...255) }
        let json = try JSONSerialization.data(withJSONObject: [
            "to": Self.alice, "kind": "image", "mimetype": "image/jpeg", "data": Data(bytes).base64EncodedString(),
        ])
        return try await world.simulator.sendMessage(from: phone, json: Array(json)).id
    }

    private func count(_ world: LinkWorld, _ table: String, _ id: String) async throws -> Int64 {
        try await world.gateway.data.query(#"SELECT COUNT(*) AS n FROM \#(table) WHERE "sessionId" = $1"#, [.text(id)]).first?.int("n") ?? -1
    }

    @Test(arguments: DataBackend.available)
    func deletingAChatAndThenTheSessionRemovesRowsAndMedia(_ backend: DataBackend) async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(backend, storage: nil, phones: [Self.alice, Self.bob, Self.carol])
        let storage = world.gateway.archive.storage
        let fromBob = try await phoneSendsImage(world, from: Self.bob)
        let fromCarol = try await phoneSendsImage(world, from: Self.carol)
        let bobPath = try #require(try await world.mediaRow(id, fromBob) { $0.mediaPath != nil }.mediaPath)
        let carolPath = try #require(try await world.mediaRow(id, fromCarol) { $0.mediaPath != nil }.mediaPath)
        #expect(try await storage.exists(key: bobPath))
        #expect(try await storage.exists(key: carolPath))
        let sent = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", headers: [("Idempotency-Key", "purge-1")],
            body: #"{"chatId":"\#(Self.carol)","text":"kept until the session goes"}"#)
        #expect(sent.status == 201, "\(sent.text)")
        let archived = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/chats/archive", body: #"{"chatId":"\#(Self.carol)@c.us","archive":true}"#)
        #expect(archived.status == 200, "\(archived.text)")

        let deletedChat = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/chats/delete", body: #"{"chatId":"\#(Self.bob)@c.us"}"#)
        #expect(deletedChat.status == 200, "\(deletedChat.text)")
        #expect(try await storage.exists(key: bobPath) == false, "the chat's media went with its rows")
        #expect(try await storage.exists(key: carolPath), "another chat's media stays")
        #expect(try await count(world, "messages", id) == 2)

        _ = try await world.gateway.request("POST", "/api/sessions/\(id)/stop")
        let deleted = try await world.gateway.request("DELETE", "/api/sessions/\(id)")
        #expect(deleted.status == 204, "\(deleted.text)")
        var left: [Int64] = []
        for _ in 0..<200 {
            left = [
                try await count(world, "messages", id), try await count(world, "chat_states", id),
                try await count(world, "send_idempotency_keys", id),
            ]
            if left == [0, 0, 0] { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(left == [0, 0, 0], "messages, chat states and idempotency keys of the session: \(left)")
        for _ in 0..<200 where try await storage.exists(key: carolPath) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await storage.exists(key: carolPath) == false, "the session's media went too")
        await world.stop()
    }
}
