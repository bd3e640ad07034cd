import Foundation
import Reactor
import WAProtocol

/// Group changes as the server makes them (reference part 2, 6.2 and 6.4): who may make them,
/// what they do to the group, and the `w:gp2` notification each sends. The `w:g2` iqs and the
/// admin routes both come here; `except` is the device that asked (it gets the answer instead).
extension SimulatorCore {
    func requireMember(_ group: SimulatorGroup, _ phone: String) throws(SimulatorError) {
        guard group.role(of: phone) != nil else { throw SimulatorError(403, "not a participant of \(group.jid)") }
    }

    func requireAdmin(_ group: SimulatorGroup, _ phone: String) throws(SimulatorError) {
        try requireMember(group, phone)
        guard group.isAdmin(phone) else { throw SimulatorError(403, "not an admin of \(group.jid)") }
    }

    /// Adds, removes, promotes or demotes; each phone gets nil (done) or WhatsApp's refusal code
    /// (404 no such account or not a member, 409 already a member).
    func changeParticipants(
        _ group: SimulatorGroup, actor: String, action: String, phones: [String], except: Companion?
    ) throws(SimulatorError) -> [(phone: String, error: Int?)] {
        if action == "add", group.memberAddMode == "all_member_add" {
            try requireMember(group, actor)
        } else {
            try requireAdmin(group, actor)
        }
        var results: [(phone: String, error: Int?)] = []
        var done: [String] = []
        for phone in phones {
            let member = group.role(of: phone) != nil
            let code: Int?
            switch action {
            case "add": code = accounts[phone] == nil ? 404 : member ? 409 : nil
            case "remove", "promote", "demote": code = member ? nil : 404
            default: throw .badRequest("unknown participant action \(action)")
            }
            results.append((phone, code))
            guard code == nil else { continue }
            done.append(phone)
            switch action {
            case "add": group.add(phone)
            case "remove": group.remove(phone)
            case "promote": group.setRole(phone, .admin)
            default: group.setRole(phone, .member)
            }
        }
        if !done.isEmpty {
            let change = BinaryNode(
                action, children: done.map { BinaryNode("participant", ["jid": .jid(JID(user: $0, server: JID.Server.user))]) })
            notifyGroup(group, actor: actor, affected: action == "remove" ? done : [], change: change, except: except)
        }
        if group.members.isEmpty { groups[group.id] = nil }
        return results
    }

    func setSubject(_ group: SimulatorGroup, actor: String, subject: String, except: Companion?) throws(SimulatorError) {
        try requireInfoEditor(group, actor)
        guard !subject.isEmpty, subject.count <= 100 else { throw .badRequest("subject must be 1 to 100 characters") }
        group.subject = subject
        group.subjectOwner = actor
        group.subjectTime = unixNow()
        notifyGroup(
            group, actor: actor, affected: [],
            change: BinaryNode(
                "subject",
                [
                    "subject": .string(subject), "s_t": .string(String(group.subjectTime)),
                    "s_o": .jid(JID(user: actor, server: JID.Server.user)),
                ]),
            except: except)
    }

    /// A nil body deletes the description.
    func setDescription(_ group: SimulatorGroup, actor: String, body: String?, id: String, except: Companion?) throws(SimulatorError) {
        try requireInfoEditor(group, actor)
        guard (body?.count ?? 0) <= 2048 else { throw .badRequest("description must be at most 2048 characters") }
        group.description = body.map { (id, $0, actor, unixNow()) }
        let content = body.map { BinaryNode("body", bytes: Array($0.utf8)) } ?? BinaryNode("delete")
        notifyGroup(
            group, actor: actor, affected: [], change: BinaryNode("description", ["id": .string(id)], children: [content]),
            except: except)
    }

    /// `<announcement/>`, `<locked/>`, `<ephemeral expiration/>`, `<member_add_mode>` and their opposites.
    func setSetting(_ group: SimulatorGroup, actor: String, setting: BinaryNode, except: Companion?) throws(SimulatorError) {
        try requireAdmin(group, actor)
        switch setting.tag {
        case "announcement": group.announce = true
        case "not_announcement": group.announce = false
        case "locked": group.locked = true
        case "unlocked": group.locked = false
        case "not_ephemeral": group.ephemeral = nil
        case "ephemeral":
            guard let seconds = setting.attributes.string("expiration").flatMap(Int.init), [86_400, 604_800, 7_776_000].contains(seconds)
            else { throw .badRequest("unsupported ephemeral expiration") }
            group.ephemeral = seconds
        case "membership_approval_mode":
            guard let state = setting.child("group_join")?.attributes.string("state"), ["on", "off"].contains(state) else {
                throw .badRequest("membership_approval_mode needs <group_join state=\"on|off\"/>")
            }
            group.joinApproval = state == "on"
        case "member_add_mode":
            let mode = setting.contentBytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard ["admin_add", "all_member_add"].contains(mode) else { throw .badRequest("unknown member_add_mode \(mode)") }
            group.memberAddMode = mode
        default:
            throw .badRequest("unknown group setting \(setting.tag)")
        }
        notifyGroup(group, actor: actor, affected: [], change: setting, except: except)
    }

    func leave(_ group: SimulatorGroup, phone: String, except: Companion?) throws(SimulatorError) {
        try requireMember(group, phone)
        group.remove(phone)
        let participant = BinaryNode("participant", ["jid": .jid(JID(user: phone, server: JID.Server.user))])
        notifyGroup(group, actor: phone, affected: [phone], change: BinaryNode("remove", children: [participant]), except: except)
        if group.members.isEmpty { groups[group.id] = nil }
    }

    func group(inviteCode code: String) throws(SimulatorError) -> SimulatorGroup {
        guard let group = groups.values.first(where: { $0.inviteCode == code }) else {
            throw SimulatorError(406, "invalid invite code")
        }
        return group
    }

    /// Joins by invite link; in a group that needs approval the phone's request waits for an
    /// admin instead (`pending`).
    func join(inviteCode code: String, phone: String, except: Companion?) throws(SimulatorError) -> (group: SimulatorGroup, pending: Bool) {
        let group = try group(inviteCode: code)
        guard group.role(of: phone) == nil else { throw .conflict("already a participant of \(group.jid)") }
        if group.joinApproval {
            try requestToJoin(group, phone: phone, method: "invite_link")
            return (group, true)
        }
        group.add(phone)
        let participant = BinaryNode("participant", ["jid": .jid(JID(user: phone, server: JID.Server.user))])
        notifyGroup(group, actor: phone, affected: [], change: BinaryNode("add", ["reason": "invite"], children: [participant]), except: except)
        return (group, false)
    }

    /// Subject and description: any member unless the group is locked.
    func requireInfoEditor(_ group: SimulatorGroup, _ phone: String) throws(SimulatorError) {
        if group.locked { try requireAdmin(group, phone) } else { try requireMember(group, phone) }
    }
}
