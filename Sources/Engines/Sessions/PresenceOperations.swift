import Foundation
import Reactor

/// One member's last known presence in a chat: `available`, `unavailable`, `composing`,
/// `recording` or `paused`.
package struct PresenceEntry: Sendable, Equatable {
    package var id: String
    package var state: String
    /// Unix seconds, when WhatsApp told it.
    package var lastSeen: Int?

    package init(id: String, state: String, lastSeen: Int? = nil) {
        self.id = id
        self.state = state
        self.lastSeen = lastSeen
    }

    var json: JSONValue {
        let fields: JSONValue = ["id": .string(id), "state": .string(state)]
        return lastSeen.map { fields.setting("lastSeen", .number(Double($0))) } ?? fields
    }
}

/// What is known of a chat's presence (OpenWA's `GET …/presence/:chatId` and `presence.update`).
package struct PresenceSnapshot: Sendable, Equatable {
    package var chatID: String
    package var participants: [PresenceEntry]
    package var observedAt: Date

    package init(chatID: String, participants: [PresenceEntry], observedAt: Date) {
        self.chatID = chatID
        self.participants = participants
        self.observedAt = observedAt
    }

    /// The `presence.update` event's data.
    package func event(sessionID: String) -> JSONValue {
        ["sessionId": .string(sessionID), "chatId": .string(chatID), "participants": .array(participants.map(\.json))]
    }

    package var participantsJSON: JSONValue { .array(participants.map(\.json)) }

    /// This snapshot with `entry` replacing the member's earlier one.
    package func updating(_ entry: PresenceEntry, at time: Date) -> PresenceSnapshot {
        var copy = self
        if let index = copy.participants.firstIndex(where: { $0.id == entry.id }) {
            copy.participants[index] = entry
        } else {
            copy.participants.append(entry)
        }
        copy.observedAt = time
        return copy
    }
}

/// Presence, for engines that can do it (the routes answer 501 for the others).
package protocol PresenceOperations: Sendable {
    /// Asks WhatsApp for a contact's presence updates (`presence.update` events follow).
    func subscribePresence(chatID: String) async throws
    /// Shows the account online or offline; kept and sent again after every reconnect.
    func setAvailable(_ available: Bool) async throws
    /// The last known presence in a chat, or nil when nothing was seen yet.
    func presence(chatID: String) async -> PresenceSnapshot?
}

extension SessionManager {
    /// The session's engine for presence.
    package func presenceOperations(id: String) async throws -> any PresenceOperations {
        try await readyEngine(id: id, as: (any PresenceOperations).self, unsupported: "Presence is not supported by this engine")
    }
}
