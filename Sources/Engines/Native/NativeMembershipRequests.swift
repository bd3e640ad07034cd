import Foundation
import Reactor
import WAProtocol

/// Requests to join a group that needs an admin's approval (reference part 2, 6.2):
/// `<membership_approval_requests/>` lists them, `<membership_requests_action>` answers them.
extension LinkRef {
    func membershipRequests(_ group: JID) async throws -> [MembershipRequest] {
        let reply = try await request(
            BinaryNode("iq", ["to": .jid(group), "type": "get", "xmlns": "w:g2"], children: [BinaryNode("membership_approval_requests")]))
        let entries = reply.child("membership_approval_requests")?.children("membership_approval_request") ?? []
        return entries.compactMap { entry in
            guard let jid = entry.attributes.jid("jid") else { return nil }
            return MembershipRequest(
                participantID: NativeLink.neutral(jid.bare),
                addedByID: entry.attributes.jid("requestor").map { NativeLink.neutral($0.bare) },
                method: entry.attributes.string("request_method"), requestedAt: entry.attributes.string("request_time").flatMap(Int.init))
        }
    }

    func answerMembershipRequests(_ group: JID, approve: Bool, participants: [JID]) async throws -> [ParticipantResult] {
        let tag = approve ? "approve" : "reject"
        let action = BinaryNode(
            "membership_requests_action",
            children: [BinaryNode(tag, children: participants.map { BinaryNode("participant", ["jid": .jid($0)]) })])
        let reply = try await request(BinaryNode("iq", ["to": .jid(group), "type": "set", "xmlns": "w:g2"], children: [action]))
        try await forget(group)
        let echoed = reply.child("membership_requests_action")?.child(tag)?.children("participant") ?? []
        return participants.map { jid in
            let entry = echoed.first { $0.attributes.jid("jid")?.user == jid.user }
            let code = entry?.attributes.string("error").flatMap(Int.init)
            let message = code.map { $0 == 404 ? "No pending request from this participant" : "WhatsApp refused the change (\($0))" }
            return ParticipantResult(
                id: NativeLink.neutral(jid), success: entry != nil && code == nil, status: code,
                message: message ?? (entry == nil ? "not in WhatsApp's answer" : nil))
        }
    }
}

extension NativeEngine {
    package func membershipRequests(group: String) async throws -> [MembershipRequest] {
        try await linkRef().membershipRequests(try Self.groupJID(group))
    }

    package func answerMembershipRequests(group: String, approve: Bool, participants: [String]?) async throws -> [ParticipantResult] {
        let jid = try Self.groupJID(group)
        let link = try await linkRef()
        let targets: [JID]
        if let participants {
            targets = try Self.memberJIDs(participants)
        } else {
            targets = try await link.membershipRequests(jid).map { try NativeLink.recipient(of: $0.participantID) }
        }
        guard !targets.isEmpty else { return [] }
        return try await link.answerMembershipRequests(jid, approve: approve, participants: targets)
    }
}
