import Engines
import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Group pictures and the account's own picture through REST, the native engine and the
/// simulator (reference 2.7 and 2.13): the bytes reach the server's picture host, the URL
/// comes back from the `w:profile:picture` get, a member's change arrives as `group.update`.
@Suite(.timeLimit(.minutes(2))) struct PictureRouteTests {
    static let alice = "15550220001"
    static let bob = "15550220002"
    static let carol = "15550220003"

    private func linked(maxBytes: Int = 64 * 1_024) async throws -> (LinkWorld, String, WebhookReceiver) {
        var limits = TestLimits()
        limits.media.maxBytes = maxBytes
        limits.media.urlPolicy = WebhookURLPolicy(protect: true, allowedHosts: ["127.0.0.1"])
        return try await LinkWorld.linkedWithWebhooks(
            .sqlite, phones: [Self.alice, Self.bob, Self.carol], linking: Self.alice,
            events: ["group.join", "group.update"], limits: limits)
    }

    /// Bytes that start like a JPEG file; the server keeps what it is given.
    static func image(_ count: Int, seed: UInt8) -> [UInt8] {
        [0xFF, 0xD8, 0xFF, 0xE0] + (0..<max(0, count - 4)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    private func put(_ world: LinkWorld, _ path: String, _ body: [String: Any]) async throws -> TestResponse {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        return try await world.gateway.request("PUT", path, body: json)
    }

    @Test func groupPictureIsSetReadChangedByAMemberAndRemoved() async throws {
        let (world, id, receiver) = try await linked()
        let created = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/groups", body: #"{"name":"Pictures","participants":["\#(Self.bob)","\#(Self.carol)"]}"#)
        let group = try #require(created.object["id"] as? String, "\(created.text)")
        let path = "/api/sessions/\(id)/groups/\(group)/picture"
        let empty = try await world.gateway.request("GET", path)
        #expect(empty.status == 200, "\(empty.text)")
        #expect(empty.object["url"] is NSNull)

        let first = Self.image(5_000, seed: 1)
        let set = try await put(world, path, ["base64": Data(first).base64EncodedString(), "mimetype": "image/jpeg"])
        #expect(set.status == 200, "\(set.text)")
        #expect(set.object["message"] as? String == "Group picture updated")
        let stored = try #require(try await world.simulator.group(group).picture)
        #expect(try await world.simulator.picture(at: stored) == first)
        let read = try await world.gateway.request("GET", path)
        #expect(read.object["url"] as? String == stored, "\(read.text)")

        // By URL, fetched through the SSRF-guarded downloader.
        let second = Self.image(7_000, seed: 2)
        let files = try await MediaFileServer.start(["team.png": .init(bytes: second, contentType: "image/png")])
        let byURL = try await put(world, path, ["url": files.url("team.png")])
        #expect(byURL.status == 200, "\(byURL.text)")
        let replaced = try #require(try await world.simulator.group(group).picture)
        #expect(replaced != stored)
        #expect(try await world.simulator.picture(at: replaced) == second)
        await files.stop()

        // Bob changes it on his phone: the session hears it as group.update with the picture's id.
        try await world.simulator.setGroupPicture(group, actor: Self.bob, image: Self.image(3_000, seed: 3))
        let updates = try await receiver.wait("picture update") {
            $0.contains { ($0.data["changes"] as? [String: Any])?["picture"] is String }
        }
        let event = try #require(updates.first { ($0.data["changes"] as? [String: Any])?["picture"] is String })
        #expect(event.event == "group.update")
        #expect(event.data["groupId"] as? String == group)
        #expect(event.data["actorId"] as? String == "\(Self.bob)@c.us")

        let removed = try await world.gateway.request("DELETE", path)
        #expect(removed.status == 200, "\(removed.text)")
        #expect(removed.object["message"] as? String == "Group picture removed")
        #expect(try await world.simulator.group(group).picture == nil)
        #expect(try await world.gateway.request("GET", path).object["url"] is NSNull)
        await receiver.stop()
        await world.stop()
    }

    @Test func ownProfilePictureIsSetAndRemoved() async throws {
        let (world, id, receiver) = try await linked()
        let path = "/api/sessions/\(id)/profile/picture"
        let image = Self.image(4_000, seed: 9)
        let set = try await put(world, path, ["base64": "data:image/jpeg;base64," + Data(image).base64EncodedString()])
        #expect(set.status == 200, "\(set.text)")
        #expect(set.object["message"] as? String == "Profile picture updated")
        let url = try #require(try await world.simulator.profilePictureURL(of: Self.alice))
        #expect(try await world.simulator.picture(at: url) == image)
        let seen = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/\(Self.alice)@c.us/profile-picture")
        #expect(seen.object["url"] as? String == url, "\(seen.text)")
        let removed = try await world.gateway.request("DELETE", path)
        #expect(removed.object["message"] as? String == "Profile picture removed", "\(removed.text)")
        #expect(try await world.simulator.profilePictureURL(of: Self.alice) == nil)
        await receiver.stop()
        await world.stop()
    }

    /// WhatsApp keeps pictures at most 640 pixels a side: a larger JPEG is scaled down (and turned
    /// upright by its EXIF orientation) before it goes; a small one goes byte for byte.
    @Test func aLargeJPEGIsScaledToWhatsAppsPictureSize() async throws {
        let (world, id, receiver) = try await linked()
        let path = "/api/sessions/\(id)/profile/picture"
        let large = MediaSamples.decodableJPEG(width: 1_600, height: 1_200, orientation: 6) { x, _ in x < 800 ? 40 : 220 }
        let set = try await put(world, path, ["base64": Data(large).base64EncodedString(), "mimetype": "image/jpeg"])
        #expect(set.status == 200, "\(set.text)")
        let url = try #require(try await world.simulator.profilePictureURL(of: Self.alice))
        let sent = try #require(try await world.simulator.picture(at: url))
        #expect(MediaProbe.jpegOrientation(of: sent) == 1, "upright, without an EXIF turn")
        let facts = MediaProbe.facts(of: sent)
        #expect(facts.width == 480 && facts.height == 640, "\(facts)")

        let small = MediaSamples.decodableJPEG(width: 320, height: 240) { _, y in y < 120 ? 60 : 200 }
        #expect(try await put(world, path, ["base64": Data(small).base64EncodedString(), "mimetype": "image/jpeg"]).status == 200)
        let kept = try #require(try await world.simulator.profilePictureURL(of: Self.alice))
        #expect(try await world.simulator.picture(at: kept) == small)
        await receiver.stop()
        await world.stop()
    }

    @Test func refusalsCarryOpenWAsStatuses() async throws {
        let (world, id, receiver) = try await linked(maxBytes: 2_048)
        // Bob's group, locked to admins: Alice is only a member.
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Bob's", members: [Self.alice]).id
        _ = try await receiver.wait("group.join") { $0.contains { $0.event == "group.join" } }
        try await world.simulator.setGroupSetting(group, actor: Self.bob, setting: "locked")
        let path = "/api/sessions/\(id)/groups/\(group)/picture"
        let small = Data(Self.image(500, seed: 4)).base64EncodedString()
        let refused = try await put(world, path, ["base64": small, "mimetype": "image/jpeg"])
        #expect(refused.status == 403, "\(refused.text)")
        #expect(refused.object["statusCode"] as? Int == 403)
        #expect(try await world.simulator.group(group).picture == nil)
        let cases: [([String: Any], Int)] = [
            (["base64": small, "mimetype": "text/plain"], 400),
            (["base64": small], 400),
            ([:], 400),
            (["base64": small, "url": "https://example.com/a.jpg", "mimetype": "image/jpeg"], 400),
            (["base64": small, "mimetype": "image/jpeg", "caption": "x"], 400),
            (["base64": Data(Self.image(4_000, seed: 5)).base64EncodedString(), "mimetype": "image/jpeg"], 413),
        ]
        for (body, status) in cases {
            let response = try await put(world, path, body)
            #expect(response.status == status, "\(body.keys.sorted()): \(response.text)")
            #expect(response.object["statusCode"] as? Int == status)
        }
        let files = try await MediaFileServer.start(["notes.txt": .init(bytes: Array("hello".utf8), contentType: "text/plain")])
        let notImage = try await put(world, path, ["url": files.url("notes.txt")])
        #expect(notImage.status == 400, "\(notImage.text)")
        await files.stop()
        // A group Alice is not in looks like no group at all.
        let other = try await world.simulator.createGroup(by: Self.bob, subject: "Private", members: [Self.carol]).id
        let hidden = try await world.gateway.request("GET", "/api/sessions/\(id)/groups/\(other)/picture")
        #expect(hidden.status == 404, "\(hidden.text)")
        #expect(hidden.object["message"] as? String == "Group \(other) not found")
        let badID = try await world.gateway.request("GET", "/api/sessions/\(id)/groups/not-a-group/picture")
        #expect(badID.status == 400)
        await receiver.stop()
        await world.stop()
    }
}
