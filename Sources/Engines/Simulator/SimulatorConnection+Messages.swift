import Foundation
import Reactor
import WAProtocol

/// Message routing for a logged-in companion (protocol reference part 2, sections 2.3-2.6, 3.3):
/// its sends fan out to the devices they name, its receipts confirm what was queued for it.
extension SimulatorConnection {
    /// A `message` stanza from this companion: each `<to>` part goes to its device (a primary
    /// phone decrypts it, a companion gets it queued), then the server acks with its time.
    func routeMessage(_ node: BinaryNode) {
        guard stage == .online, let account, let companion, let id = node.attributes.string("id"),
            let to = node.attributes.jid("to")
        else { return nackMessage(node, error: "479") }
        if to.server == JID.Server.group { return routeGroupMessage(node, id: id, to: to) }
        // A resend after a retry receipt names one device in `to` and carries its `enc` directly.
        let parts =
            node.child("participants")?.children("to")
            ?? node.child("enc").map { [BinaryNode("to", ["jid": .jid(to)], children: [$0])] } ?? []
        guard !parts.isEmpty else { return nackMessage(node, error: "479") }
        let chat = to.bare
        let sender = account.jid(device: companion.device)
        let time = unixNow()
        let deviceIdentity = node.child("device-identity")
        var deliveredTo: [Account] = []
        var retries: [BinaryNode] = []
        for part in parts {
            guard let device = part.attributes.jid("jid"), let enc = part.child("enc"),
                let owner = core.accounts[device.user]
            else { continue }
            core.noteContact(account, owner)
            if device.device == 0 {
                if core.phoneReceives(owner, enc: enc, from: sender, chat: chat, id: id) {
                    if owner !== account { deliveredTo.append(owner) }
                } else if let retry = retryReceipt(from: owner, failed: [enc], id: id, time: time) {
                    retries.append(retry)
                }
            } else if let target = owner.companions[device.device], target !== companion {
                var attributes: NodeAttributes = [
                    "from": .jid(sender), "id": .string(id), "t": .string(String(time)),
                    "type": .string(node.attributes.string("type") ?? "text"), "notify": .string(account.pushName),
                ]
                if owner === account { attributes.append("recipient", .jid(chat)) }
                var children = [enc]
                if enc.attributes.string("type") == "pkmsg", let deviceIdentity { children.append(deviceIdentity) }
                core.deliver(QueuedStanza(id: id, node: BinaryNode("message", attributes, children: children)), to: target)
            }
        }
        acknowledgeMessage(id: id, time: time)
        // The recipient's phone confirms delivery to the sending device.
        for owner in deliveredTo {
            send(BinaryNode("receipt", ["from": .jid(owner.jid), "id": .string(id), "t": .string(String(unixNow()))]))
        }
        // A phone that could not read its part asks the sending device for it again.
        for retry in retries { send(retry) }
    }

    /// The retry receipt a phone sends when it cannot decrypt a companion's message (section 3.4),
    /// counting on from the highest count among the failed `enc`s; nil after 5 attempts.
    func retryReceipt(from phone: Account, failed encs: [BinaryNode], id: String, time: UInt64, group: JID? = nil) -> BinaryNode? {
        let count = (encs.compactMap { $0.attributes.string("count").flatMap(Int.init) }.max() ?? 0) + 1
        guard count <= 5 else { return nil }
        return Self.retryReceipt(from: phone, id: id, count: count, time: time, group: group)
    }

    /// A phone's retry receipt numbered `count`: from the phone itself, or from the group naming
    /// the phone as `participant`.
    static func retryReceipt(from phone: Account, id: String, count: Int, time: UInt64, group: JID?) -> BinaryNode? {
        guard let registration = try? phone.signal().registrationID else { return nil }
        var attributes: NodeAttributes = ["from": .jid(group ?? phone.jid)]
        if group != nil { attributes.append("participant", .jid(phone.jid)) }
        attributes.append("id", .string(id))
        attributes.append("type", "retry")
        attributes.append("t", .string(String(unixNow())))
        return BinaryNode(
            "receipt", attributes,
            children: [
                BinaryNode("retry", ["count": .string(String(count)), "id": .string(id), "t": .string(String(time)), "v": "1"]),
                BinaryNode("registration", bytes: withUnsafeBytes(of: registration.bigEndian) { Array($0) }),
            ])
    }

