import Foundation
import Logging
import Persistence
import Reactor
import WAProtocol

/// Incoming `message` and `receipt` stanzas (reference part 2, sections 3.1-3.5).
///
/// The decrypt-and-store pipeline is in `NativeLink+Inbound.swift`; here are the parts of a
/// stanza, the receipts and acks we send, status updates for what we sent, and the per-session
/// queue of Signal jobs.
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

    func sendDeliveryReceipt(_ node: BinaryNode, source: MessageSource) {
        var attributes: NodeAttributes = ["id": .string(source.id), "to": .jid(source.from)]
        if let participant = source.participant { attributes.append("participant", .jid(participant)) }
        if let recipient = source.recipient { attributes.append("recipient", .jid(recipient)) }
        if source.fromMe { attributes.append("type", "sender") }
        send(BinaryNode("receipt", attributes))
    }

    func sendRetryReceipt(_ node: BinaryNode, source: MessageSource) {
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

    /// `<receipt type="read">` for messages of one chat (section 3.3): the first id as `id`, the
    /// others listed.
    func sendReadReceipt(chat: JID, ids: [String]) {
        for start in stride(from: 0, to: ids.count, by: 100) {
            let slice = Array(ids[start..<min(ids.count, start + 100)])
            let attributes: NodeAttributes = [
                "id": .string(slice[0]), "to": .jid(chat), "type": "read", "t": .string(String(Int(Date().timeIntervalSince1970))),
            ]
            let list = slice.count > 1 ? [BinaryNode("list", children: slice.dropFirst().map { BinaryNode("item", ["id": .string($0)]) })] : []
            send(BinaryNode("receipt", attributes, children: list))
        }
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
        case "retry": return handleRetryReceipt(node)
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
        // Everything queued goes in one pass, consecutive updates to the same state and chat
        // merged into one statement: a burst of acks costs a few writes, not one each.
        var runs: [(chat: String?, ids: [String], ack: Int)] = []
        for update in statusUpdates {
            if let last = runs.last, last.ack == update.ack, last.chat == update.chat {
                runs[runs.count - 1].ids += update.ids
            } else {
                runs.append(update)
            }
        }
        statusUpdates.removeAll()
        let sink = messages
        let sessionID = sessionID
        let merged = runs
        runAsync(preferring: sink.preferredExecutor, { () async throws -> Void in
            for run in merged { try await sink.acknowledged(sessionID: sessionID, chatID: run.chat, messageIDs: run.ids, ack: run.ack) }
        }) { link, result in
            if case .failure(let error) = result {
                link.logger.error("message status not applied", metadata: ["error": "\(error)"])
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
            sessionID: sessionID, store: authState, cache: signalCache, lane: lane,
            local: SessionBuilder.LocalIdentity(identityKeyPair: credentials.identity, registrationID: credentials.registrationID),
            signedPreKey: credentials.signedPreKey)
    }
}
