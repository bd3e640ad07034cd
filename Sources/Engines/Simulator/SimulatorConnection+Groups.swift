import Foundation
import Reactor
import WAProtocol

/// `<iq xmlns="w:g2">` from a logged-in companion (reference part 2, 6.1-6.2): to `g.us` for
/// create, the joined list, leave and invite codes; to a group for everything else.
extension SimulatorConnection {
    func answerGroupIQ(_ node: BinaryNode) {
        guard let account, let to = node.attributes.jid("to") else { return error(node, code: 400, text: "bad-request") }
        let type = node.attributes.string("type") ?? ""
        do throws(SimulatorError) {
            if to.user.isEmpty {
                try groupServerIQ(node, type: type, phone: account.phone)
            } else {
                try groupIQ(node, group: try core.group(to.user), type: type, phone: account.phone)
            }
        } catch {
            self.error(node, code: error.status, text: error.message)
        }
    }

    private func groupServerIQ(_ node: BinaryNode, type: String, phone: String) throws(SimulatorError) {
        if let create = node.child("create"), type == "set" {
            let members = create.children("participant").compactMap { $0.attributes.jid("jid")?.user }
            let group = core.makeGroup(creator: phone, subject: create.attributes.string("subject") ?? "", members: members)
            guard !group.subject.isEmpty else {
                core.groups[group.id] = nil
                throw .badRequest("subject must not be empty")
            }
            result(node, [group.node()])
            core.notifyGroup(
                group, actor: phone, affected: [], change: BinaryNode("create", children: [group.node()]), except: companion)
        } else if node.child("participating") != nil, type == "get" {
            let joined = core.groups.values.filter { $0.role(of: phone) != nil }.sorted { $0.creation < $1.creation }
            result(node, [BinaryNode("groups", children: joined.map { $0.node() })])
        } else if let leave = node.child("leave"), type == "set" {
            for entry in leave.children("group") {
                guard let id = entry.attributes.string("id") else { throw .badRequest("leave needs a group id") }
                try core.leave(try core.group(id), phone: phone, except: companion)
            }
            result(node)
        } else if let invite = node.child("invite"), let code = invite.attributes.string("code") {
            if type == "get" {
                result(node, [try core.group(inviteCode: code).node()])
            } else {
                let joined = try core.join(inviteCode: code, phone: phone, except: companion)
                result(node, [BinaryNode(joined.pending ? "membership_approval_request" : "group", ["jid": .jid(joined.group.jid)])])
            }
        } else {
            throw SimulatorError(501, "feature-not-implemented")
        }
    }

    private func groupIQ(_ node: BinaryNode, group: SimulatorGroup, type: String, phone: String) throws(SimulatorError) {
        try core.requireMember(group, phone)
        guard let child = node.children.first else { throw .badRequest("empty group request") }
        switch (type, child.tag) {
        case ("get", "query"):
            result(node, [group.node()])
        case ("get", "invite"), ("set", "invite"):
            try core.requireAdmin(group, phone)
            if type == "set" { group.inviteCode = SimulatorGroup.newInviteCode() }
            result(node, [BinaryNode("invite", ["code": .string(group.inviteCode)])])
        case ("set", "add"), ("set", "remove"), ("set", "promote"), ("set", "demote"):
            let phones = child.children("participant").compactMap { $0.attributes.jid("jid")?.user }
            guard !phones.isEmpty else { throw .badRequest("no participants") }
            let results = try core.changeParticipants(group, actor: phone, action: child.tag, phones: phones, except: companion)
            result(
                node,
                [
                    BinaryNode(
                        child.tag,
                        children: results.map { entry in
                            var attributes: NodeAttributes = ["jid": .jid(JID(user: entry.phone, server: JID.Server.user))]
                            if let code = entry.error { attributes.append("error", .string(String(code))) }
                            return BinaryNode("participant", attributes)
                        })
                ])
        case ("set", "subject"):
            let subject = child.contentBytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
            try core.setSubject(group, actor: phone, subject: subject, except: companion)
            result(node)
        case ("set", "description"):
            let body = child.attributes.string("delete") == "true"
                ? nil : child.child("body")?.contentBytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let id = child.attributes.string("id") ?? makeID()
            try core.setDescription(group, actor: phone, body: body, id: id, except: companion)
            result(node)
        case ("get", "membership_approval_requests"):
            try core.requireAdmin(group, phone)
            result(node, [core.pendingRequestsNode(group)])
        case ("set", "membership_requests_action"):
            result(node, [try core.answerRequests(group, actor: phone, action: child, except: companion)])
        case ("set", _):
            try core.setSetting(group, actor: phone, setting: child, except: companion)
            result(node)
        default:
            throw SimulatorError(501, "feature-not-implemented")
        }
    }
}
