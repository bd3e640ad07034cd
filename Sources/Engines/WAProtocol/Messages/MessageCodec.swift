import Foundation
import Reactor
import SwiftProtobuf

/// The plaintext side of a message: building the `waE2E.Message` a send carries, and reading one
/// a device received (reference part 2, sections 1.10, 1.12, 2.1 and 4).
package enum MessageCodec {
    /// What a received message shows: OpenWA's neutral type and its text (body or caption).
    package struct Summary: Sendable, Equatable {
        package var type: String
        package var body: String
        /// For a copy our own other device sent (`deviceSentMessage`): the chat it went to.
        package var deviceSentTo: String?
        /// What this message does to an earlier one, instead of being a message of its own.
        package var change: Change?
        /// The id of the message this one replies to.
        package var quotedID: String?
        /// For a poll: its options, how many a voter may pick (0 = any) and the secret of its votes.
        package var poll: Poll?
        /// False for what is no message of its own (key distribution, protocol messages, add-ons
        /// such as keep-in-chat): it is applied or ignored, never stored. An `unknown` message
        /// with this true is content this gateway cannot read (buttons, events, orders…), which
        /// is kept as such rather than lost.
        package var isContent = true

        package init(type: String, body: String, deviceSentTo: String? = nil, change: Change? = nil, quotedID: String? = nil) {
            self.type = type
            self.body = body
            self.deviceSentTo = deviceSentTo
            self.change = change
            self.quotedID = quotedID
        }
    }

    package struct Poll: Sendable, Equatable {
        package var options: [String]
        package var selectable: UInt32
        package var secret: [UInt8]
    }

    /// Reactions, revokes and edits name the message they change by its id.
    package enum Change: Sendable, Equatable {
        case reaction(targetID: String, emoji: String)
        case revoke(targetID: String)
        case edit(targetID: String, body: String)
        /// A sealed vote on the poll `targetID` (opened with that poll's secret).
        case pollVote(targetID: String, vote: Waproto_PollEncValue)
        /// The message `targetID` pinned in its chat for `seconds`, or unpinned.
        case pin(targetID: String, pinned: Bool, seconds: UInt32)
    }

    /// A new message id in WA Web's current form: `3EB0` and 18 hex digits of a SHA-256 over the
    /// time, our user and 16 random bytes (section 2.1); ids only have to be unique.
    package static func newMessageID(ownUser: String?, now: UInt64 = UInt64(Date().timeIntervalSince1970)) throws -> String {
        var data = (0..<8).map { UInt8(truncatingIfNeeded: now >> (56 - 8 * UInt64($0))) }
        if let ownUser { data += Array("\(ownUser)@c.us".utf8) }
        data += try Crypto.randomBytes(16)
        return "3EB0" + Crypto.hex(Crypto.sha256(data).prefix(9)).uppercased()
    }

    /// A plain text message.
    package static func text(_ text: String) -> Waproto_Message {
        var message = Waproto_Message()
        message.conversation = text
        return message
    }

    /// The copy of `message` for our own other devices: wrapped so they file it under `destination`.
    package static func deviceSent(_ message: Waproto_Message, destination: String) -> Waproto_Message {
        var wrapper = Waproto_Message()
        var sent = Waproto_DeviceSentMessage()
        sent.destinationJid = destination
        sent.message = message
        wrapper.deviceSentMessage = sent
        if message.hasMessageContextInfo { wrapper.messageContextInfo = message.messageContextInfo }
        return wrapper
    }

    /// Serialized and padded, ready for Signal encryption (`enc v="2"`).
    package static func padded(_ message: Waproto_Message) throws -> [UInt8] {
        try MessagePadding.pad(Array(message.serializedBytes() as Data))
    }

    /// Parses a Message's bytes as they are (no padding).
    package static func decode(unpadded bytes: [UInt8]) throws -> Waproto_Message {
        try Waproto_Message(serializedBytes: bytes)
    }

    /// Strips the padding and parses a decrypted payload.
    package static func decode(padded: [UInt8]) throws -> Waproto_Message {
        let plaintext = try MessagePadding.unpad(padded)
        do {
            return try Waproto_Message(serializedBytes: plaintext)
        } catch {
            throw ProtocolError.signalMalformed("the decrypted payload is not a waE2E.Message")
        }
    }

    /// The type and text of `message`, after unwrapping the device-sent, ephemeral and view-once
    /// envelopes (section 3.2, step 3).
    package static func summary(of message: Waproto_Message) -> Summary {
        var content = message
        var deviceSentTo: String?
        if content.hasDeviceSentMessage {
            deviceSentTo = content.deviceSentMessage.destinationJid
            content = content.deviceSentMessage.message
        }
        for _ in 0..<3 {
            if content.hasEphemeralMessage { content = content.ephemeralMessage.message }
            else if content.hasViewOnceMessage { content = content.viewOnceMessage.message }
            else { break }
        }
        var summary = classify(content)
        summary.deviceSentTo = deviceSentTo
        // A pin's lifetime rides in the context info, which the device-sent copy keeps outside.
        if case .pin(let target, true, 0)? = summary.change, message.messageContextInfo.messageAddOnDurationInSecs > 0 {
            summary.change = .pin(targetID: target, pinned: true, seconds: message.messageContextInfo.messageAddOnDurationInSecs)
        }
        if let creation = content.hasPollCreationMessage ? content.pollCreationMessage
            : content.hasPollCreationMessageV3 ? content.pollCreationMessageV3 : nil
        {
            let secret = content.hasMessageContextInfo ? content.messageContextInfo.messageSecret : message.messageContextInfo.messageSecret
            summary.poll = Poll(
                options: creation.options.map(\.optionName), selectable: creation.selectableOptionsCount, secret: Array(secret))
        }
        return summary
    }

    private static func classify(_ content: Waproto_Message) -> Summary {
        if content.hasReactionMessage {
            let reaction = content.reactionMessage
            return Summary(type: "reaction", body: reaction.text, change: .reaction(targetID: reaction.key.id, emoji: reaction.text))
        }
        if content.hasPinInChatMessage {
            let pin = content.pinInChatMessage
            return Summary(
                type: "pin", body: "",
                change: .pin(
                    targetID: pin.key.id, pinned: pin.type == .pinForAll, seconds: content.messageContextInfo.messageAddOnDurationInSecs))
        }
        if content.hasPollUpdateMessage {
            let update = content.pollUpdateMessage
            return Summary(type: "poll_vote", body: "", change: .pollVote(targetID: update.pollCreationMessageKey.id, vote: update.vote))
        }
        if content.hasEditedMessage, content.editedMessage.message.hasProtocolMessage {
            return classify(content.editedMessage.message)
        }
        if content.hasProtocolMessage {
            let protocolMessage = content.protocolMessage
            switch protocolMessage.type {
            case .revoke: return Summary(type: "revoked", body: "", change: .revoke(targetID: protocolMessage.key.id))
            case .messageEdit:
                let body = classify(protocolMessage.editedMessage).body
                return Summary(type: "edited", body: body, change: .edit(targetID: protocolMessage.key.id, body: body))
            default:
                var summary = Summary(type: "unknown", body: "")
                summary.isContent = false
                return summary
            }
        }
        var summary = plain(content)
        let quoted = quotedID(content)
        if let quoted, !quoted.isEmpty { summary.quotedID = quoted }
        return summary
    }

    private static func plain(_ content: Waproto_Message) -> Summary {
        if content.hasConversation { return Summary(type: "text", body: content.conversation) }
        if content.hasExtendedTextMessage { return Summary(type: "text", body: content.extendedTextMessage.text) }
        if content.hasImageMessage { return Summary(type: "image", body: content.imageMessage.caption) }
        if content.hasVideoMessage { return Summary(type: "video", body: content.videoMessage.caption) }
        if content.hasAudioMessage { return Summary(type: content.audioMessage.ptt ? "voice" : "audio", body: "") }
        if content.hasDocumentMessage { return Summary(type: "document", body: content.documentMessage.caption) }
        if content.hasStickerMessage { return Summary(type: "sticker", body: "") }
        if content.hasLocationMessage { return Summary(type: "location", body: content.locationMessage.name) }
        if content.hasContactMessage { return Summary(type: "contact", body: content.contactMessage.displayName) }
        if content.hasPollCreationMessage { return Summary(type: "poll", body: content.pollCreationMessage.name) }
        if content.hasPollCreationMessageV3 { return Summary(type: "poll", body: content.pollCreationMessageV3.name) }
        if content.hasPtvMessage { return Summary(type: "video", body: content.ptvMessage.caption) }
        if content.hasContactsArrayMessage {
            let cards = content.contactsArrayMessage
            return Summary(type: "contact", body: cards.displayName.isEmpty ? cards.contacts.first?.displayName ?? "" : cards.displayName)
        }
        if content.hasLiveLocationMessage { return Summary(type: "location", body: content.liveLocationMessage.caption) }
        if content.hasGroupInviteMessage { return Summary(type: "unknown", body: content.groupInviteMessage.caption) }
        var summary = Summary(type: "unknown", body: "")
        summary.isContent = !Set(topLevelFields(content.unknownFields.data)).isDisjoint(with: unreadableContentFields)
        return summary
    }

    /// Message fields (by number) that carry something a person sent, which this gateway does
    /// not decode: template and highly structured messages, payments, products, lists, orders,
    /// invoices, buttons and their replies, interactive messages, phone number requests,
    /// scheduled calls, call logs, lottie stickers, events, newsletter invites, poll snapshots.
    static let unreadableContentFields: Set<Int> = [
        14, 16, 22, 25, 29, 30, 36, 38, 39, 41, 42, 43, 44, 45, 48, 54, 61, 69, 72, 74, 75, 78, 84,
    ]

    /// The field numbers at the top level of encoded protobuf bytes (stops at anything malformed).
    static func topLevelFields(_ data: Data) -> [Int] {
        let bytes = [UInt8](data)
        var fields: [Int] = []
        var index = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while index < bytes.count, let key = varint() {
            fields.append(Int(key >> 3))
            switch key & 7 {
            case 0: guard varint() != nil else { return fields }
            case 1: index += 8
            case 2:
                guard let length = varint(), length <= UInt64(bytes.count - index) else { return fields }
                index += Int(length)
            case 5: index += 4
            default: return fields
            }
        }
        return fields
    }

    private static func quotedID(_ content: Waproto_Message) -> String? {
        if content.hasExtendedTextMessage, content.extendedTextMessage.hasContextInfo {
            return content.extendedTextMessage.contextInfo.stanzaID
        }
        if content.hasLocationMessage, content.locationMessage.hasContextInfo { return content.locationMessage.contextInfo.stanzaID }
        if content.hasContactMessage, content.contactMessage.hasContextInfo { return content.contactMessage.contextInfo.stanzaID }
        return nil
    }
}
