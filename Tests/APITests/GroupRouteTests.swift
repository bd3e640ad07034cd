import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// The group routes through REST, the native engine and simulated phones (reference 2.7), with
/// group messages stored in SQLite or PostgreSQL and group events delivered to a webhook.
@Suite(.timeLimit(.minutes(2))) struct GroupRouteTests {
    static let alice = "15550200001"
    static let bob = "15550200002"
    static let carol = "15550200003"

    private func linked(_ backend: DataBackend) async throws -> (LinkWorld, String, WebhookReceiver) {
        try await LinkWorld.linkedWithWebhooks(
            backend, phones: [Self.alice, Self.bob, Self.carol], linking: Self.alice,
            events: ["message.received", "group.join", "group.leave", "group.update"])
    }

    @Test(arguments: DataBackend.available)
    func createManageAndMessageAGroup(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        let base = "/api/sessions/\(id)/groups"
        let created = try await world.gateway.request(
            "POST", base, body: #"{"name":"Launch","participants":["\#(Self.bob)@c.us","\#(Self.carol)"]}"#)
        #expect(created.status == 201, "\(created.text)")
        let group = try #require(created.object["id"] as? String)
        #expect(group.hasSuffix("@g.us"))
        #expect(created.object["participantsCount"] as? Int == 3)
        #expect(created.object["isAdmin"] as? Bool == true)
        let list = try await world.gateway.request("GET", base)
        #expect(list.array.compactMap { $0["id"] as? String } == [group])

        let removed = try await world.gateway.request("DELETE", "\(base)/\(group)/participants", body: #"{"participants":["\#(Self.carol)@c.us"]}"#)
        #expect(removed.status == 200, "\(removed.text)")
        #expect(removed.object["message"] as? String == "Participants removed")
        let added = try await world.gateway.request(
            "POST", "\(base)/\(group)/participants", body: #"{"participants":["\#(Self.carol)@c.us","\#(Self.bob)@c.us"]}"#)
        #expect(added.status == 200, "\(added.text)")
        let results = try #require(added.object["results"] as? [[String: Any]])
        #expect(results.map { $0["success"] as? Bool } == [true, false])
        #expect(results.last?["status"] as? Int == 409)
        let promoted = try await world.gateway.request(
            "POST", "\(base)/\(group)/participants/promote", body: #"{"participants":["\#(Self.bob)@c.us"]}"#)
        #expect(promoted.object["message"] as? String == "Participants promoted to admin")
        for (path, body, message) in [
            ("subject", #"{"subject":"Launch day"}"#, "Group subject updated"),
            ("description", #"{"description":"T minus 3"}"#, "Group description updated"),
            ("settings", #"{"announce":true,"memberAddMode":"admins"}"#, "Group settings updated"),
        ] {
            let response = try await world.gateway.request("PUT", "\(base)/\(group)/\(path)", body: body)
            #expect(response.status == 200, "\(path): \(response.text)")
            #expect(response.object["message"] as? String == message)
        }
        let info = try await world.gateway.request("GET", "\(base)/\(group)")
        #expect(info.status == 200, "\(info.text)")
        #expect(info.object["name"] as? String == "Launch day")
        #expect(info.object["description"] as? String == "T minus 3")
        #expect(info.object["isAnnounce"] as? Bool == true)
        let members = try #require(info.object["participants"] as? [[String: Any]])
        #expect(members.first { $0["id"] as? String == "\(Self.alice)@c.us" }?["isSuperAdmin"] as? Bool == true)
        #expect(members.first { $0["id"] as? String == "\(Self.bob)@c.us" }?["isAdmin"] as? Bool == true)
        #expect(members.first { $0["id"] as? String == "\(Self.bob)@c.us" }?["number"] as? String == Self.bob)
        let settings = try await world.gateway.request("GET", "\(base)/\(group)/settings")
        #expect(settings.object["announce"] as? Bool == true)
        #expect(settings.object["memberAddMode"] as? String == "admins")
        let snapshot = try await world.simulator.group(group)
        #expect(snapshot.subject == "Launch day")
        #expect(snapshot.members.map(\.phone) == [Self.alice, Self.bob, Self.carol])

        // A message to the group reaches every member's phone; a member's answer is stored with its author.
        let sent = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"\#(group)","text":"go for launch"}"#)
        #expect(sent.status == 201, "\(sent.text)")
        for phone in [Self.bob, Self.carol] {
            #expect(try await world.simulator.inbox(of: phone).map(\.body) == ["go for launch"])
        }
        let answer = try await world.simulator.sendMessage(from: Self.bob, to: group, text: "go")
        let deliveries = try await receiver.wait("Bob's answer") { $0.contains { $0.data["id"] as? String == answer.id } }
        let received = try #require(deliveries.first { $0.data["id"] as? String == answer.id })
        #expect(received.data["chatId"] as? String == group)
        #expect(received.data["author"] as? String == "\(Self.bob)@c.us")
        #expect(received.data["isGroup"] as? Bool == true)
        let rows = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?chatId=\(group)")
        let stored = try #require(rows.object["messages"] as? [[String: Any]])
        #expect(Set(stored.compactMap { $0["body"] as? String }) == ["go for launch", "go"])
        #expect(stored.first { $0["body"] as? String == "go" }?["author"] as? String == "\(Self.bob)@c.us")

        // Bob renames the group: the session hears it as group.update.
        try await world.simulator.setGroupSubject(group, actor: Self.bob, subject: "Renamed")
        let update = try await receiver.wait("group.update") { $0.contains { $0.event == "group.update" } }
        let event = try #require(update.first { $0.event == "group.update" })
        #expect(event.data["groupId"] as? String == group)
        #expect(event.data["actorId"] as? String == "\(Self.bob)@c.us")
        #expect((event.data["changes"] as? [String: Any])?["subject"] as? String == "Renamed")

        let code = try await world.gateway.request("GET", "\(base)/\(group)/invite-code")
        let invite = try #require(code.object["inviteCode"] as? String)
        #expect(code.object["inviteLink"] as? String == "https://chat.whatsapp.com/\(invite)")
        let joinInfo = try await world.gateway.request("GET", "\(base)/join-info?code=\(invite)")
        #expect(joinInfo.object["id"] as? String == group)
        let revoked = try await world.gateway.request("POST", "\(base)/\(group)/invite-code/revoke")
        #expect(revoked.object["message"] as? String == "Invite code revoked and new one generated")
        #expect(revoked.object["inviteCode"] as? String != invite)
        let stale = try await world.gateway.request("GET", "\(base)/join-info?code=\(invite)")
        #expect(stale.status == 404, "\(stale.text)")
        let left = try await world.gateway.request("POST", "\(base)/\(group)/leave")
        #expect(left.object["message"] as? String == "Left the group")
        #expect(try await world.simulator.group(group).members.map(\.phone) == [Self.bob, Self.carol])
        let gone = try await world.gateway.request("GET", "\(base)/\(group)")
        #expect(gone.status == 404)
        #expect(gone.object["message"] as? String == "Group \(group) not found")
        await receiver.stop()
        await world.stop()
    }

    @Test func refusalsAndBadRequests() async throws {
        let (world, id, receiver) = try await linked(.sqlite)
        let base = "/api/sessions/\(id)/groups"
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Bob's", members: [Self.alice]).id
        _ = try await receiver.wait("group.join") { $0.contains { $0.event == "group.join" } }
        // Not an admin: every participant refused is a 403 with OpenWA's body.
        let refused = try await world.gateway.request("POST", "\(base)/\(group)/participants/promote", body: #"{"participants":["\#(Self.alice)"]}"#)
        #expect(refused.status == 403, "\(refused.text)")
        #expect(refused.object["statusCode"] as? Int == 403)
        let settings = try await world.gateway.request("PUT", "\(base)/\(group)/settings", body: #"{"locked":true}"#)
        #expect(settings.status == 403, "\(settings.text)")
        let unknown = try await world.gateway.request("GET", "\(base)/120363999999999999@g.us")
        #expect(unknown.status == 404)
        for (method, path, body) in [
            ("POST", base, #"{"name":"","participants":[]}"#),
            ("POST", base, #"{"name":"x","participants":["not a number"]}"#),
            ("POST", base, #"{"name":"x","participants":["\#(Self.bob)"],"extra":1}"#),
            ("PUT", "\(base)/\(group)/subject", #"{"subject":"\#(String(repeating: "a", count: 101))"}"#),
            ("PUT", "\(base)/\(group)/settings", #"{}"#),
            ("PUT", "\(base)/\(group)/settings", #"{"ephemeralSeconds":5}"#),
            ("GET", "\(base)/not-a-group", ""),
            ("POST", "\(base)/join", #"{"inviteCode":""}"#),
        ] {
            let response = try await world.gateway.request(method, path, body: body.isEmpty ? nil : body)
            #expect(response.status == 400, "\(method) \(path) \(body): \(response.text)")
        }
        let noSession = try await world.gateway.request("GET", "/api/sessions/nope/groups")
        #expect(noSession.status == 404)
        // The process keeps serving after all of that.
        #expect(try await world.gateway.request("GET", "\(base)/\(group)").status == 200)
        await receiver.stop()
        await world.stop()
    }
}
