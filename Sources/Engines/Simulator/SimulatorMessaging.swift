import Foundation
import Logging
import Reactor
import WAProtocol

/// A message a simulated phone received and decrypted (admin `GET …/inbox`).
package struct PhoneMessage: Sendable, Equatable, Codable {
    package let id: String
    /// The sending device (`user:device@s.whatsapp.net`).
    package let from: String
    /// The chat the sender addressed (`to` of the stanza).
    package let chat: String
    /// A revoke makes it `revoked`; an edit changes the body.
    package var type: String
    package var body: String
    /// `pkmsg` or `msg`, and the ciphertext as it arrived (base64), for independent checks.
    package let encType: String
    package let ciphertext: String
    /// Unix seconds.
    package let timestamp: UInt64
    /// For a revoke, an edit or a poll vote: the message it changes.
    package var target: String? = nil
    /// For a poll vote: the options chosen, opened with the poll's secret.
    package var options: [String]? = nil
    /// Set once a later edit changed this message.
    package var edited: Bool? = nil
    /// Set when the message came marked as forwarded (`contextInfo.isForwarded`).
    package var forwarded: Bool? = nil
    /// For a media message: what the downloaded, checked and decrypted blob was.
    package var media: PhoneMedia? = nil
    /// For a location: its coordinates, name and address.
    package var location: PhoneLocation? = nil
    /// For a contact card: the vCard as it arrived.
    package var vcard: String? = nil
    /// For a text that previews a link: what the preview showed.
    package var linkPreview: PhoneLinkPreview? = nil
    /// The `mediatype` attribute the sender put on the `enc` this phone read.
    package var mediaType: String? = nil
    /// For a message pinned in its chat: for how many seconds (a later unpin sets it to 0).
    package var pinnedSeconds: UInt32? = nil
}

/// A location a phone received (admin `GET …/inbox`, field `location`).
package struct PhoneLocation: Sendable, Equatable, Codable {
    package let latitude: Double
    package let longitude: Double
    package let name: String?
    package let address: String?

    package init(latitude: Double, longitude: Double, name: String?, address: String?) {
        self.latitude = latitude
        self.longitude = longitude
        self.name = name
        self.address = address
    }
}

/// The link preview a text carried (`ExtendedTextMessage` fields 2, 5, 6, 16).
package struct PhoneLinkPreview: Sendable, Equatable, Codable {
    package let matchedText: String
    package let title: String
    package let description: String?
    /// The inline JPEG thumbnail, base64.
    package let jpegThumbnail: String?

    /// The preview in `message` (device-sent copies unwrapped), nil when it has none.
    init?(_ message: Waproto_Message) {
        let content = MessageCodec.unwrapped(message)
        guard content.hasExtendedTextMessage, content.extendedTextMessage.hasMatchedText else { return nil }
        let text = content.extendedTextMessage
        matchedText = text.matchedText
        title = text.title
        description = text.hasPreviewDescription ? text.previewDescription : nil
        jpegThumbnail = text.hasJpegThumbnail ? text.jpegThumbnail.base64EncodedString() : nil
    }
}

/// A read or played receipt a phone got for messages it sent (admin `GET …/receipts`).
package struct PhoneReceipt: Sendable, Equatable, Codable {
    /// The device that sent the receipt.
    package let from: String
    package let type: String
    package let ids: [String]
}

/// A typing state a phone saw from a contact's device (admin `GET …/chatstates`).
package struct PhoneChatState: Sendable, Equatable, Codable {
    package let from: String
    /// `composing`, `recording` or `paused`.
    package let state: String
}

/// A poll a phone received: what voting on it takes.
struct PhonePoll {
    let secret: [UInt8]
    /// The poll's sender, a wire JID without a device.
    let sender: String
    let options: [String]
}

/// What a phone send reached (admin `POST …/messages`).
package struct PhoneSendResult: Sendable, Equatable, Codable {
    package let id: String
    /// Companion devices the message was queued for.
    package let devices: Int
}

/// A phone's Signal keys for independent decryption in tests (admin `GET …/signal`): hex of the
/// private keys.
package struct PhoneSignalKeys: Sendable, Equatable, Codable {
    package struct Key: Sendable, Equatable, Codable {
        package let id: UInt32
        package let privateKey: String
        package let publicKey: String
    }

    package let registrationId: UInt32
    package let identityPrivateKey: String
    package let identityPublicKey: String
    package let signedPreKey: Key
    package let signedPreKeySignature: String
    package let preKeys: [Key]
}

/// A stanza queued for a companion until it confirms it (reactor thread only). `resend` rebuilds
/// it under a fresh Signal session when the companion asks for a retry.
struct QueuedStanza {
    let id: String
    var node: BinaryNode
    var resend: ((Int) -> BinaryNode?)?
    var retries = 0
}

extension SimulatorCore {
    /// Queues `node` for `companion` and sends it at once if the companion is online and caught up.
    func deliver(_ stanza: QueuedStanza, to companion: Companion) {
        companion.outbox.append(stanza)
        if let connection = companion.connection, connection.caughtUp { connection.send(stanza.node) }
    }

