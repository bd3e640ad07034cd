import Foundation

/// Messages that act on earlier ones (reference part 2, 4.3 and 4.4): revoke ("delete for
/// everyone"), edit and pin in chat; forwarded copies are in `MessageCodec+Forward.swift`.
extension MessageCodec {
    /// The stanza `edit` attribute of a message edit and of a sender's revoke (section 2.2).
    package static let editAttribute = "1"
    package static let senderRevokeAttribute = "7"
    /// The `edit` attribute of a group admin's revoke of a member's message.
    package static let adminRevokeAttribute = "8"
    /// The `edit` attribute of a pin or unpin in chat.
    package static let pinAttribute = "2"
    /// The lifetimes WhatsApp offers for a pin: a day, a week, 30 days.
    package static let pinDurations: [UInt32] = [86_400, 604_800, 2_592_000]

    /// `protocolMessage{REVOKE, key}` for message `id` in `chat` (a wire JID): our own, or with
    /// `sender` (a member's wire JID) a group admin's revoke of that member's message.
    package static func revoke(id: String, chat: String, sender: String? = nil) -> Waproto_Message {
        var protocolMessage = Waproto_ProtocolMessage()
        protocolMessage.type = .revoke
        protocolMessage.key = ownKey(id: id, chat: chat)
        if let sender {
            protocolMessage.key.fromMe = false
            protocolMessage.key.participant = sender
        }
        var message = Waproto_Message()
        message.protocolMessage = protocolMessage
        return message
    }

    /// An edit of our own message `id`: the new content inside `protocolMessage{MESSAGE_EDIT}`,
    /// wrapped in `editedMessage` as WhatsApp Web sends it (receivers accept it bare too).
    package static func edit(id: String, chat: String, newContent: Waproto_Message, now: Date = Date()) -> Waproto_Message {
        var protocolMessage = Waproto_ProtocolMessage()
        protocolMessage.type = .messageEdit
        protocolMessage.key = ownKey(id: id, chat: chat)
        protocolMessage.editedMessage = newContent
        protocolMessage.timestampMs = Int64(now.timeIntervalSince1970 * 1000)
        var inner = Waproto_Message()
        inner.protocolMessage = protocolMessage
        var wrapper = Waproto_FutureProofMessage()
        wrapper.message = inner
        var message = Waproto_Message()
        message.editedMessage = wrapper
        return message
    }

    /// `pinInChatMessage` for message `id` in `chat` (a wire JID): pinned for `seconds`, or (with
    /// `pin` false) unpinned. A message we did not send names its `sender` (wire JID) in a group.
    package static func pin(
        id: String, chat: String, fromMe: Bool, sender: String?, pin: Bool, seconds: UInt32, now: Date = Date()
    ) -> Waproto_Message {
        var pinMessage = Waproto_PinInChatMessage()
        pinMessage.key = ownKey(id: id, chat: chat)
        pinMessage.key.fromMe = fromMe
        if let sender { pinMessage.key.participant = sender }
        pinMessage.type = pin ? .pinForAll : .unpinForAll
        pinMessage.senderTimestampMs = Int64(now.timeIntervalSince1970 * 1000)
        var message = Waproto_Message()
        message.pinInChatMessage = pinMessage
        message.messageContextInfo.messageAddOnDurationInSecs = pin ? seconds : 0
        message.messageContextInfo.messageAddOnExpiryType = .static
        return message
    }

    private static func ownKey(id: String, chat: String) -> Waproto_MessageKey {
        var key = Waproto_MessageKey()
        key.remoteJid = chat
        key.fromMe = true
        key.id = id
        return key
    }
}
