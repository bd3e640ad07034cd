import Foundation
import Logging
import Reactor
import WAProtocol

/// Retries of companions' group messages (reference part 2, 2.6 and 3.4 [SIM]): a phone that
/// cannot read the `skmsg` (it lost the sender's chain) or its pairwise part asks the sending
/// companion again; the answer names the phone as `participant` and carries the content pairwise,
/// with the chain, for that one device.
extension SimulatorCore {
    /// A primary phone takes a companion's answer to its retry receipt: the sender's chain when
    /// it came along, and the content. False when it could not be read.
    func phoneReceivesGroupResend(_ phone: Account, enc: BinaryNode, from sender: JID, group: SimulatorGroup, id: String) -> Bool {
        guard let bytes = enc.contentBytes, let encType = enc.attributes.string("type") else { return false }
        let address = SignalAddress(name: sender.user, deviceID: UInt32(sender.device))
        do {
            var message = try MessageCodec.decode(padded: try phone.signal().decrypt(encType: encType, bytes, from: address))
            if message.hasSenderKeyDistributionMessage {
                try takeChain(message.senderKeyDistributionMessage, in: phone, from: address, group: group)
                message.clearSenderKeyDistributionMessage()
            }
            keep(message, in: phone, id: id, from: sender, chat: group.jid, encType: encType, ciphertext: bytes)
            return true
        } catch {
            logger.info("phone could not decrypt a group resend", metadata: ["phone": "\(phone.phone)", "id": "\(id)", "error": "\(error)"])
            return false
        }
    }

    /// Keeps a member's chain the phone was handed pairwise.
    func takeChain(_ carrier: Waproto_SenderKeyDistributionMessage, in phone: Account, from sender: SignalAddress, group: SimulatorGroup)
        throws
    {
        let name = SenderKeyName(groupID: group.jid.description, sender: sender).description
        let distribution = try SenderKeyDistributionMessage(serialized: carrier.axolotlSenderKeyDistributionMessage)
        var record = phone.groupKeys.received[name] ?? SenderKeyRecord()
        GroupCipher.process(distribution, record: &record)
        phone.groupKeys.received[name] = record
    }

    /// The phone forgets every chain members handed it (restored from an old backup, say): their
    /// next `skmsg` fails until they hand it the chain again.
    func dropSenderKeys(of phone: String) throws(SimulatorError) {
        try account(phone).groupKeys.received.removeAll()
    }

    /// The phone asks the companion `device` of `sender` for message `id` again, as its retry
    /// receipt numbered `count` (in `group`, or in their chat). Returns whether the companion was online.
    func askAgain(phone: String, sender: String, device: UInt16, id: String, group: String?, count: Int) throws(SimulatorError) -> Bool {
        let asking = try account(phone)
        guard let companion = try account(sender).companions[device] else { throw .notFound("phone \(sender) has no device \(device)") }
        guard let connection = companion.connection, connection.isOnline else { return false }
        let chat = try group.map { id throws(SimulatorError) in try self.group(id).jid }
        guard let receipt = SimulatorConnection.retryReceipt(from: asking, id: id, count: count, time: unixNow(), group: chat) else {
            throw SimulatorError(500, "no Signal state")
        }
        connection.send(receipt)
        return true
    }
}

extension SimulatorConnection {
    /// A companion's answer to a retry receipt in a group (`participant` names the one device):
    /// the phone reads it, or asks once more; another companion gets it queued.
    func routeGroupResend(_ node: BinaryNode, id: String, group: SimulatorGroup, device: JID) {
        guard let account, let companion, let enc = node.child("enc"), let owner = core.accounts[device.user] else {
            return nackMessage(node, error: "479")
        }
        let sender = account.jid(device: companion.device)
        let time = unixNow()
        var reply: BinaryNode?
        if device.device == 0 {
            if core.phoneReceivesGroupResend(owner, enc: enc, from: sender, group: group, id: id) {
                reply = BinaryNode(
                    "receipt", ["from": .jid(group.jid), "participant": .jid(owner.jid), "id": .string(id), "t": .string(String(time))])
            } else {
                reply = retryReceipt(from: owner, failed: [enc], id: id, time: time, group: group.jid)
            }
        } else if let target = owner.companions[device.device], target !== companion {
            var children = [enc]
            if enc.attributes.string("type") == "pkmsg", let identity = node.child("device-identity") { children.append(identity) }
            relayToCompanion(
                target, group: group.jid, sender: sender, notify: account.pushName, id: id, time: time,
                type: node.attributes.string("type"), children: children)
        }
        acknowledgeMessage(id: id, time: time)
        if let reply { send(reply) }
    }
}

extension SimulatorConnection {
    /// This companion's retry receipt for a message another companion sent (section 2.6 [SIM]):
    /// it goes to that companion, from this device (in a group: from the group, naming this
    /// device as `participant`), with the receipt's own `retry`, `registration` and `keys`.
    func forwardRetry(_ receipt: BinaryNode, about message: BinaryNode) {
        guard let account, let companion, let id = receipt.attributes.string("id"), let from = message.attributes.jid("from") else {
            return
        }
        let group = from.server == JID.Server.group ? from : nil
        guard let sender = group == nil ? from : message.attributes.jid("participant"), sender.device != 0,
            let target = core.accounts[sender.user]?.companions[sender.device], let connection = target.connection, connection.isOnline
        else { return }
        let requester = account.jid(device: companion.device)
        var attributes: NodeAttributes = ["from": .jid(group ?? requester)]
        if group != nil { attributes.append("participant", .jid(requester)) }
        attributes.append("id", .string(id))
        attributes.append("type", "retry")
        attributes.append("t", .string(String(unixNow())))
        connection.send(BinaryNode("receipt", attributes, children: receipt.children))
    }
}
