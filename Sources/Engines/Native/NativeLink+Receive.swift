import Foundation
import Logging
import Persistence
import Reactor
import WAProtocol

/// Incoming `message` and `receipt` stanzas (reference part 2, sections 3.1-3.5).
///
/// A message is decrypted, stored with its event through the `MessageSink`, and only then
/// acknowledged with a receipt; the Signal state it advanced is written after that. A crash in
/// between leaves the message unacknowledged, the server delivers it again, the old state decrypts
/// it again and the store recognises its id: stored once, never lost.
extension NativeLink {
    /// How a message stanza names its chat and sender (whatsmeow's `parseMessageSource`).
    struct MessageSource {
        let id: String
        let from: JID
        let participant: JID?
        let recipient: JID?
        let sender: JID
        let chat: JID
        let fromMe: Bool
        let timestamp: Int
    }

    func handleMessage(_ node: BinaryNode) {
        let generation = generation
        enqueueSignalJob { link, done in
            guard link.generation == generation, link.phase == .ready else { return done() }
            link.receive(node, done: done)
        }
    }

    private func receive(_ node: BinaryNode, done: @escaping () -> Void) {
        guard let me = credentials?.me, let source = Self.source(of: node, me: me) else {
            acknowledgeMessage(node, error: "487")
            return done()
        }
        let pairwise = node.children("enc").filter { ["pkmsg", "msg"].contains($0.attributes.string("type") ?? "") }
        guard let enc = pairwise.first, let bytes = enc.contentBytes, let signal = signalContext() else {
            // Group sender-key messages and placeholders are not decrypted by this engine yet.
            logger.debug("message without a pairwise part", metadata: ["message.id": "\(source.id)"])
            acknowledgeMessage(node, error: nil)
            return done()
        }
        let encType = enc.attributes.string("type") ?? ""
        let sink = messages
        let store = authState
        let sessionID = sessionID
        let ownChat = JID(user: me.user, server: me.server)
        runAsync({ () async throws -> Bool in
            let address = NativeSignal.address(of: source.sender)
            let (padded, changes) = try await signal.decrypt(encType: encType, bytes, from: address)
            let summary = MessageCodec.summary(of: try MessageCodec.decode(padded: padded))
            var chat = source.chat
            if let destination = summary.deviceSentTo, let parsed = try? JID(parsing: destination) { chat = parsed.bare }
            if let change = summary.change {
                let kind: MessageChange.Kind
                let target: String
                switch change {
                case .reaction(let id, let emoji): (kind, target) = (.reaction(emoji: emoji), id)
                case .revoke(let id): (kind, target) = (.revoke, id)
                case .edit(let id, let body): (kind, target) = (.edit(body: body), id)
                }
                try await sink.apply(
                    sessionID: sessionID,
                    change: MessageChange(
                        kind: kind, id: source.id, targetID: target, chatID: Self.neutral(chat),
                        senderID: Self.neutral(source.sender.bare), from: Self.neutral(source.sender.bare),
                        to: Self.neutral(source.fromMe ? chat : ownChat), fromMe: source.fromMe, timestamp: source.timestamp))
            } else if summary.type != "unknown" {
                let message = EngineMessage(
                    id: source.id, chatID: Self.neutral(chat), from: Self.neutral(source.sender.bare),
                    to: Self.neutral(source.fromMe ? chat : ownChat), body: summary.body, type: summary.type,
                    timestamp: source.timestamp, fromMe: source.fromMe)
                try await sink.ingest(sessionID: sessionID, message: message)
            }
            try await store.apply(sessionID: sessionID, changes: changes)
            return true
        }) { link, result in
            defer { done() }
            switch result {
            case .success:
                link.sendDeliveryReceipt(node, source: source)
            case .failure(let error as ProtocolError) where error.signalFailure == .duplicateMessage:
                // Already handled before a crash or reconnect: confirm it again.
                link.sendDeliveryReceipt(node, source: source)
            case .failure(let error as ProtocolError):
                link.logger.info("message could not be decrypted", metadata: ["message.id": "\(source.id)", "error": "\(error)"])
                link.sendRetryReceipt(node, source: source)
                link.acknowledgeMessage(node, error: nil)
            case .failure(let error):
                // Not stored (the database is away): no receipt, so the server keeps it and
                // delivers it again on the next connection.
                link.logger.error("message not stored", metadata: ["message.id": "\(source.id)", "error": "\(error)"])
            }
        }
    }

    static func source(of node: BinaryNode, me: JID) -> MessageSource? {
        guard let id = node.attributes.string("id"), let from = node.attributes.jid("from") else { return nil }
        let participant = node.attributes.jid("participant")
        let recipient = node.attributes.jid("recipient")
        let timestamp = node.attributes.string("t").flatMap(Int.init) ?? Int(Date().timeIntervalSince1970)
        let isGroup = from.server == JID.Server.group || from.server == JID.Server.broadcast
        guard let sender = isGroup ? participant : from else { return nil }
        let fromMe = sender.user == me.user && sender.server == me.server
        let chat: JID
        if isGroup {
            chat = from
        } else if fromMe {
            chat = (recipient ?? me).bare
        } else {
            chat = from.bare
        }
        return MessageSource(
            id: id, from: from, participant: participant, recipient: recipient, sender: sender, chat: chat, fromMe: fromMe,
            timestamp: timestamp)
    }

