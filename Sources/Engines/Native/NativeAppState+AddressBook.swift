import Foundation
import WAProtocol

/// Marking a chat unread and the address book, as app-state patches (reference part 2 §7.6):
/// `markChatAsRead` (read false) in `regular_low`, and `contact` in `critical_unblock_low`, set
/// with the names or removed. Like the other chat settings, each returns once WhatsApp took the
/// patch; the contact names then apply here as any phone-made change does (`applyActions`).
extension NativeEngine {
    package func markUnread(_ chatID: String) async throws {
        let chat = try NativeLink.recipient(of: chatID).description
        var value = Waproto_SyncActionValue()
        value.timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        value.markChatAsReadAction.read = false
        try await linkRef().uploadAppState(
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

    /// Address-book entries are people by phone number: not groups, not LIDs (OpenWA refuses both).
    private static func addressBookJID(_ contactID: String) throws -> String {
        let jid = try NativeLink.recipient(of: contactID)
        guard jid.server == JID.Server.user else { throw EngineError.invalid("contactId must be a phone number contact (<number>@c.us)") }
        return jid.description
    }
}
