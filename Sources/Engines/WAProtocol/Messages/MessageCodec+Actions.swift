import Foundation

/// Messages that act on earlier ones (reference part 2, 4.3 and 4.4): revoke ("delete for
/// everyone"), edit, and forwarded copies.
extension MessageCodec {
    /// The stanza `edit` attribute of a message edit and of a sender's revoke (section 2.2).
    package static let editAttribute = "1"
    package static let senderRevokeAttribute = "7"

    /// `protocolMessage{REVOKE, key}` for our own message `id` in `chat` (a wire JID).
    package static func revoke(id: String, chat: String) -> Waproto_Message {
        var protocolMessage = Waproto_ProtocolMessage()
        protocolMessage.type = .revoke
        protocolMessage.key = ownKey(id: id, chat: chat)
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

    /// Text marked as forwarded (`contextInfo.isForwarded`, `forwardingScore`): always an
    /// `extendedTextMessage`, the form that carries a context.
    package static func forwardedText(_ text: String, score: UInt32) -> Waproto_Message {
        var extended = Waproto_ExtendedTextMessage()
        extended.text = text
        extended.contextInfo = forwardingContext(score: score)
        var message = Waproto_Message()
        message.extendedTextMessage = extended
        return message
    }

    /// A poll marked as forwarded; it gets a secret of its own, since votes are keyed per poll.
    package static func forwardedPoll(
        name: String, options: [String], selectable: UInt32, secret: [UInt8], score: UInt32
    ) -> Waproto_Message {
        var message = poll(name: name, options: options, selectable: selectable, secret: secret)
        message.pollCreationMessage.contextInfo = forwardingContext(score: score)
        return message
    }

    /// Whether the content (inside a device-sent copy, if it is one) is marked as forwarded.
    package static func isForwarded(_ message: Waproto_Message) -> Bool {
        let content = message.hasDeviceSentMessage ? message.deviceSentMessage.message : message
        if content.hasExtendedTextMessage { return content.extendedTextMessage.contextInfo.isForwarded }
        if content.hasPollCreationMessage { return content.pollCreationMessage.contextInfo.isForwarded }
        return false
    }

    private static func forwardingContext(score: UInt32) -> Waproto_ContextInfo {
        var context = Waproto_ContextInfo()
        context.isForwarded = true
        context.forwardingScore = score
        return context
    }

    private static func ownKey(id: String, chat: String) -> Waproto_MessageKey {
        var key = Waproto_MessageKey()
        key.remoteJid = chat
        key.fromMe = true
        key.id = id
        return key
    }
}
