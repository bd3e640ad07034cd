import Foundation
import Logging
import Persistence
import Reactor
import WAProtocol

/// Incoming `message` stanzas, decrypted and stored in batches (reference part 2, 3.1-3.3).
///
/// Stanzas queue up while a batch is under way; the next batch takes up to `inboundBatch` of
/// them as one Signal job: each is decrypted in order (a later one sees the state the earlier
/// ones left), every message and change commits with its events in one transaction, the
/// advanced Signal state is written, and only then do the receipts go out. A crash before the
/// receipts leaves the messages unconfirmed: the server delivers them again and their ids keep
/// them single. One transaction per batch instead of two per message is what lets one session
/// keep up with a burst.
extension NativeLink {
    static let inboundBatch = 64

    /// What became of one stanza of a batch.
    enum InboundOutcome {
        /// Stored (or already stored, or nothing to store): confirm it.
        case confirm
        /// It did not decrypt: ask the sender for it again.
        case retry(ProtocolError)
    }

    func handleMessage(_ node: BinaryNode) {
        noteSender(node)
        inboundStanzas.append(node)
        scheduleInboundDrain()
    }

    private func scheduleInboundDrain() {
        guard !inboundDrainScheduled, !inboundStanzas.isEmpty else { return }
        inboundDrainScheduled = true
        let generation = generation
        enqueueSignalJob { link, done in
            link.inboundDrainScheduled = false
            guard link.generation == generation, link.phase == .ready else {
                // The link ended: the server delivers these again on the next connection.
                link.inboundStanzas.removeAll()
                return done()
            }
            let batch = Array(link.inboundStanzas.prefix(Self.inboundBatch))
            link.inboundStanzas.removeFirst(batch.count)
            link.processInbound(batch) {
                done()
                link.scheduleInboundDrain()
            }
        }
    }

    private func processInbound(_ stanzas: [BinaryNode], done: @escaping () -> Void) {
        guard let me = credentials?.me, let signal = signalContext() else { return done() }
        var work: [(node: BinaryNode, source: MessageSource, parts: [(encType: String, bytes: [UInt8])])] = []
        for node in stanzas {
            guard let source = Self.source(of: node, me: me) else {
                acknowledgeMessage(node, error: "487")
                continue
            }
            // In wire order: a group message's pairwise part (our copy of the sender's chain) comes
            // before the `skmsg` it unlocks.
            let parts = node.children("enc").compactMap { enc -> (encType: String, bytes: [UInt8])? in
                guard let type = enc.attributes.string("type"), ["pkmsg", "msg", "skmsg"].contains(type), let bytes = enc.contentBytes
                else { return nil }
                return (type, bytes)
            }
            guard !parts.isEmpty else {
                // Placeholders and unknown encryptions: nothing this engine can read.
                logger.debug("message without a readable part", metadata: ["message.id": "\(source.id)"])
                acknowledgeMessage(node, error: nil)
                continue
            }
            work.append((node, source, parts))
        }
        guard !work.isEmpty else { return done() }
        let sink = messages
        let sessionID = sessionID
        let ownChat = JID(user: me.user, server: me.server)
        let items = work.map { Unchecked(($0.source, $0.parts)) }
        let media = configuration.media
        let ref = LinkRef(self)
        let logger = logger
        runAsync(preferring: signal.lane.executor, { () async throws -> [Bool] in
            var pending: NativeSignal.Changes = [:]
            var appStateKeysArrived = false
            var inbound: [InboundItem] = []
            var decrypted: [Bool] = []
            var downloads: [NativeMediaTransfer.Download] = []
            for item in items {
                let (source, parts) = item.value
                do {
                    var contents: [Waproto_Message] = []
                    for part in parts {
                        let (padded, changes) =
                            part.encType == "skmsg"
                            ? try await signal.groupDecrypt(part.bytes, group: source.chat, sender: source.sender, pending: pending)
                            : try await signal.decrypt(
                                encType: part.encType, part.bytes, from: NativeSignal.address(of: source.sender), pending: pending)
                        pending.merge(changes) { _, new in new }
                        let message = try MessageCodec.decode(padded: padded)
                        if message.hasSenderKeyDistributionMessage, source.chat.server == JID.Server.group {
                            let stored = try await signal.storeDistribution(
                                message.senderKeyDistributionMessage, group: source.chat, sender: source.sender, pending: pending)
                            pending.merge(stored) { _, new in new }
                        }
                        contents.append(message)
                    }
                    for message in contents {
                        // App-state keys are taken only from our own account's devices.
                        if source.fromMe, let keys = NativeAppState.sharedKeys(message) {
                            for key in keys { pending[NativeAppState.keyRecord(key.id)] = key.serialized }
                            appStateKeysArrived = appStateKeysArrived || !keys.isEmpty
                            continue
                        }
                        let summary = MessageCodec.summary(of: message)
                        if let poll = summary.poll {
                            // Kept with the Signal state, so the poll's votes can be opened later.
                            let record = PollRecord(secret: poll.secret, sender: source.sender.bare.description, options: poll.options)
                            pending[PollRecord.key(source.id)] = record.serialized
                        }
                        if case .pollVote(let pollID, let vote) = summary.change {
                            if let vote = try await Self.openVote(
                                vote, pollID: pollID, source: source, signal: signal, pending: pending, ownChat: ownChat)
                            {
                                inbound.append(.change(vote))
                            }
                        } else if let entry = Self.inboundItem(summary, source: source, ownChat: ownChat) {
                            let withCard = Self.withCard(of: message, entry)
                            inbound.append(Self.withMedia(of: message, withCard, source: source, pending: &pending, downloads: &downloads))
                        }
                    }
                    decrypted.append(true)
                } catch let error as ProtocolError where error.signalFailure == .duplicateMessage {
                    decrypted.append(true)  // handled before a crash or reconnect: confirm it again
                } catch is ProtocolError {
                    decrypted.append(false)
                }
            }
            try await sink.commit(sessionID: sessionID, items: inbound)
            try await signal.write(pending)
            if appStateKeysArrived {
                Task {
                    do { try await ref.syncAppState(AppStateCollectionState.names) } catch {
                        logger.info("app-state sync stopped", metadata: ["error": "\(error)"])
                    }
                }
            }
            // Downloads start only now, in tasks of their own: the receipts below never wait for them.
            media?.scheduleDownloads(sessionID: sessionID, downloads, link: ref)
            return decrypted
        }) { link, result in
            defer { done() }
            switch result {
            case .success(let decrypted):
                for (entry, ok) in zip(work, decrypted) {
                    if ok {
                        link.sendDeliveryReceipt(entry.node, source: entry.source)
                    } else {
                        link.logger.info("message could not be decrypted", metadata: ["message.id": "\(entry.source.id)"])
                        link.sendRetryReceipt(entry.node, source: entry.source)
                        link.acknowledgeMessage(entry.node, error: nil)
                    }
                }
            case .failure(let error):
                // Not stored (the database is away): no receipts, so the server keeps the messages
                // and delivers them again on the next connection.
                link.logger.error("messages not stored", metadata: ["messages": "\(work.count)", "error": "\(error)"])
            }
        }
    }

