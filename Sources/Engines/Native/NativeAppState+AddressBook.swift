import Foundation
import WAProtocol

/// Marking a chat unread, starring a message and the address book, as app-state patches
/// (reference part 2 §7.6): `markChatAsRead` (read false) in `regular_low`, `star` in
/// `regular_high`, and `contact` in `critical_unblock_low`, set with the names or removed. Like the other chat settings, each returns once WhatsApp took the
/// patch; the contact names then apply here as any phone-made change does (`applyActions`).
extension NativeEngine {
    package func markUnread(_ chatID: String) async throws {
        let chat = try NativeLink.recipient(of: chatID).description
        var value = Waproto_SyncActionValue()
        value.timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        value.markChatAsReadAction.read = false
        let ref = try await linkRef()
        if let range = try await ref.messageRange(chatID: chatID) { value.markChatAsReadAction.messageRange = range }
        try await ref.uploadAppState(
            [AppStateMutation(index: ["markChatAsRead", chat], value: value, version: 3)], collection: "regular_low")
    }

    package func saveContact(_ contactID: String, firstName: String, lastName: String?) async throws {
        let contact = try Self.addressBookJID(contactID)
        var value = Waproto_SyncActionValue()
        value.timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        value.contactAction.firstName = firstName
        value.contactAction.fullName = [firstName, lastName ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
        try await linkRef().uploadAppState(
            [AppStateMutation(index: ["contact", contact], value: value, version: 2)], collection: "critical_unblock_low")
    }

    package func deleteContact(_ contactID: String) async throws {
        let contact = try Self.addressBookJID(contactID)
        var value = Waproto_SyncActionValue()
        value.timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        try await linkRef().uploadAppState(
            [AppStateMutation(operation: .remove, index: ["contact", contact], value: value, version: 2)],
            collection: "critical_unblock_low")
    }

    package func starMessage(chatID: String, messageID: String, starred: Bool) async throws {
        let action = try await actionContext(chatID: chatID)
        let message = try await action.stored(messageID, in: chatID)
        // The index names the message as its key does: chat, id, from us, and in a group the sender.
        let participant = !message.fromMe && action.recipient.server == JID.Server.group
            ? (try? NativeLink.recipient(of: message.author ?? message.from).description) ?? "0" : "0"
        var value = Waproto_SyncActionValue()
        value.timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        value.starAction.starred = starred
        let index = ["star", action.recipient.description, messageID, message.fromMe ? "1" : "0", participant]
        try await linkRef().uploadAppState([AppStateMutation(index: index, value: value, version: 2)], collection: "regular_high")
    }

    /// Address-book entries are people by phone number: not groups, not LIDs (OpenWA refuses both).
    private static func addressBookJID(_ contactID: String) throws -> String {
        let jid = try NativeLink.recipient(of: contactID)
        guard jid.server == JID.Server.user else { throw EngineError.invalid("contactId must be a phone number contact (<number>@c.us)") }
        return jid.description
    }
}