    /// Below this many one-time prekeys a companion is told to upload more (part 2 §1.4).
    static let lowPreKeyCount = 5

    /// After prekeys were handed out: a companion that runs low gets the `encrypt` count
    /// notification, once per crossing.
    func preKeysTaken(from companion: Companion) {
        let count = companion.keys.preKeys.count
        guard count < Self.lowPreKeyCount, let connection = companion.connection, connection.isOnline else { return }
        connection.send(
            BinaryNode(
                "notification",
                ["from": .jid(JID.whatsAppServer), "type": "encrypt", "id": .string(connection.makeID()), "t": .string(String(unixNow()))],
                children: [BinaryNode("count", ["value": .string(String(count))])]))
    }

    /// Takes a companion's one-time prekeys down to `leave` (as if many contacts had fetched its
    /// bundle), then tells it as the server would.
    func takePreKeys(phone: String, device: UInt16, leave: Int) throws(SimulatorError) -> Int {
        let account = try account(phone)
        guard let companion = account.companions[device] else { throw .notFound("phone \(phone) has no device \(device)") }
        guard leave >= 0 else { throw .badRequest("leave must be 0 or more") }
        let taken = max(0, companion.keys.preKeys.count - leave)
        companion.keys.preKeys.removeFirst(taken)
        if taken > 0 { preKeysTaken(from: companion) }
        return companion.keys.preKeys.count
    }

    /// A companion's uploaded bundle, handing out one of its one-time prekeys.
    func takeBundle(of companion: Companion) -> PreKeyBundle? {
        let keys = companion.keys
        guard let skey = keys.signedPreKey, keys.identity.count == 32, keys.registrationID.count == 4 else { return nil }
        let oneTime = keys.preKeys.isEmpty ? nil : companion.keys.preKeys.removeFirst()
        if oneTime != nil { preKeysTaken(from: companion) }
        return PreKeyBundle(
            registrationID: keys.registrationID.reduce(0) { $0 << 8 | UInt32($1) }, deviceID: UInt32(companion.device),
            preKeyID: oneTime.map { $0.id.reduce(0) { $0 << 8 | UInt32($1) } }, preKey: oneTime?.value,
            signedPreKeyID: skey.id.reduce(0) { $0 << 8 | UInt32($1) }, signedPreKey: skey.value,
            signedPreKeySignature: skey.signature, identityKey: keys.identity)
    }

    /// The phone `phone` sends `content` to the account `to`: every companion of `to` gets it, and
    /// every companion of the sender gets the device-sent copy (as if typed on the phone).
    func sendFromPhone(_ phone: String, to target: String, content: Waproto_Message, id: String?) throws(SimulatorError) -> PhoneSendResult {
        if target.hasSuffix("@\(JID.Server.group)") { return try sendFromPhone(phone, toGroup: try group(target), content: content, id: id) }
        let sender = try account(phone)
        guard let recipient = accounts[target] else { throw .notFound("no phone \(target)") }
        noteContact(sender, recipient)
        let messageID = id ?? ((try? MessageCodec.newMessageID(ownUser: phone)) ?? UUID().uuidString)
        // The phone keeps its own polls' secrets too, to open the votes they get.
        if let poll = MessageCodec.summary(of: content).poll {
            sender.polls[messageID] = PhonePoll(secret: poll.secret, sender: sender.jid.description, options: poll.options)
        }
        let copy = MessageCodec.deviceSent(content, destination: recipient.jid.description)
        var reached = 0
        // A phone the recipient blocked gets its single tick; the recipient's devices never see it.
        let delivered = recipient.blocked.contains(phone) ? [] : Array(recipient.companions.values)
        let targets = delivered.map { ($0, content, false) } + sender.companions.values.map { ($0, copy, true) }
        for (companion, message, ownCopy) in targets.sorted(by: { $0.0.device < $1.0.device }) {
            let owner = ownCopy ? sender : recipient
            let time = unixNow()
            let build: (Int) -> BinaryNode? = { [weak self, weak companion] count in
                guard let self, let companion else { return nil }
                return self.phoneStanza(
                    from: sender, owner: owner, companion: companion, message: message, id: messageID, time: time,
                    recipient: ownCopy ? recipient.jid : nil, count: count)
            }
            guard let node = build(0) else { continue }
            deliver(QueuedStanza(id: messageID, node: node, resend: build), to: companion)
            reached += 1
        }
        return PhoneSendResult(id: messageID, devices: reached)
    }

