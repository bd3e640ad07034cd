import Foundation
import Reactor
import WAProtocol

/// A simulated group (reactor thread only): its metadata, its members by phone and role, and
/// its invite code (reference part 2, 6.1).
final class SimulatorGroup {
    enum Role: String {
        case member, admin, superadmin
    }

    let id: String
    let creator: String
    let creation: UInt64
    var subject: String
    var subjectOwner: String
    var subjectTime: UInt64
    var description: (id: String, body: String, owner: String, time: UInt64)?
    var announce = false
    var locked = false
    var memberAddMode = "all_member_add"
    var ephemeral: Int?
    var inviteCode: String
    /// Joining by invite link needs an admin's approval (`membership_approval_mode`).
    var joinApproval = false
    /// Requests to join awaiting an admin, oldest first.
    var pendingRequests: [(phone: String, time: UInt64, method: String)] = []
    /// The group picture: its id and the media host URL that serves it.
    var picture: (id: String, url: String)?
    /// Members in the order they joined.
    private(set) var members: [(phone: String, role: Role)] = []

    init(id: String, creator: String, subject: String, time: UInt64) {
        self.id = id
        self.creator = creator
        creation = time
        self.subject = subject
        subjectOwner = creator
        subjectTime = time
        inviteCode = Self.newInviteCode()
        members = [(creator, .superadmin)]
    }

    var jid: JID { JID(user: id, server: JID.Server.group) }

    func role(of phone: String) -> Role? { members.first { $0.phone == phone }?.role }

    func isAdmin(_ phone: String) -> Bool { role(of: phone).map { $0 != .member } ?? false }

    func add(_ phone: String) { if role(of: phone) == nil { members.append((phone, .member)) } }

    func remove(_ phone: String) { members.removeAll { $0.phone == phone } }

    func setRole(_ phone: String, _ role: Role) {
        guard let index = members.firstIndex(where: { $0.phone == phone }), members[index].role != .superadmin else { return }
        members[index].role = role
    }

    /// 22 characters of the URL-safe alphabet, like WhatsApp's codes.
    static func newInviteCode() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<22).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// `<group …>` with every member, as a metadata query answers (section 6.1).
    func node() -> BinaryNode {
        var children = members.map { member -> BinaryNode in
            var attributes: NodeAttributes = ["jid": .jid(JID(user: member.phone, server: JID.Server.user))]
            if member.role != .member { attributes.append("type", .string(member.role.rawValue)) }
            return BinaryNode("participant", attributes)
        }
        if let description {
            children.append(
                BinaryNode(
                    "description",
                    [
                        "id": .string(description.id), "participant": .jid(JID(user: description.owner, server: JID.Server.user)),
                        "t": .string(String(description.time)),
                    ],
                    children: [BinaryNode("body", bytes: Array(description.body.utf8))]))
        }
        if announce { children.append(BinaryNode("announcement")) }
        if locked { children.append(BinaryNode("locked")) }
        if let ephemeral { children.append(BinaryNode("ephemeral", ["expiration": .string(String(ephemeral))])) }
        children.append(BinaryNode("member_add_mode", bytes: Array(memberAddMode.utf8)))
        if joinApproval {
            children.append(BinaryNode("membership_approval_mode", children: [BinaryNode("group_join", ["state": "on"])]))
        }
        return BinaryNode(
            "group",
            [
                "id": .string(id), "subject": .string(subject), "s_t": .string(String(subjectTime)),
                "s_o": .jid(JID(user: subjectOwner, server: JID.Server.user)), "creation": .string(String(creation)),
                "creator": .jid(JID(user: creator, server: JID.Server.user)), "size": .string(String(members.count)),
                "addressing_mode": "pn",
            ],
            children: children)
    }
}

/// A phone's sender keys: the chains other members distributed to it, its own sending chain per
/// group, and which companion devices already hold its chain (reactor thread only).
final class PhoneGroupKeys {
    /// By `SenderKeyName` description (group and sending device).
    var received: [String: SenderKeyRecord] = [:]
    /// Our own sending record per group id.
    var own: [String: SenderKeyRecord] = [:]
    /// Devices (`SignalAddress`) that got our distribution message, per group id.
    var distributed: [String: Set<SignalAddress>] = [:]
}

