import Foundation
import Logging
import Reactor
import WAProtocol

/// Group messages on the phone side (reference part 2, 1.9 and 2.3 [SIM]): a phone decrypts
/// what members' companions send to the group with the chains they distributed to it, and sends
/// to a group with its own chain, handing that chain pairwise to each companion that lacks it.
extension SimulatorCore {
    /// A primary phone takes a companion's group message: its pairwise part first (it may carry
    /// the sender's chain), then the shared `skmsg`. False when it could not be read.
    func phoneReceivesGroup(
        _ phone: Account, pairwise: BinaryNode?, skmsg: BinaryNode, from sender: JID, group: SimulatorGroup, id: String
    ) -> Bool {
        let address = SignalAddress(name: sender.user, deviceID: UInt32(sender.device))
        let name = SenderKeyName(groupID: group.jid.description, sender: address).description
        let keys = phone.groupKeys
        do {
            if let pairwise, let bytes = pairwise.contentBytes, let encType = pairwise.attributes.string("type") {
                let message = try MessageCodec.decode(padded: try phone.signal().decrypt(encType: encType, bytes, from: address))
                if message.hasSenderKeyDistributionMessage {
                    try takeChain(message.senderKeyDistributionMessage, in: phone, from: address, group: group)
                }
            }
            guard var record = keys.received[name], let bytes = skmsg.contentBytes else {
                throw SimulatorError(400, "no sender key from \(sender) in \(group.jid)")
            }
            let padded = try GroupCipher.decrypt(try SenderKeyMessage(serialized: bytes), record: &record)
            keys.received[name] = record
            keep(
                try MessageCodec.decode(padded: padded), in: phone, id: id, from: sender, chat: group.jid, encType: "skmsg",
                ciphertext: bytes, mediaType: skmsg.attributes.string("mediatype"))
            return true
        } catch {
            logger.info("phone could not decrypt a group message", metadata: ["phone": "\(phone.phone)", "id": "\(id)", "error": "\(error)"])
            return false
        }
    }

    /// The phone `phone` sends `content` to a group it is in: one `skmsg` for every member's
    /// companions (its own included), with its chain pairwise to those that do not have it yet.
    func sendFromPhone(_ phone: String, toGroup group: SimulatorGroup, content: Waproto_Message, id: String?) throws(SimulatorError)
        -> PhoneSendResult
    {
        let sender = try account(phone)
        try requireMember(group, phone)
        let messageID = id ?? ((try? MessageCodec.newMessageID(ownUser: phone)) ?? UUID().uuidString)
        if let poll = MessageCodec.summary(of: content).poll {
            sender.polls[messageID] = PhonePoll(secret: poll.secret, sender: sender.jid.description, options: poll.options)
        }
        let padded: [UInt8]
        let first: (SenderKeyDistributionMessage, SenderKeyMessage)
        do {
            padded = try MessageCodec.padded(content)
            first = try encryptForGroup(sender, group, padded)
        } catch {
            throw SimulatorError(500, "the phone could not encrypt for the group: \(error)")
        }
        let type = MessageCodec.stanzaType(of: content)
        var reached = 0
        for member in group.members {
            guard let owner = accounts[member.phone] else { continue }
            for companion in owner.companions.values.sorted(by: { $0.device < $1.device }) {
                let address = SignalAddress(name: owner.phone, deviceID: UInt32(companion.device))
                let needsChain = !(sender.groupKeys.distributed[group.id]?.contains(address) ?? false)
                let time = unixNow()
                let build: (Int) -> BinaryNode? = { [weak self, weak companion, weak group] count in
                    guard let self, let companion, let group else { return nil }
                    // A retry gets a fresh chain position with the chain itself, under a fresh session.
                    let keys = count == 0 ? first : try? self.encryptForGroup(sender, group, padded)
                    guard let (distribution, message) = keys else { return nil }
                    return self.groupStanza(
                        from: sender, to: owner, companion: companion, group: group, id: messageID, time: time, type: type,
                        distribution: count > 0 || needsChain ? distribution : nil, message: message, count: count)
                }
                guard let node = build(0) else { continue }
                sender.groupKeys.distributed[group.id, default: []].insert(address)
                deliver(QueuedStanza(id: messageID, node: node, resend: build), to: companion)
                reached += 1
            }
        }
        return PhoneSendResult(id: messageID, devices: reached)
    }

    /// The distribution message of the phone's chain as it stands, then the content under it.
    private func encryptForGroup(_ sender: Account, _ group: SimulatorGroup, _ padded: [UInt8]) throws
        -> (SenderKeyDistributionMessage, SenderKeyMessage)
    {
        var record = sender.groupKeys.own[group.id] ?? SenderKeyRecord()
        let distribution = try GroupCipher.distributionMessage(record: &record)
        let message = try GroupCipher.encrypt(padded, record: &record)
        sender.groupKeys.own[group.id] = record
        return (distribution, message)
    }

