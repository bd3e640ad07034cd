import Foundation
import Logging
import Persistence
import Reactor
import SwiftProtobuf
import WAProtocol

/// What app-state actions do here (contact names, mute, pin, archive, chats read elsewhere), and the chat changes
/// this gateway writes itself (reference part 2 §7.6).
extension LinkRef {
    /// Contact names go to the session's contact records; mute, pin and archive to the chat
    /// states of the message store; a chat read on another device marks its messages read.
    /// Other actions are not kept.
    func applyActions(_ mutations: [AppStateMutation]) async throws {
        guard !mutations.isEmpty else { return }
        let (sink, sessionID): (any MessageSink, String) = try await withLink { link, continuation in
            continuation.resume(returning: (link.messages, link.sessionID))
        }
        var names: [String: (name: String?, saved: Bool)] = [:]
        for mutation in mutations {
            if mutation.index == ["setting_pushName"], mutation.operation == .set, mutation.value.hasPushNameSetting {
                try await adoptPushName(mutation.value.pushNameSetting.name)
                continue
            }
            guard mutation.index.count >= 2 else { continue }
            let id = Self.neutralID(mutation.index[1])
            let set = mutation.operation == .set
            let value = mutation.value
            switch mutation.index[0] {
            case "contact":
                let action = value.contactAction
                let name = [action.fullName, action.firstName].first { !$0.isEmpty }
                names[id] = set ? (name, true) : (nil, false)
            case "mute":
                let end = value.muteAction.muteEndTimestamp
                let mute: Int64?? = set && value.muteAction.muted ? .some(end <= 0 ? 0 : end) : .some(nil)
                try await sink.updateChatState(sessionID: sessionID, chatID: id, change: ChatStateChange(mute: mute))
            case "pin_v1":
                let change = ChatStateChange(pinned: set && value.pinAction.pinned)
                try await sink.updateChatState(sessionID: sessionID, chatID: id, change: change)
            case "archive":
                let change = ChatStateChange(archived: set && value.archiveChatAction.archived)
                try await sink.updateChatState(sessionID: sessionID, chatID: id, change: change)
            case "markChatAsRead" where set && value.markChatAsReadAction.read:
                // Read on another device: the chat's incoming messages count as read here too
                // (that device already sent the read receipts).
                _ = try await sink.markRead(sessionID: sessionID, chatID: id, messageIDs: nil)
            default:
                continue
            }
        }
        var records: NativeSignal.Changes = [:]
        for (id, entry) in names {
            let key = ContactRecord.key(id)
            var record = try await readRecord(key).flatMap(ContactRecord.init(serialized:)) ?? ContactRecord()
            record.name = entry.name
            record.saved = entry.saved
            if record.phone == nil, id.hasSuffix("@c.us") { record.phone = String(id.dropLast(5)) }
            records[key] = record.serialized
        }
        if !records.isEmpty { try await writeSignalRecords(records) }
    }

    /// Uploads `mutations` as the next patch of `collection` (§7.6). A 409 brings the patches we
    /// lacked: they are applied, the change is encoded again on top and sent once more. Once the
    /// server takes it, our state moves to the new version and the actions apply here too.
    func uploadAppState(_ mutations: [AppStateMutation], collection: String) async throws {
        try await onSessionLane {
            try await self.lockAppState()
            do {
                try await self.uploadLocked(mutations, collection: collection)
            } catch {
                await self.unlockAppState()
                throw error
            }
            await self.unlockAppState()
        }
    }

