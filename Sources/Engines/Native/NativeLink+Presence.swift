import Foundation
import Reactor
import WAProtocol

/// Presence (reference part 2, 3.7): our availability, subscriptions to contacts, and what
/// comes back (`<presence>` and `<chatstate>`, neither acked), kept per chat and reported as
/// `presence.update`.
extension NativeLink {
    func sendAvailability(_ available: Bool) {
        var attributes: NodeAttributes = ["type": available ? "available" : "unavailable"]
        if available, let name = credentials?.pushName, !name.isEmpty { attributes.append("name", .string(name)) }
        send(BinaryNode("presence", attributes))
    }

    func subscribe(to user: JID) {
        send(BinaryNode("presence", ["type": "subscribe", "to": .jid(user)]))
    }

    /// After each login: the availability and subscriptions asked for earlier.
    func reapplyPresence() {
        if let wantsAvailable { sendAvailability(wantsAvailable) }
        for user in presenceSubscriptions.sorted(by: { $0.description < $1.description }) { subscribe(to: user) }
    }

    func handlePresence(_ node: BinaryNode) {
        guard let from = node.attributes.jid("from")?.bare, from.server != JID.Server.group else { return }
        let unavailable = node.attributes.string("type") == "unavailable"
        let last = node.attributes.string("last").flatMap(Int.init)
        record(chat: from, PresenceEntry(id: Self.neutral(from), state: unavailable ? "unavailable" : "available", lastSeen: last))
    }

    func handleIncomingChatState(_ node: BinaryNode) {
        guard let from = node.attributes.jid("from")?.bare, let child = node.children.first else { return }
        let member = from.server == JID.Server.group ? node.attributes.jid("participant")?.bare : from
        guard let member else { return }
        let state: String
        switch child.tag {
        case "composing": state = child.attributes.string("media") == "audio" ? "recording" : "composing"
        case "paused": state = "paused"
        default: return
        }
        record(chat: from, PresenceEntry(id: Self.neutral(member), state: state))
    }

    private func record(chat: JID, _ entry: PresenceEntry) {
        let id = Self.neutral(chat)
        let now = Date()
        let snapshot = (presences[id] ?? PresenceSnapshot(chatID: id, participants: [], observedAt: now)).updating(entry, at: now)
        presences[id] = snapshot
        emit(.presence(snapshot))
    }
}

extension NativeEngine: PresenceOperations {
    package func subscribePresence(chatID: String) async throws {
        let user = try NativeLink.recipient(of: chatID)
        guard user.server != JID.Server.group else { throw EngineError.invalid("Presence subscriptions are for contacts, not groups") }
        try await onLink { link in
            link.presenceSubscriptions.insert(user)
            link.subscribe(to: user)
        }
    }

    package func setAvailable(_ available: Bool) async throws {
        try await onLink { link in
            link.wantsAvailable = available
            link.sendAvailability(available)
        }
    }

    package func presence(chatID: String) async -> PresenceSnapshot? {
        guard let chat = try? NativeLink.recipient(of: chatID) else { return nil }
        let id = NativeLink.neutral(chat)
        return try? await linkRef().withLink { link, continuation in continuation.resume(returning: link.presences[id]) }
    }
}
