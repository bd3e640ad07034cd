import Foundation

/// Messages that act on earlier ones (reference part 2, 4.3 and 4.4): revoke ("delete for
/// everyone") and edit; forwarded copies are in `MessageCodec+Forward.swift`.
extension MessageCodec {
    /// The stanza `edit` attribute of a message edit and of a sender's revoke (section 2.2).
    package static let editAttribute = "1"
    package static let senderRevokeAttribute = "7"
    /// The `edit` attribute of a group admin's revoke of a member's message.
    package static let adminRevokeAttribute = "8"

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

    private static func ownKey(id: String, chat: String) -> Waproto_MessageKey {
        var key = Waproto_MessageKey()
        key.remoteJid = chat
        key.fromMe = true
        key.id = id
        return key
    }
}
