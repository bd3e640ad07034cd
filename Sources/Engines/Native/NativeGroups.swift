import Foundation
import Reactor
import WAProtocol

/// Group iqs (reference part 2, 6.1-6.2): metadata, the joined list, creation, members,
/// subject, description, settings, leaving and invite codes. Answers come back in OpenWA's id
/// dialect; refusals keep their meaning (404 no such group, 403 not a member or not an admin).
extension LinkRef {
    static let groupServer = JID(server: JID.Server.group)

    private func groupRequest(to: JID, type: String, _ children: [BinaryNode]) async throws -> BinaryNode {
        try await request(BinaryNode("iq", ["to": .jid(to), "type": .string(type), "xmlns": "w:g2"], children: children))
    }

    /// A group's metadata, from the link's cache while no notification has dropped it.
    func groupInfo(_ group: JID) async throws -> GroupInfo {
        let cached: GroupInfo? = try await withLink { link, continuation in
            continuation.resume(returning: link.groupCache[group.description])
        }
        if let cached { return cached }
        let reply = try await groupRequest(to: group, type: "get", [BinaryNode("query", ["request": "interactive"])])
        guard let node = reply.child("group"), let info = Self.groupInfo(node) else {
            throw EngineError.unavailable("WhatsApp answered the group query without a group")
        }
        try await remember(info, for: group)
        return info
    }