    /// A companion's typing state reaches the other account's phone (kept for the admin API).
    func recordChatState(_ node: BinaryNode) {
        guard let account, let companion, let to = node.attributes.jid("to"), let target = core.accounts[to.user],
            let state = node.children.first
        else { return }
        let name = state.tag == "composing" && state.attributes.string("media") == "audio" ? "recording" : state.tag
        target.chatStates.append(PhoneChatState(from: account.jid(device: companion.device).description, state: name))
    }

    func nackMessage(_ node: BinaryNode, error code: String) {
        var attributes = serverAttributes
        attributes.append("class", "message")
        attributes.append("id", .string(node.attributes.string("id") ?? ""))
        attributes.append("error", .string(code))
        send(BinaryNode("ack", attributes))
    }

    /// A receipt from this companion confirms queued stanzas; a retry receipt has the phone that
    /// sent the message encrypt it again under a fresh session (at most 5 times), or goes to the
    /// companion that sent it, which answers itself.
    func companionReceipt(_ node: BinaryNode) {
        guard let companion, let id = node.attributes.string("id") else { return }
        var ack = serverAttributes
        ack.append("class", "receipt")
        ack.append("id", .string(id))
        if let type = node.attributes.string("type") { ack.append("type", .string(type)) }
        send(BinaryNode("ack", ack))
        if node.attributes.string("type") == "server-error" { return mediaRetryRequest(node, id: id) }
        guard node.attributes.string("type") == "retry" else {
            let listed = [id] + (node.child("list")?.children("item").compactMap { $0.attributes.string("id") } ?? [])
            let ids = Set(listed)
            companion.outbox.removeAll { ids.contains($0.id) }
            // A read or played receipt goes to the phone that sent those messages.
            if let type = node.attributes.string("type"), ["read", "played"].contains(type),
                let to = node.attributes.jid("to"), let sender = core.accounts[to.user], let account
            {
                sender.receipts.append(PhoneReceipt(from: account.jid(device: companion.device).description, type: type, ids: listed))
            }
            return
        }
        guard let index = companion.outbox.firstIndex(where: { $0.id == id }) else { return }
        var queued = companion.outbox[index]
        // Another companion's message: that companion answers, its resend comes as a new stanza.
        guard queued.resend != nil else {
            companion.outbox.remove(at: index)
            return forwardRetry(node, about: queued.node)
        }
        queued.retries += 1
        guard queued.retries < 5, let resend = queued.resend, let node = resend(queued.retries) else {
            companion.outbox.remove(at: index)
            return
        }
        queued.node = node
        companion.outbox[index] = queued
        send(node)
    }

    /// A message ack from this companion without a receipt: it took the stanza but could not use
    /// it (an error code, or content it does not handle). Only a retry under way keeps it queued.
    func companionAck(_ node: BinaryNode) {
        guard let companion, node.attributes.string("class") == "message", let id = node.attributes.string("id") else { return }
        companion.outbox.removeAll { $0.id == id && $0.retries == 0 }
    }

    /// After the companion went active: everything still queued for it, oldest first, then the
    /// offline marker; from now on new stanzas go out at once.
    func flushOutbox() {
        guard let companion else { return }
        for queued in companion.outbox {
            var node = queued.node
            node.attributes.append("offline", "1")
            send(node)
        }
        caughtUp = true
        send(BinaryNode("ib", serverAttributes, children: [BinaryNode("offline", ["count": .string(String(companion.outbox.count))])]))
    }

    /// The server's ack of a `message` stanza this connection sent.
    func acknowledgeMessage(id: String, time: UInt64) {
        var ack = serverAttributes
        ack.append("class", "message")
        ack.append("id", .string(id))
        ack.append("t", .string(String(time)))
        send(BinaryNode("ack", ack))
    }

    /// A member's group message (or its resend) as one companion of another member gets it.
    func relayToCompanion(
        _ target: Companion, group: JID, sender: JID, notify: String, id: String, time: UInt64, type: String?,
        children: [BinaryNode]
    ) {
        let attributes: NodeAttributes = [
            "from": .jid(group), "participant": .jid(sender), "id": .string(id), "t": .string(String(time)),
            "type": .string(type ?? "text"), "notify": .string(notify),
        ]
        core.deliver(QueuedStanza(id: id, node: BinaryNode("message", attributes, children: children)), to: target)
    }
}
