import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Media in groups, both ways, through REST, the native engine and the simulator: what the
/// gateway sends to a group (under its sender key) every member's phone downloads and decrypts,
/// and the gateway keeps its own copy; what a member's phone sends to the group the gateway
/// downloads in the background, stores with the member as author and serves on the media route.
@Suite(.timeLimit(.minutes(3))) struct GroupMediaTests {
    static let alice = "15550200101"
    static let bob = "15550200102"
    static let carol = "15550200103"

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }
    static func sha(_ bytes: [UInt8]) -> String { Crypto.hex(Crypto.sha256(bytes)) }

    /// Alice's session linked, and a group of Bob's with Alice and Carol in it.
    private func groupWorld(_ setup: MediaRouteTests.Setup) async throws -> (LinkWorld, String, String) {
        let (world, id) = try await LinkWorld.linkedForMedia(
            setup.backend, storage: setup.storage, phones: [Self.alice, Self.bob, Self.carol])
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Photos", members: [Self.alice, Self.carol]).id
        return (world, id, group)
    }

    /// The list route's row of `messageID`.
    private func listed(_ world: LinkWorld, _ id: String, _ messageID: String) async throws -> [String: Any]? {
        let listed = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?messageId=\(messageID)")
        return (listed.object["messages"] as? [[String: Any]])?.first
    }

    @Test(arguments: MediaRouteTests.Setup.available)
    func mediaWeSendToAGroupReachesEveryMemberAndIsKept(_ setup: MediaRouteTests.Setup) async throws {
        let (world, id, group) = try await groupWorld(setup)
        let sends: [(route: String, mimetype: String, filename: String?, size: Int)] = [
            ("send-image", "image/png", nil, 48_001),
            ("send-document", "application/pdf", "minutes.pdf", 9_000),
        ]
        for send in sends {
            let payload = Self.bytes(send.size)
            var body: [String: Any] = [
                "chatId": group, "base64": Data(payload).base64EncodedString(), "mimetype": send.mimetype, "caption": "for all",
            ]
            if let filename = send.filename { body["filename"] = filename }
            let sent = try await world.postJSON(id, send.route, body)
            #expect(sent.status == 201, "\(send.route): \(sent.text)")
            let messageID = try #require(sent.object["messageId"] as? String)
            for phone in [Self.bob, Self.carol] {
                let entry = try await world.inboxEntry(phone, messageID)
                #expect(entry.chat == group, "\(phone) got it outside the group")
                #expect(entry.mediaType == (send.route == "send-image" ? "image" : "document"), "the skmsg's mediatype")
                let media = try #require(entry.media, "\(phone): \(send.route) arrived without media")
                #expect(media.error == nil, "\(phone): \(media.error ?? "")")
                #expect(media.sha256 == Self.sha(payload), "\(phone) decrypted other bytes")
                #expect(media.mimetype == send.mimetype)
                if let filename = send.filename { #expect(media.fileName == filename) }
            }
            let row = try await world.mediaRow(id, messageID) { $0.mediaPath != nil }
            #expect(row.chatID == group)
            #expect(row.mediaMimetype == send.mimetype)
            let path = try #require(row.mediaPath)
            #expect(Self.sha(try await world.gateway.archive.storage.getBytes(key: path)) == Self.sha(payload))
            let served = try await world.mediaRoute(id, chat: group, messageID)
            #expect(served.status == 200, "\(send.route): \(served.text)")
            #expect(Self.sha(served.body) == Self.sha(payload), "\(send.route): other bytes served")
        }
        await world.stop()
    }

    @Test(arguments: MediaRouteTests.Setup.available)
    func mediaAMemberSendsToTheGroupIsStoredWithItsAuthorAndServed(_ setup: MediaRouteTests.Setup) async throws {
        let (world, id, group) = try await groupWorld(setup)
        let sends: [(phone: String, kind: String, mimetype: String, storedType: String, size: Int)] = [
            (Self.bob, "image", "image/jpeg", "image", 30_003),
            (Self.carol, "ptt", "audio/ogg; codecs=opus", "voice", 6_500),
        ]
        for send in sends {
            let payload = Self.bytes(send.size)
            let json = try JSONSerialization.data(withJSONObject: [
                "to": group, "kind": send.kind, "mimetype": send.mimetype, "data": Data(payload).base64EncodedString(),
            ])
            let messageID = try await world.simulator.sendMessage(from: send.phone, json: Array(json)).id
            // Downloaded in the background, with no request asking for it.
            let row = try await world.mediaRow(id, messageID) { $0.mediaPath != nil }
            #expect(row.chatID == group)
            #expect(row.type == send.storedType)
            #expect(row.mediaMimetype == send.mimetype)
            #expect(row.metadata?["media"]?["sizeBytes"]?.numberValue == Double(send.size))
            let path = try #require(row.mediaPath)
            #expect(Self.sha(try await world.gateway.archive.storage.getBytes(key: path)) == Self.sha(payload))
            // OpenWA's group row: from the group, written by the member.
            let listedRow = try await listed(world, id, messageID)
            #expect(listedRow?["from"] as? String == group, "\(String(describing: listedRow))")
            #expect(listedRow?["author"] as? String == "\(send.phone)@c.us")
            #expect(listedRow?["mediaPath"] as? String == path)
            let served = try await world.mediaRoute(id, chat: group, messageID)
            #expect(served.status == 200, "\(send.kind): \(served.text)")
            #expect(Self.sha(served.body) == Self.sha(payload), "\(send.kind): other bytes served")
        }
        await world.stop()
    }
}