    /// One companion's copy of a phone's message, encrypted under the phone's session with it
    /// (a new one after a retry receipt, `count` > 0).
    func phoneStanza(
        from sender: Account, owner: Account, companion: Companion, message: Waproto_Message, id: String, time: UInt64,
        recipient: JID?, count: Int
    ) -> BinaryNode? {
        do {
            let signal = try sender.signal()
            let address = SignalAddress(name: owner.phone, deviceID: UInt32(companion.device))
            if count > 0 { signal.forgetSession(with: address) }
            if !signal.hasSession(with: address) {
                guard let bundle = takeBundle(of: companion) else { return nil }
                try signal.startSession(with: address, bundle: bundle)
            }
            let encrypted = try signal.encrypt(try MessageCodec.padded(message), for: address)
            var enc: NodeAttributes = ["v": "2", "type": .string(encrypted.encType)]
            if count > 0 { enc.append("count", .string(String(count))) }
            var attributes: NodeAttributes = [
                "from": .jid(sender.jid), "id": .string(id), "t": .string(String(time)),
                "type": .string(MessageCodec.stanzaType(of: message)),
                "notify": .string(sender.pushName),
            ]
            if let recipient { attributes.append("recipient", .jid(recipient)) }
            return BinaryNode("message", attributes, children: [BinaryNode("enc", enc, bytes: encrypted.serialized)])
        } catch {
            logger.error("phone could not encrypt", metadata: ["phone": "\(sender.phone)", "error": "\(error)"])
            return nil
        }
    }

    /// A primary phone decrypts a companion's message addressed to it and keeps it in its inbox.
    func phoneReceives(_ phone: Account, enc: BinaryNode, from sender: JID, chat: JID, id: String) -> Bool {
        guard let bytes = enc.contentBytes, let encType = enc.attributes.string("type") else { return false }
        do {
            let padded = try phone.signal().decrypt(
                encType: encType, bytes, from: SignalAddress(name: sender.user, deviceID: UInt32(sender.device)))
            let decoded = try MessageCodec.decode(padded: padded)
            if answerKeyRequest(decoded, phone: phone, from: sender) { return true }
            keep(
                decoded, in: phone, id: id, from: sender, chat: chat, encType: encType, ciphertext: bytes,
                mediaType: enc.attributes.string("mediatype"))
            return true
        } catch {
            logger.info("phone could not decrypt", metadata: ["phone": "\(phone.phone)", "id": "\(id)", "error": "\(error)"])
            return false
        }
    }

    /// What a phone does with a message it decrypted: it keeps a poll's secret, opens media, reads
    /// a location or contact card, applies a revoke, edit or vote to the message it names, and
    /// files it in its inbox.
    func keep(
        _ decoded: Waproto_Message, in phone: Account, id: String, from sender: JID, chat: JID, encType: String, ciphertext: [UInt8],
        mediaType: String? = nil
    ) {
        let summary = MessageCodec.summary(of: decoded)
        if let poll = summary.poll {
            phone.polls[id] = PhonePoll(secret: poll.secret, sender: sender.bare.description, options: poll.options)
        }
        var entry = PhoneMessage(
            id: id, from: sender.description, chat: summary.deviceSentTo ?? chat.description, type: summary.type,
            body: summary.body, encType: encType, ciphertext: Data(ciphertext).base64EncodedString(), timestamp: unixNow())
        entry.media = phoneOpensMedia(decoded)
        entry.mediaType = mediaType
        let content = MessageCodec.unwrapped(decoded)
        if content.hasLocationMessage {
            let place = content.locationMessage
            entry.location = PhoneLocation(
                latitude: place.degreesLatitude, longitude: place.degreesLongitude, name: place.hasName ? place.name : nil,
                address: place.hasAddress ? place.address : nil)
        }
        if content.hasContactMessage { entry.vcard = content.contactMessage.vcard }
        entry.linkPreview = PhoneLinkPreview(decoded)
        apply(summary.change, from: sender, to: phone, entry: &entry)
        if MessageCodec.isForwarded(decoded) { entry.forwarded = true }
        phone.inbox.append(entry)
    }

    func inbox(of phone: String) throws(SimulatorError) -> [PhoneMessage] {
        try account(phone).inbox
    }

    func receipts(of phone: String) throws(SimulatorError) -> [PhoneReceipt] {
        try account(phone).receipts
    }

    func chatStates(of phone: String) throws(SimulatorError) -> [PhoneChatState] {
        try account(phone).chatStates
    }

    func signalKeys(of phone: String) throws(SimulatorError) -> PhoneSignalKeys {
        let signal: PhoneSignal
        do { signal = try account(phone).signal() } catch let error as SimulatorError { throw error } catch {
            throw SimulatorError(500, "key generation failed")
        }
        func key(_ id: UInt32, _ pair: SignalKeyPair) -> PhoneSignalKeys.Key {
            PhoneSignalKeys.Key(id: id, privateKey: Crypto.hex(pair.privateKey), publicKey: Crypto.hex(pair.publicKey))
        }
        return PhoneSignalKeys(
            registrationId: signal.registrationID, identityPrivateKey: Crypto.hex(signal.identity.privateKey),
            identityPublicKey: Crypto.hex(signal.identity.publicKey),
            signedPreKey: key(signal.signedPreKey.id, signal.signedPreKey.keyPair),
            signedPreKeySignature: Crypto.hex(signal.signedPreKey.signature),
            preKeys: signal.issuedPreKeys.values.sorted { $0.id < $1.id }.map { key($0.id, $0.keyPair) })
    }
}