/// A group as the admin API reports it.
package struct GroupSnapshot: Sendable, Equatable, Codable {
    package struct Member: Sendable, Equatable, Codable {
        package let phone: String
        package let role: String
    }

    /// `<id>@g.us`.
    package let id: String
    package let subject: String
    package let description: String?
    package let announce: Bool
    package let locked: Bool
    package let inviteCode: String
    /// The picture's URL on the simulator's media host.
    package let picture: String?
    package let joinApproval: Bool
    /// Phones whose requests to join await an admin.
    package let pendingRequests: [String]
    package let members: [Member]

    init(_ group: SimulatorGroup) {
        id = group.jid.description
        subject = group.subject
        description = group.description?.body
        announce = group.announce
        locked = group.locked
        inviteCode = group.inviteCode
        picture = group.picture?.url
        joinApproval = group.joinApproval
        pendingRequests = group.pendingRequests.map(\.phone)
        members = group.members.map { Member(phone: $0.phone, role: $0.role.rawValue) }
    }
}

extension SimulatorCore {
    /// A new group made by `creator` with the phones in `members` that exist.
    func makeGroup(creator: String, subject: String, members: [String]) -> SimulatorGroup {
        var id: String
        repeat {
            id = "120363" + String((0..<12).map { _ in Character(String(Int.random(in: 0...9))) })
        } while groups[id] != nil
        let group = SimulatorGroup(id: id, creator: creator, subject: subject, time: unixNow())
        for phone in members where accounts[phone] != nil && phone != creator { group.add(phone) }
        groups[id] = group
        return group
    }

    /// The group a wire or OpenWA id names.
    func group(_ id: String) throws(SimulatorError) -> SimulatorGroup {
        let user = id.split(separator: "@").first.map(String.init) ?? id
        guard let group = groups[user] else { throw .notFound("no group \(id)") }
        return group
    }

    /// Admin: a phone creates a group (its companions are told as WhatsApp would).
    func createGroup(by phone: String, subject: String, members: [String]) throws(SimulatorError) -> GroupSnapshot {
        _ = try account(phone)
        guard !subject.isEmpty else { throw .badRequest("subject must not be empty") }
        let group = makeGroup(creator: phone, subject: subject, members: members)
        notifyGroup(
            group, actor: phone, affected: [],
            change: BinaryNode("create", children: [group.node()]), except: nil)
        return GroupSnapshot(group)
    }

    func groupSnapshot(_ id: String) throws(SimulatorError) -> GroupSnapshot { GroupSnapshot(try group(id)) }

    /// `<notification type="w:gp2">` for one change, to every companion of every member and of
    /// the `affected` phones (removed ones), or only of the `recipients` phones, except the device that made the change (it has the
    /// iq's answer). Only online companions get it; one that was offline queries the metadata
    /// when it next needs it.
    func notifyGroup(
        _ group: SimulatorGroup, actor: String, affected: [String], change: BinaryNode, except: Companion?, type: String = "w:gp2",
        only recipients: [String]? = nil
    ) {
        let phones = recipients ?? (group.members.map(\.phone) + affected.filter { group.role(of: $0) == nil })
        let actorJID = JID(user: actor, server: JID.Server.user)
        for phone in phones {
            guard let account = accounts[phone] else { continue }
            for companion in account.companions.values where companion !== except {
                guard let connection = companion.connection, connection.isOnline else { continue }
                connection.send(
                    BinaryNode(
                        "notification",
                        [
                            "from": .jid(group.jid), "type": .string(type), "id": .string(connection.makeID()),
                            "t": .string(String(unixNow())), "participant": .jid(actorJID),
                            "notify": .string(accounts[actor]?.pushName ?? actor),
                        ],
                        children: [change]))
            }
        }
    }
}
