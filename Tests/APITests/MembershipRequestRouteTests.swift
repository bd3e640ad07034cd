import Engines
import Foundation
import Reactor
import Simulator
import Testing
import TestSupport

/// Membership requests through REST, the native engine and the simulator (reference 2.7): in a
/// group that needs approval a join by invite link waits as a request, the session's admin
/// lists, approves and rejects them, and the approved phone becomes a member.
@Suite(.timeLimit(.minutes(2))) struct MembershipRequestRouteTests {
    static let alice = "15550230001"
    static let bob = "15550230002"
    static let carol = "15550230003"
    static let dave = "15550230004"

    private func linked() async throws -> (LinkWorld, String, WebhookReceiver) {
        try await LinkWorld.linkedWithWebhooks(
            .sqlite, phones: [Self.alice, Self.bob, Self.carol, Self.dave], linking: Self.alice,
            events: ["group.join", "group.join_request"])
    }

    @Test func requestsAreListedApprovedAndRejected() async throws {
        let (world, id, receiver) = try await linked()
        let created = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/groups", body: #"{"name":"Gated","participants":["\#(Self.bob)"]}"#)
        let group = try #require(created.object["id"] as? String, "\(created.text)")
        let base = "/api/sessions/\(id)/groups/\(group)/membership-requests"
        #expect(try await world.gateway.request("GET", base).array.isEmpty)
        try await world.simulator.setJoinApproval(group, actor: Self.alice, on: true)
        let invite = try await world.gateway.request("GET", "/api/sessions/\(id)/groups/\(group)/invite-code")
        let code = try #require(invite.object["inviteCode"] as? String, "\(invite.text)")
        for phone in [Self.carol, Self.dave] {
            let joined = try await world.simulator.joinGroup(phone: phone, code: code)
            #expect(joined.group == group)
            #expect(joined.pending)
        }
        let requests = try await receiver.wait("two join requests") { $0.filter { $0.event == "group.join_request" }.count == 2 }
        let first = try #require(requests.first { $0.event == "group.join_request" })
        #expect(first.data["groupId"] as? String == group)
        #expect(first.data["participantIds"] as? [String] == ["\(Self.carol)@c.us"])

        let pending = try await world.gateway.request("GET", base)
        #expect(pending.status == 200, "\(pending.text)")
        #expect(pending.array.compactMap { $0["participantId"] as? String } == ["\(Self.carol)@c.us", "\(Self.dave)@c.us"])
        #expect(pending.array.first?["method"] as? String == "invite_link")
        #expect(pending.array.first?["requestedAt"] is Int)

        let approved = try await world.gateway.request("POST", base + "/approve", body: #"{"participants":["\#(Self.carol)@c.us"]}"#)
        #expect(approved.status == 200, "\(approved.text)")
        #expect(approved.object["message"] as? String == "Membership requests approved")
        let results = try #require(approved.object["results"] as? [[String: Any]])
        #expect(results.map { $0["id"] as? String } == ["\(Self.carol)@c.us"])
        #expect(results.map { $0["success"] as? Bool } == [true])
        #expect(try await world.simulator.group(group).members.map(\.phone) == [Self.alice, Self.bob, Self.carol])
        let info = try await world.gateway.request("GET", "/api/sessions/\(id)/groups/\(group)")
        let members = (info.object["participants"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        #expect(members.contains("\(Self.carol)@c.us"), "\(info.text)")

        // No list: every pending request is answered.
        let rejected = try await world.gateway.request("POST", base + "/reject")
        #expect(rejected.status == 200, "\(rejected.text)")
        #expect(rejected.object["message"] as? String == "Membership requests rejected")
        #expect((rejected.object["results"] as? [[String: Any]])?.map { $0["id"] as? String } == ["\(Self.dave)@c.us"])
        let snapshot = try await world.simulator.group(group)
        #expect(snapshot.pendingRequests.isEmpty)
        #expect(!snapshot.members.map(\.phone).contains(Self.dave))
        let stale = try await world.gateway.request("POST", base + "/approve", body: #"{"participants":["\#(Self.dave)"]}"#)
        #expect(stale.status == 200, "\(stale.text)")
        let staleResult = (stale.object["results"] as? [[String: Any]])?.first
        #expect(staleResult?["success"] as? Bool == false)
        #expect(staleResult?["status"] as? Int == 404)
        #expect(try await world.gateway.request("GET", base).array.isEmpty)
        await receiver.stop()
        await world.stop()
    }

    @Test func refusalsCarryOpenWAsStatuses() async throws {
        let (world, id, receiver) = try await linked()
        // Bob's group needs approval; Alice is only a member of it.
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Bob's", members: [Self.alice]).id
        _ = try await receiver.wait("group.join") { $0.contains { $0.event == "group.join" } }
        try await world.simulator.setJoinApproval(group, actor: Self.bob, on: true)
        let base = "/api/sessions/\(id)/groups/\(group)/membership-requests"
        let list = try await world.gateway.request("GET", base)
        #expect(list.status == 403, "\(list.text)")
        #expect(list.object["statusCode"] as? Int == 403)
        let approve = try await world.gateway.request("POST", base + "/approve", body: #"{"participants":["\#(Self.carol)"]}"#)
        #expect(approve.status == 403, "\(approve.text)")
        for body in [#"{"participants":[]}"#, #"{"participants":["not a number"]}"#, #"{"participants":["\#(Self.carol)"],"x":1}"#] {
            let response = try await world.gateway.request("POST", base + "/reject", body: body)
            #expect(response.status == 400, "\(body): \(response.text)")
        }
        // The session itself joins a group that needs approval: its request waits (409).
        let gated = try await world.simulator.createGroup(by: Self.bob, subject: "Gate", members: [Self.carol])
        try await world.simulator.setJoinApproval(gated.id, actor: Self.bob, on: true)
        let join = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/groups/join", body: #"{"inviteCode":"\#(gated.inviteCode)"}"#)
        #expect(join.status == 409, "\(join.text)")
        #expect(try await world.simulator.group(gated.id).pendingRequests == [Self.alice])
        await receiver.stop()
        await world.stop()
    }
}
