import Foundation
import Reactor
import WAProtocol

/// Presence and typing from the phone side (reference part 2, 3.7 [SIM]): companions subscribe to
/// a phone's presence and hear of every change; a companion's own `available`/`unavailable`
/// sets its account's; a phone's typing reaches the other side's companions.
extension SimulatorCore {
    func presenceNode(of account: Account) -> BinaryNode {
        var attributes: NodeAttributes = ["from": .jid(account.jid)]
        if !account.available {
            attributes.append("type", "unavailable")
            if let last = account.lastSeen { attributes.append("last", .string(String(last))) }
        }
        return BinaryNode("presence", attributes)
    }

    /// A companion's `<presence>`: a subscription to someone, or its account's availability.
    func companionPresence(_ node: BinaryNode, from account: Account, device: UInt16, connection: SimulatorConnection) {
        switch node.attributes.string("type") {
        case "subscribe":
            guard let to = node.attributes.jid("to"), let target = accounts[to.user] else { return }
            target.presenceSubscribers.insert("\(account.phone):\(device)")
            connection.send(presenceNode(of: target))
        case "available":
            // The name a companion announces is the one the server puts in `notify` from now on.
            if let name = node.attributes.string("name"), !name.isEmpty { account.pushName = name }
            setAvailability(of: account, true)
        case "unavailable":
            setAvailability(of: account, false)
        default:
            break
        }
    }

    func setAvailability(of account: Account, _ available: Bool) {
        account.available = available
        if !available { account.lastSeen = unixNow() }
        let node = presenceNode(of: account)
        for subscriber in account.presenceSubscribers {
            let parts = subscriber.split(separator: ":")
            guard parts.count == 2, let owner = accounts[String(parts[0])], let device = UInt16(parts[1]),
                let connection = owner.companions[device]?.connection, connection.isOnline
            else { continue }
            connection.send(node)
        }
    }

    /// Admin: the phone shows itself online or offline.
    func setPresence(phone: String, available: Bool) throws(SimulatorError) {
        setAvailability(of: try account(phone), available)
    }

    func isAvailable(phone: String) throws(SimulatorError) -> Bool { try account(phone).available }

    /// Admin: the phone types (`composing`, `recording`, `paused`) in a chat with `to`, a phone or a group.
    func sendChatState(from phone: String, to target: String, state: String) throws(SimulatorError) {
        let sender = try account(phone)
        let child: BinaryNode
        switch state {
        case "composing": child = BinaryNode("composing")
        case "recording": child = BinaryNode("composing", ["media": "audio"])
        case "paused": child = BinaryNode("paused")
        default: throw .badRequest("state must be composing, recording or paused")
        }
        let receivers: [Account]
        let attributes: NodeAttributes
        if target.hasSuffix("@\(JID.Server.group)") {
            let group = try group(target)
            try requireMember(group, phone)
            receivers = group.members.compactMap { accounts[$0.phone] }.filter { $0 !== sender }
            attributes = ["from": .jid(group.jid), "participant": .jid(sender.jid)]
        } else {
            guard let recipient = accounts[target] else { throw .notFound("no phone \(target)") }
            receivers = [recipient]
            attributes = ["from": .jid(sender.jid)]
        }
        for receiver in receivers {
            for companion in receiver.companions.values {
                guard let connection = companion.connection, connection.isOnline else { continue }
                connection.send(BinaryNode("chatstate", attributes, children: [child]))
            }
        }
    }
}

extension Simulator {
    package func setPresence(of phone: String, available: Bool) async throws {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.setPresence(phone: phone, available: available) }) }
    }

    /// Whether the phone's account shows as online (its companions set it with `<presence>`).
    package func isAvailable(_ phone: String) async throws -> Bool {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.isAvailable(phone: phone) }) }
    }

    package func sendChatState(from phone: String, to target: String, state: String) async throws {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.sendChatState(from: phone, to: target, state: state) })
        }
    }
}