    private func uploadLocked(_ mutations: [AppStateMutation], collection: String) async throws {
        let keys = try await appStateKeys()
        guard let key = keys.values.max(by: { $0.timestamp < $1.timestamp }) else {
            throw EngineError.unavailable("the phone has not shared its app-state keys yet")
        }
        var state = try await collectionState(collection)
        for attempt in 0..<2 {
            let encoded = try AppStatePatchCodec.encode(mutations, collection: collection, state: state, key: key)
            let patch = try encoded.patch.serializedBytes() as [UInt8]
            let reply = try await request(NativeAppState.syncQuery(collection, version: state.version, snapshot: false, patch: patch))
            guard let node = reply.child("sync")?.children("collection").first(where: { $0.attributes.string("name") == collection })
            else { throw EngineError.unavailable("WhatsApp did not answer the app-state change") }
            guard node.attributes.string("type") == "error" else {
                var accepted = encoded.state
                accepted.version = node.attributes.string("version").flatMap(UInt64.init) ?? accepted.version
                try await storeCollectionState(collection, accepted)
                return try await applyActions(mutations)
            }
            let code = node.child("error")?.attributes.string("code") ?? "?"
            guard code == "409", attempt == 0 else { break }
            let applied = NativeAppState.apply(node.child("patches")?.children("patch") ?? [], collection: collection, to: state, keys: keys)
            if let failure = applied.failure { throw EngineError.unavailable("the newer app-state patches do not verify: \(failure)") }
            guard applied.missingKeys.isEmpty else { throw EngineError.unavailable("a newer app-state patch uses a key we lack") }
            try await applyActions(applied.mutations)
            try await storeCollectionState(collection, applied.state)
            state = applied.state
        }
        throw EngineError.conflict("WhatsApp refused the app-state change")
    }

    /// WhatsApp's `messageRange` for a chat action (archive, mark read or unread): the chat's
    /// newest stored message, which tells the other devices up to where the action holds (a
    /// message that arrives later unarchives the chat). Nil when nothing of the chat is stored.
    func messageRange(chatID: String) async throws -> Waproto_SyncActionMessageRange? {
        let (sink, sessionID): (any MessageSink, String) = try await withLink { link, continuation in
            continuation.resume(returning: (link.messages, link.sessionID))
        }
        guard let last = try await sink.lastMessage(sessionID: sessionID, chatID: chatID), !last.id.isEmpty else { return nil }
        var key = Waproto_MessageKey()
        key.remoteJid = try NativeLink.recipient(of: chatID).description
        key.fromMe = last.fromMe
        key.id = last.id
        if !last.fromMe, chatID.hasSuffix("@g.us"), let author = last.author {
            key.participant = try NativeLink.recipient(of: author).description
        }
        var message = Waproto_SyncActionMessage()
        message.key = key
        message.timestamp = Int64(last.timestamp)
        var range = Waproto_SyncActionMessageRange()
        range.lastMessageTimestamp = Int64(last.timestamp)
        range.messages = [message]
        return range
    }

    /// `15551234567@s.whatsapp.net` → `15551234567@c.us`; other ids without a device.
    static func neutralID(_ wire: String) -> String {
        guard let at = wire.firstIndex(of: "@") else { return wire }
        let user = wire[..<at].split(separator: ":").first.map(String.init) ?? ""
        let server = wire[wire.index(after: at)...]
        return server == JID.Server.user ? "\(user)@c.us" : "\(user)@\(server)"
    }
}

extension NativeEngine: ChatStateOperations {
    package func setArchived(_ chatID: String, archived: Bool) async throws {
        let chat = try NativeLink.recipient(of: chatID).description
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var archive = Waproto_SyncActionValue()
        archive.timestamp = now
        archive.archiveChatAction.archived = archived
        let ref = try await linkRef()
        if let range = try await ref.messageRange(chatID: chatID) { archive.archiveChatAction.messageRange = range }
        var mutations = [AppStateMutation(index: ["archive", chat], value: archive, version: 3)]
        if archived {
            // An archived chat is never pinned (as WhatsApp sends it).
            var unpin = Waproto_SyncActionValue()
            unpin.timestamp = now
            unpin.pinAction.pinned = false
            mutations.append(AppStateMutation(index: ["pin_v1", chat], value: unpin, version: 5))
        }
        try await ref.uploadAppState(mutations, collection: "regular_low")
    }

    package func setMuted(_ chatID: String, until: Int64?) async throws {
        let chat = try NativeLink.recipient(of: chatID).description
        var value = Waproto_SyncActionValue()
        value.timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        value.muteAction.muted = until != nil
        if let until { value.muteAction.muteEndTimestamp = until == 0 ? -1 : until }
        try await linkRef().uploadAppState([AppStateMutation(index: ["mute", chat], value: value, version: 2)], collection: "regular_high")
    }

    package func setPinned(_ chatID: String, pinned: Bool) async throws {
        let chat = try NativeLink.recipient(of: chatID).description
        var value = Waproto_SyncActionValue()
        value.timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        value.pinAction.pinned = pinned
        try await linkRef().uploadAppState([AppStateMutation(index: ["pin_v1", chat], value: value, version: 5)], collection: "regular_low")
    }
}