    private func remember(_ info: GroupInfo, for group: JID) async throws {
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.groupCache[group.description] = info
            continuation.resume()
        }
    }

    func joinedGroups() async throws -> [GroupInfo] {
        let reply = try await groupRequest(
            to: Self.groupServer, type: "get", [BinaryNode("participating", children: [BinaryNode("participants"), BinaryNode("description")])])
        return (reply.child("groups")?.children("group") ?? []).compactMap(Self.groupInfo)
    }

    func createGroup(subject: String, participants: [JID]) async throws -> GroupInfo {
        let create = BinaryNode(
            "create", ["subject": .string(subject), "key": .string(try MessageCodec.newMessageID(ownUser: nil))],
            children: participants.map { BinaryNode("participant", ["jid": .jid($0)]) })
        let reply = try await groupRequest(to: Self.groupServer, type: "set", [create])
        guard let node = reply.child("group"), let info = Self.groupInfo(node) else {
            throw EngineError.unavailable("WhatsApp answered the group creation without a group")
        }
        return info
    }

    func changeParticipants(_ group: JID, action: ParticipantAction, participants: [JID]) async throws -> [ParticipantResult] {
        let change = BinaryNode(action.rawValue, children: participants.map { BinaryNode("participant", ["jid": .jid($0)]) })
        let reply = try await groupRequest(to: group, type: "set", [change])
        try await forget(group)
        let echoed = reply.child(action.rawValue)?.children("participant") ?? []
        return participants.map { jid in
            let entry = echoed.first { $0.attributes.jid("jid")?.user == jid.user }
            let code = entry?.attributes.string("error").flatMap(Int.init)
            return ParticipantResult(
                id: NativeLink.neutral(jid), success: entry != nil && code == nil, status: code,
                message: code.map(Self.participantMessage) ?? (entry == nil ? "not in WhatsApp's answer" : nil))
        }
    }

    func setSubject(_ group: JID, _ subject: String) async throws {
        _ = try await groupRequest(to: group, type: "set", [BinaryNode("subject", bytes: Array(subject.utf8))])
        try await forget(group)
    }

    /// Replaces the description (an empty one deletes it); `prev` names the one it replaces.
    func setDescription(_ group: JID, _ description: String) async throws {
        let current = try await groupInfo(group)
        var attributes: NodeAttributes = ["id": .string(try MessageCodec.newMessageID(ownUser: nil))]
        if let previous = current.descriptionID { attributes.append("prev", .string(previous)) }
        let node: BinaryNode
        if description.isEmpty {
            attributes.append("delete", "true")
            node = BinaryNode("description", attributes)
        } else {
            node = BinaryNode("description", attributes, children: [BinaryNode("body", bytes: Array(description.utf8))])
        }
        _ = try await groupRequest(to: group, type: "set", [node])
        try await forget(group)
    }

    /// One iq per setting, in a fixed order (announce, locked, ephemeral, who may add).
    func updateSettings(_ group: JID, _ settings: GroupSettingsChange) async throws {
        var nodes: [BinaryNode] = []
        if let announce = settings.announce { nodes.append(BinaryNode(announce ? "announcement" : "not_announcement")) }
        if let locked = settings.locked { nodes.append(BinaryNode(locked ? "locked" : "unlocked")) }
        if let seconds = settings.ephemeralSeconds {
            nodes.append(seconds == 0 ? BinaryNode("not_ephemeral") : BinaryNode("ephemeral", ["expiration": .string(String(seconds))]))
        }
        if let mode = settings.memberAddMode {
            nodes.append(BinaryNode("member_add_mode", bytes: Array((mode == "admins" ? "admin_add" : "all_member_add").utf8)))
        }
        for node in nodes { _ = try await groupRequest(to: group, type: "set", [node]) }
        try await forget(group)
    }

    func leaveGroup(_ group: JID) async throws {
        _ = try await groupRequest(
            to: Self.groupServer, type: "set", [BinaryNode("leave", children: [BinaryNode("group", ["id": .jid(group)])])])
        try await forget(group)
    }

    func inviteCode(_ group: JID, revoke: Bool) async throws -> String {
        let reply = try await groupRequest(to: group, type: revoke ? "set" : "get", [BinaryNode("invite")])
        guard let code = reply.child("invite")?.attributes.string("code") else {
            throw EngineError.unavailable("WhatsApp answered without an invite code")
        }
        return code
    }

    func inviteInfo(_ code: String) async throws -> GroupInfo {
        let reply = try await groupRequest(to: Self.groupServer, type: "get", [BinaryNode("invite", ["code": .string(code)])])
        guard let node = reply.child("group"), let info = Self.groupInfo(node) else {
            throw EngineError.notFound("No group for this invite code")
        }
        return info
    }

    func join(code: String) async throws -> String {
        let reply = try await groupRequest(to: Self.groupServer, type: "set", [BinaryNode("invite", ["code": .string(code)])])
        guard let jid = reply.child("group")?.attributes.jid("jid") else {
            throw EngineError.conflict("The join request awaits an admin's approval")
        }
        return NativeLink.neutral(jid)
    }

    func forget(_ group: JID) async throws {
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.groupCache[group.description] = nil
            continuation.resume()
        }
    }

    static func participantMessage(_ code: Int) -> String {
        switch code {
        case 403: return "The participant's privacy settings require an invite"
        case 404: return "Not on WhatsApp or not in the group"
        case 409: return "Already a participant"
        default: return "WhatsApp refused the change (\(code))"
        }
    }

    /// `<group …>` as OpenWA shows it.
    static func groupInfo(_ node: BinaryNode) -> GroupInfo? {
        guard let id = node.attributes.string("id") ?? node.attributes.jid("jid")?.user else { return nil }
        let user = id.split(separator: "@").first.map(String.init) ?? id
        let participants = node.children("participant").compactMap { participant -> GroupInfo.Participant? in
            guard let jid = participant.attributes.jid("jid") else { return nil }
            let type = participant.attributes.string("type")
            return GroupInfo.Participant(
                id: NativeLink.neutral(jid.bare), isAdmin: type == "admin" || type == "superadmin", isSuperAdmin: type == "superadmin")
        }
        let description = node.child("description")
        var info = GroupInfo(
            id: "\(user)@\(JID.Server.group)", name: node.attributes.string("subject") ?? "",
            description: description?.child("body")?.contentBytes.map { String(decoding: $0, as: UTF8.self) },
            owner: node.attributes.jid("creator").map { NativeLink.neutral($0.bare) },
            createdAt: node.attributes.string("creation").flatMap(Int.init),
            announce: node.child("announcement") != nil, locked: node.child("locked") != nil,
            memberAddMode: node.child("member_add_mode")?.contentBytes.map { String(decoding: $0, as: UTF8.self) == "admin_add" ? "admins" : "all" },
            ephemeralSeconds: node.child("ephemeral")?.attributes.string("expiration").flatMap(Int.init),
            linkedParentJID: node.child("linked_parent")?.attributes.jid("jid").map { NativeLink.neutral($0) },
            participants: participants)
        info.descriptionID = description?.attributes.string("id")
        return info
    }
}