    /// A decrypted message as the sink takes it: a message of its own, or a change of an earlier one.
    static func inboundItem(_ summary: MessageCodec.Summary, source: MessageSource, ownChat: JID) -> InboundItem? {
        var chat = source.chat
        if let destination = summary.deviceSentTo, let parsed = try? JID(parsing: destination) { chat = parsed.bare }
        let sender = neutral(source.sender.bare)
        let to = neutral(source.fromMe ? chat : ownChat)
        if let change = summary.change {
            let kind: MessageChange.Kind
            let target: String
            switch change {
            case .reaction(let id, let emoji): (kind, target) = (.reaction(emoji: emoji), id)
            case .revoke(let id): (kind, target) = (.revoke, id)
            case .edit(let id, let body): (kind, target) = (.edit(body: body), id)
            case .pollVote: return nil  // opened by `openVote`, which needs the poll's record
            case .pin(let id, let pinned, let seconds):
                (kind, target) = (.pin(until: pinned ? source.timestamp + Int(seconds > 0 ? seconds : 86_400) : nil), id)
            }
            return .change(
                MessageChange(
                    kind: kind, id: source.id, targetID: target, chatID: neutral(chat), senderID: sender, from: sender, to: to,
                    fromMe: source.fromMe, timestamp: source.timestamp))
        }
        guard summary.isContent else { return nil }
        let metadata = summary.poll.map {
            PollRecord.metadata(name: summary.body, options: $0.options, allowMultipleAnswers: $0.selectable != 1)
        }
        // OpenWA's group rows: `from` is the group for members' messages, `author` the member.
        let isGroup = chat.server == JID.Server.group
        return .message(
            EngineMessage(
                id: source.id, chatID: neutral(chat), from: isGroup && !source.fromMe ? neutral(chat) : sender, to: to,
                body: summary.body, type: summary.type, timestamp: source.timestamp, fromMe: source.fromMe, metadata: metadata,
                author: isGroup ? sender : nil))
    }

    /// A vote, opened with its poll's record; nil when the poll is unknown here. A vote that does
    /// not open is a protocol error like a message that does not decrypt.
    static func openVote(
        _ vote: Waproto_PollEncValue, pollID: String, source: MessageSource, signal: NativeSignal,
        pending: NativeSignal.Changes, ownChat: JID
    ) async throws -> MessageChange? {
        guard let bytes = try await signal.load(PollRecord.key(pollID), pending: pending),
            let record = PollRecord(serialized: bytes)
        else { return nil }
        let voter = source.sender.bare
        // A vote that does not open under the poll's key is dropped (asking again would not help).
        guard let options = try? record.open(vote, pollID: pollID, voter: voter.description) else { return nil }
        let chat = source.chat
        return MessageChange(
            kind: .pollVote(options: options), id: source.id, targetID: pollID, chatID: neutral(chat), senderID: neutral(voter),
            from: neutral(voter), to: neutral(source.fromMe ? chat : ownChat), fromMe: source.fromMe, timestamp: source.timestamp)
    }
}