    private func groupStanza(
        from sender: Account, to owner: Account, companion: Companion, group: SimulatorGroup, id: String, time: UInt64,
        type: String, distribution: SenderKeyDistributionMessage?, message: SenderKeyMessage, count: Int
    ) -> BinaryNode? {
        var children: [BinaryNode] = []
        do {
            if let distribution {
                let signal = try sender.signal()
                let address = SignalAddress(name: owner.phone, deviceID: UInt32(companion.device))
                if count > 0 { signal.forgetSession(with: address) }
                if !signal.hasSession(with: address) {
                    guard let bundle = takeBundle(of: companion) else { return nil }
                    try signal.startSession(with: address, bundle: bundle)
                }
                var carrier = Waproto_Message()
                carrier.senderKeyDistributionMessage.groupID = group.jid.description
                carrier.senderKeyDistributionMessage.axolotlSenderKeyDistributionMessage = Data(distribution.serialized)
                let encrypted = try signal.encrypt(try MessageCodec.padded(carrier), for: address)
                var attributes: NodeAttributes = ["v": "2", "type": .string(encrypted.encType)]
                if count > 0 { attributes.append("count", .string(String(count))) }
                children.append(BinaryNode("enc", attributes, bytes: encrypted.serialized))
            }
        } catch {
            logger.error("phone could not encrypt its sender key", metadata: ["phone": "\(sender.phone)", "error": "\(error)"])
            return nil
        }
        var attributes: NodeAttributes = ["v": "2", "type": "skmsg"]
        if count > 0 { attributes.append("count", .string(String(count))) }
        children.append(BinaryNode("enc", attributes, bytes: message.serialized))
        return BinaryNode(
            "message",
            [
                "from": .jid(group.jid), "participant": .jid(sender.jid), "id": .string(id), "t": .string(String(time)),
                "type": .string(type), "notify": .string(sender.pushName),
            ],
            children: children)
    }
}

extension SimulatorConnection {
    /// A companion's group message: every member's phone reads it, every other companion of
    /// every member gets its own pairwise part (if any) followed by the shared `skmsg`.
    func routeGroupMessage(_ node: BinaryNode, id: String, to: JID) {
        guard let account, let companion else { return }
        guard let group = try? core.group(to.user) else { return nackMessage(node, error: "404") }
        guard group.role(of: account.phone) != nil, !group.announce || group.isAdmin(account.phone) else {
            return nackMessage(node, error: "403")
        }
        if let device = node.attributes.jid("participant") { return routeGroupResend(node, id: id, group: group, device: device) }
        guard let skmsg = node.children("enc").first(where: { $0.attributes.string("type") == "skmsg" }) else {
            return nackMessage(node, error: "479")
        }
        let sender = account.jid(device: companion.device)
        var pairwise: [String: BinaryNode] = [:]
        for part in node.child("participants")?.children("to") ?? [] {
            if let device = part.attributes.jid("jid"), let enc = part.child("enc") { pairwise["\(device.user):\(device.device)"] = enc }
        }
        let deviceIdentity = node.child("device-identity")
        let time = unixNow()
        var readBy: [Account] = []
        var retries: [BinaryNode] = []
        for member in group.members {
            guard let owner = core.accounts[member.phone] else { continue }
            let ownPart = pairwise["\(owner.phone):0"]
            if core.phoneReceivesGroup(owner, pairwise: ownPart, skmsg: skmsg, from: sender, group: group, id: id) {
                if owner !== account { readBy.append(owner) }
            } else if let retry = retryReceipt(
                from: owner, failed: [skmsg] + (ownPart.map { [$0] } ?? []), id: id, time: time, group: group.jid)
            {
                retries.append(retry)
            }
            for target in owner.companions.values where target !== companion {
                var children: [BinaryNode] = []
                if let enc = pairwise["\(owner.phone):\(target.device)"] {
                    children.append(enc)
                    if enc.attributes.string("type") == "pkmsg", let deviceIdentity { children.append(deviceIdentity) }
                }
                children.append(skmsg)
                relayToCompanion(
                    target, group: group.jid, sender: sender, notify: account.pushName, id: id, time: time,
                    type: node.attributes.string("type"), children: children)
            }
        }
        acknowledgeMessage(id: id, time: time)
        for owner in readBy {
            send(
                BinaryNode(
                    "receipt",
                    ["from": .jid(group.jid), "participant": .jid(owner.jid), "id": .string(id), "t": .string(String(unixNow()))]))
        }
        // A phone that could not read the message asks the sending device for it again.
        for retry in retries { send(retry) }
    }
}
