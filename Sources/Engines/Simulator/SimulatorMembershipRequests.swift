import Foundation
import Reactor
import WAProtocol

/// Requests to join a group that needs an admin's approval (reference part 2, 6.2 and 6.4):
/// a join by invite link waits as a request, admins list them and approve (the phone becomes a
/// member, announced as any `add`) or reject them (the request is dropped).
extension SimulatorCore {
    /// Files `phone`'s request; the group's admins hear of it (`created_membership_requests`).
    func requestToJoin(_ group: SimulatorGroup, phone: String, method: String) throws(SimulatorError) {
        guard !group.pendingRequests.contains(where: { $0.phone == phone }) else {
            throw .conflict("a request to join \(group.jid) is already pending")
        }
        group.pendingRequests.append((phone, unixNow(), method))
        let change = BinaryNode(
            "created_membership_requests", ["request_method": .string(method)],
            children: [BinaryNode("participant", ["jid": .jid(JID(user: phone, server: JID.Server.user))])])
        let admins = group.members.filter { $0.role != .member }.map(\.phone)
        notifyGroup(group, actor: phone, affected: [], change: change, except: nil, only: admins)
    }

    func setJoinApproval(_ group: SimulatorGroup, actor: String, on: Bool) throws(SimulatorError) {
        let setting = BinaryNode("membership_approval_mode", children: [BinaryNode("group_join", ["state": .string(on ? "on" : "off")])])
        try setSetting(group, actor: actor, setting: setting, except: nil)
    }

    /// `<membership_approval_requests>` with one `<membership_approval_request jid request_time request_method/>` each.
    func pendingRequestsNode(_ group: SimulatorGroup) -> BinaryNode {
        BinaryNode(
            "membership_approval_requests",
            children: group.pendingRequests.map { request in
                BinaryNode(
                    "membership_approval_request",
                    [
                        "jid": .jid(JID(user: request.phone, server: JID.Server.user)), "request_time": .string(String(request.time)),
                        "request_method": .string(request.method),
                    ])
            })
    }

    /// `<membership_requests_action><approve|reject><participant jid/>…</…></…>` from an admin:
    /// the same shape back, a participant without a pending request marked `error="404"`.
    func answerRequests(
        _ group: SimulatorGroup, actor: String, action: BinaryNode, except: Companion?
    ) throws(SimulatorError) -> BinaryNode {
        try requireAdmin(group, actor)
        guard let decision = action.children.first, ["approve", "reject"].contains(decision.tag) else {
            throw .badRequest("membership_requests_action needs <approve> or <reject>")
        }
        var answered: [BinaryNode] = []
        var approved: [String] = []
        for participant in decision.children("participant") {
            guard let jid = participant.attributes.jid("jid") else { throw .badRequest("participant without jid") }
            var attributes: NodeAttributes = ["jid": .jid(JID(user: jid.user, server: JID.Server.user))]
            if group.pendingRequests.contains(where: { $0.phone == jid.user }) {
                group.pendingRequests.removeAll { $0.phone == jid.user }
                if decision.tag == "approve", group.role(of: jid.user) == nil {
                    group.add(jid.user)
                    approved.append(jid.user)
                }
            } else {
                attributes.append("error", "404")
            }
            answered.append(BinaryNode("participant", attributes))
        }
        if !approved.isEmpty {
            let change = BinaryNode(
                "add", ["reason": "membership_approval"],
                children: approved.map { BinaryNode("participant", ["jid": .jid(JID(user: $0, server: JID.Server.user))]) })
            notifyGroup(group, actor: actor, affected: [], change: change, except: except)
        }
        return BinaryNode("membership_requests_action", children: [BinaryNode(decision.tag, children: answered)])
    }
}

/// What a phone's join by invite link did.
package struct JoinOutcome: Sendable, Equatable, Codable {
    /// `<id>@g.us`.
    package let group: String
    /// The request awaits an admin's approval.
    package let pending: Bool
}

extension Simulator {
    /// The phone joins by invite code, or asks to when the group needs approval.
    package func joinGroup(phone: String, code: String) async throws -> JoinOutcome {
        try await call { core, done in
            done(
                Result { () throws(SimulatorError) in
                    _ = try core.account(phone)
                    let joined = try core.join(inviteCode: code, phone: phone, except: nil)
                    return JoinOutcome(group: joined.group.jid.description, pending: joined.pending)
                })
        }
    }

    /// An admin (`actor`) turns approval of joins by invite link on or off.
    package func setJoinApproval(_ id: String, actor: String, on: Bool) async throws {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.setJoinApproval(try core.group(id), actor: actor, on: on) })
        }
    }
}