    /// OpenWA's id dialect: phone users as `<number>@c.us`, everything else as it is, no device.
    static func neutral(_ jid: JID) -> String {
        jid.server == JID.Server.user ? "\(jid.user)@c.us" : JID(user: jid.user, server: jid.server).description
    }

    // MARK: - Receipts and acks we send (section 3.3)

    private func sendDeliveryReceipt(_ node: BinaryNode, source: MessageSource) {
        var attributes: NodeAttributes = ["id": .string(source.id), "to": .jid(source.from)]
        if let participant = source.participant { attributes.append("participant", .jid(participant)) }
        if let recipient = source.recipient { attributes.append("recipient", .jid(recipient)) }
        if source.fromMe { attributes.append("type", "sender") }
        send(BinaryNode("receipt", attributes))
    }

    private func sendRetryReceipt(_ node: BinaryNode, source: MessageSource) {
        guard let credentials else { return }
        let previous = node.children("enc").compactMap { $0.attributes.string("count").flatMap(Int.init) }.max() ?? 0
        var attributes: NodeAttributes = ["id": .string(source.id), "to": .jid(source.from), "type": "retry"]
        if let participant = source.participant { attributes.append("participant", .jid(participant)) }
        if let recipient = source.recipient { attributes.append("recipient", .jid(recipient)) }
        send(
            BinaryNode(
                "receipt", attributes,
                children: [
                    BinaryNode(
                        "retry",
                        [
                            "count": .string(String(previous + 1)), "id": .string(source.id),
                            "t": .string(String(source.timestamp)), "v": "1",
                        ]),
                    BinaryNode("registration", bytes: credentials.registrationID.bigEndianBytes),
                ]))
    }

    func acknowledgeMessage(_ node: BinaryNode, error: String?) {
        guard let id = node.attributes.string("id") else { return }
        var attributes: NodeAttributes = [
            "id": .string(id), "class": "message", "to": node.attributes.jid("from").map { .jid($0) } ?? .jid(.whatsAppServer),
        ]
        if let participant = node.attributes.jid("participant") { attributes.append("participant", .jid(participant)) }
        if let error { attributes.append("error", .string(error)) }
        send(BinaryNode("ack", attributes))
    }

    // MARK: - Receipts for what we sent (section 3.5)

    /// Delivery, read and played receipts move our sent messages forward; others are informational.
    func handleReceipt(_ node: BinaryNode) {
        guard let id = node.attributes.string("id"), let from = node.attributes.jid("from") else { return }
        let ack: Int
        switch node.attributes.string("type") {
        case nil, "inactive": ack = 2
        case "read", "read-self": ack = 3
        case "played", "played-self": ack = 4
        default: return
        }
        let ids = [id] + (node.child("list")?.children("item").compactMap { $0.attributes.string("id") } ?? [])
        enqueueStatusUpdate(chat: Self.neutral(from.bare), ids: ids, ack: ack)
    }

    /// Status changes go to the sink one at a time, in the order they came off the wire, so a
    /// server ack and the receipt right behind it are published in that order.
    func enqueueStatusUpdate(chat: String?, ids: [String], ack: Int) {
        statusUpdates.append((chat, ids, ack))
        runNextStatusUpdate()
    }

    private func runNextStatusUpdate() {
        guard !statusUpdateRunning, !statusUpdates.isEmpty else { return }
        statusUpdateRunning = true
        let (chat, ids, ack) = statusUpdates.removeFirst()
        let sink = messages
        let sessionID = sessionID
        runAsync({ try await sink.acknowledged(sessionID: sessionID, chatID: chat, messageIDs: ids, ack: ack) }) { link, result in
            if case .failure(let error) = result {
                link.logger.error("message status not applied", metadata: ["message.ids": "\(ids)", "error": "\(error)"])
            }
            link.statusUpdateRunning = false
            link.runNextStatusUpdate()
        }
    }

    // MARK: - One Signal step at a time

    /// Runs Signal jobs (decrypts and encrypts of this session) one after another, so no two
    /// touch the same record at once. A job calls its `done` when its writes are finished.
    func enqueueSignalJob(_ job: @escaping (NativeLink, @escaping () -> Void) -> Void) {
        signalJobs.append(job)
        runNextSignalJob()
    }

    private func runNextSignalJob() {
        guard !signalJobRunning, !signalJobs.isEmpty else { return }
        signalJobRunning = true
        let job = signalJobs.removeFirst()
        job(self) { [weak self] in
            guard let self else { return }
            self.signalJobRunning = false
            self.runNextSignalJob()
        }
    }

    /// The Signal context of the paired device, nil before pairing.
    func signalContext() -> NativeSignal? {
        guard let credentials, credentials.me != nil else { return nil }
        return NativeSignal(
            sessionID: sessionID, store: authState, lane: lane,
            local: SessionBuilder.LocalIdentity(identityKeyPair: credentials.identity, registrationID: credentials.registrationID),
            signedPreKey: credentials.signedPreKey)
    }
}
