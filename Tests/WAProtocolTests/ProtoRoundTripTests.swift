import Foundation
import SwiftProtobuf
import Testing

@testable import WAProtocol

/// Encode/decode round trips for the messages the gateway builds, plus checks that the field numbers
/// land where the references put them.
struct ProtoRoundTripTests {
    private func roundTrip<M: SwiftProtobuf.Message & Equatable>(_ message: M) throws -> [UInt8] {
        let bytes: [UInt8] = try message.serializedBytes()
        #expect(try M(serializedBytes: bytes) == message)
        return bytes
    }

    private func key(_ id: String, fromMe: Bool = true, participant: String? = nil) -> Waproto_MessageKey {
        var key = Waproto_MessageKey()
        key.remoteJid = "120363000000000000@g.us"
        key.fromMe = fromMe
        key.id = id
        if let participant { key.participant = participant }
        return key
    }

    /// A pin: `pinInChatMessage` is field 63 of Message, its lifetime field 5 of the
    /// `messageContextInfo` (field 35) beside it, expiry type STATIC (field 9 = 1); the summary
    /// reads it back, also from a device-sent copy whose context info stays outside.
    @Test func aPinCarriesItsLifetimeInTheContextInfo() throws {
        let message = MessageCodec.pin(
            id: "3EB0PIN", chat: "15550001111@s.whatsapp.net", fromMe: false, sender: nil, pin: true, seconds: 604_800,
            now: Date(timeIntervalSince1970: 1_700_000_000))
        let bytes = try roundTrip(message)
        // Field 35 (context info), then field 63 (pin), by number.
        #expect(Array(bytes.prefix(2)) == [0x9A, 0x02], "field 35, length-delimited")
        let context: [UInt8] = try message.messageContextInfo.serializedBytes()
        #expect(context == [0x28, 0x80, 0xF5, 0x24, 0x48, 0x01], "field 5 = 604800, field 9 = STATIC")
        #expect(message.pinInChatMessage.senderTimestampMs == 1_700_000_000_000)
        #expect(MessageCodec.summary(of: message).change == .pin(targetID: "3EB0PIN", pinned: true, seconds: 604_800))

        var outer = MessageCodec.deviceSent(message, destination: "15550001111@s.whatsapp.net")
        outer.pinInChatMessage.key.id = "ignored"
        outer.deviceSentMessage.message.clearMessageContextInfo()
        outer.messageContextInfo.messageAddOnDurationInSecs = 86_400
        #expect(MessageCodec.summary(of: outer).change == .pin(targetID: "3EB0PIN", pinned: true, seconds: 86_400))

        let unpin = MessageCodec.pin(id: "3EB0PIN", chat: "x@s.whatsapp.net", fromMe: true, sender: nil, pin: false, seconds: 604_800)
        #expect(unpin.messageContextInfo.messageAddOnDurationInSecs == 0)
        #expect(MessageCodec.summary(of: unpin).change == .pin(targetID: "3EB0PIN", pinned: false, seconds: 0))
    }

    @Test func replyWithMentionsRoundTripsAtTheRightFieldNumbers() throws {
        var quoted = Waproto_Message()
        quoted.conversation = "original"
        var context = Waproto_ContextInfo()
        context.stanzaID = "3EB0ABCDEF"
        context.participant = "15550001111@s.whatsapp.net"
        context.quotedMessage = quoted
        context.remoteJid = "120363000000000000@g.us"
        context.mentionedJid = ["15550002222@s.whatsapp.net", "15550003333@s.whatsapp.net"]
        var text = Waproto_ExtendedTextMessage()
        text.text = "@2222 @3333 hi"
        text.contextInfo = context
        var message = Waproto_Message()
        message.extendedTextMessage = text
        let bytes = try roundTrip(message)
        #expect(bytes.first == 0x32)  // field 6, length-delimited
        let inner: [UInt8] = try text.serializedBytes()
        #expect(inner.contains(0x8A) && inner[inner.firstIndex(of: 0x8A)! + 1] == 0x01)  // field 17 tag 8a 01
        let contextBytes: [UInt8] = try context.serializedBytes()
        #expect(contextBytes.starts(with: [0x0A, 0x0A] + Array("3EB0ABCDEF".utf8)))
        #expect(contextBytes.contains(0x7A))  // field 15 (mentionedJID) tag
    }

    @Test func mediaMessagesRoundTrip() throws {
        var image = Waproto_ImageMessage()
        image.url = "https://mmg.whatsapp.net/x"
        image.mimetype = "image/jpeg"
        image.caption = "cat"
        image.fileSha256 = Data(repeating: 1, count: 32)
        image.fileEncSha256 = Data(repeating: 2, count: 32)
        image.mediaKey = Data(repeating: 3, count: 32)
        image.fileLength = 12345
        image.height = 640
        image.width = 480
        image.directPath = "/v/t62/x"
        image.mediaKeyTimestamp = 1_700_000_000
        image.jpegThumbnail = Data([0xFF, 0xD8])
        image.viewOnce = true
        var video = Waproto_VideoMessage()
        video.caption = "clip"
        video.seconds = 12
        video.gifPlayback = true
        var audio = Waproto_AudioMessage()
        audio.ptt = true
        audio.seconds = 4
        audio.waveform = Data(repeating: 9, count: 64)
        var document = Waproto_DocumentMessage()
        document.fileName = "report.pdf"
        document.title = "report"
        document.pageCount = 3
        document.caption = "see attached"
        var sticker = Waproto_StickerMessage()
        sticker.isAnimated = true
        sticker.pngThumbnail = Data([0x89, 0x50])
        var location = Waproto_LocationMessage()
        location.degreesLatitude = 52.37
        location.degreesLongitude = 4.89
        location.name = "Dam"
        var contact = Waproto_ContactMessage()
        contact.displayName = "Ann"
        contact.vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEND:VCARD"
        var contacts = Waproto_ContactsArrayMessage()
        contacts.displayName = "2 contacts"
        contacts.contacts = [contact, contact]

        var message = Waproto_Message()
        message.imageMessage = image
        message.videoMessage = video
        message.audioMessage = audio
        message.documentMessage = document
        message.stickerMessage = sticker
        message.locationMessage = location
        message.contactMessage = contact
        message.contactsArrayMessage = contacts
        message.ptvMessage = video
        let bytes = try roundTrip(message)
        // stickerMessage is field 26 (tag d2 01), ptvMessage field 66 (tag 92 04).
        #expect(bytes.indices.contains { bytes[$0] == 0xD2 && bytes[$0 + 1] == 0x01 })
        #expect(bytes.indices.dropLast().contains { bytes[$0] == 0x92 && bytes[$0 + 1] == 0x04 })
        var ptt = Waproto_Message()
        ptt.audioMessage = audio
        #expect(try Array(ptt.serializedBytes() as Data).starts(with: [0x42]))  // field 8
    }

    @Test func reactionsPollsAndPinsRoundTrip() throws {
        var reaction = Waproto_ReactionMessage()
        reaction.key = key("3EB0AA", fromMe: false, participant: "15550001111@s.whatsapp.net")
        reaction.text = "👍"
        reaction.senderTimestampMs = 1_700_000_000_123
        var option = Waproto_PollCreationMessage.Option()
        option.optionName = "yes"
        var poll = Waproto_PollCreationMessage()
        poll.name = "lunch?"
        poll.options = [option, option]
        poll.selectableOptionsCount = 1
        var vote = Waproto_PollEncValue()
        vote.encPayload = Data(repeating: 7, count: 40)
        vote.encIv = Data(repeating: 8, count: 12)
        var update = Waproto_PollUpdateMessage()
        update.pollCreationMessageKey = key("3EB0BB")
        update.vote = vote
        update.senderTimestampMs = 5
        var secret = Waproto_MessageContextInfo()
        secret.messageSecret = Data(repeating: 0x80, count: 32)
        var devices = Waproto_DeviceListMetadata()
        devices.senderKeyHash = Data([1, 2])
        devices.senderTimestamp = 99
        devices.recipientKeyIndexes = [1, 2, 3]
        secret.deviceListMetadata = devices

        for field in [49, 60, 64] {
            var message = Waproto_Message()
            switch field {
            case 49: message.pollCreationMessage = poll
            case 60: message.pollCreationMessageV2 = poll
            default: message.pollCreationMessageV3 = poll
            }
            message.messageContextInfo = secret
            let bytes = try roundTrip(message)
            // Fields are written in number order: messageContextInfo (35, tag 9a 02) first, then the poll.
            let contextLength = try Array(secret.serializedBytes() as Data).count
            let tag = UInt(field) << 3 | 2
            #expect(bytes.starts(with: [0x9A, 0x02, UInt8(contextLength)]))
            #expect(Array(bytes[(3 + contextLength)...].prefix(2)) == [UInt8(tag & 0x7F | 0x80), UInt8(tag >> 7)])
        }
        var message = Waproto_Message()
        message.reactionMessage = reaction
        message.pollUpdateMessage = update
        var pin = Waproto_PinInChatMessage()
        pin.key = key("3EB0CC")
        pin.type = .pinForAll
        message.pinInChatMessage = pin
        let bytes = try roundTrip(message)
        #expect(bytes.starts(with: [0xF2, 0x02]))  // reactionMessage = 46
        var vote2 = Waproto_PollVoteMessage()
        vote2.selectedOptions = [Data(repeating: 1, count: 32)]
        _ = try roundTrip(vote2)
    }

    @Test func protocolMessagesAndWrappersRoundTrip() throws {
        var edited = Waproto_Message()
        edited.conversation = "fixed typo"
        var edit = Waproto_ProtocolMessage()
        edit.type = .messageEdit
        edit.key = key("3EB0DD")
        edit.editedMessage = edited
        edit.timestampMs = 1_700_000_000_000
        var wrapper = Waproto_FutureProofMessage()
        wrapper.message.protocolMessage = edit
        var message = Waproto_Message()
        message.editedMessage = wrapper
        let bytes = try roundTrip(message)
        #expect(bytes.starts(with: [0xD2, 0x03]))  // editedMessage = 58

        var revoke = Waproto_ProtocolMessage()
        revoke.type = .revoke
        revoke.key = key("3EB0EE")
        var revokeMessage = Waproto_Message()
        revokeMessage.protocolMessage = revoke
        #expect(try roundTrip(revokeMessage).starts(with: [0x62]))  // protocolMessage = 12
        #expect(try Array(revoke.serializedBytes() as Data).contains(0x10))  // type (field 2) written even as 0

        var shareKey = Waproto_AppStateSyncKey()
        shareKey.keyID.keyID = Data(signalHex("000000010002"))
        shareKey.keyData.keyData = Data(repeating: 0x40, count: 32)
        shareKey.keyData.fingerprint.rawID = 7
        shareKey.keyData.fingerprint.deviceIndexes = [0, 1]
        shareKey.keyData.timestamp = 1_700_000_000_000
        var share = Waproto_ProtocolMessage()
        share.type = .appStateSyncKeyShare
        share.appStateSyncKeyShare.keys = [shareKey]
        var history = Waproto_ProtocolMessage()
        history.type = .historySyncNotification
        history.historySyncNotification.syncType = .initialBootstrap
        history.historySyncNotification.directPath = "/v/t62/h"
        history.historySyncNotification.mediaKey = Data(repeating: 1, count: 32)
        history.historySyncNotification.chunkOrder = 1
        var request = Waproto_ProtocolMessage()
        request.type = .appStateSyncKeyRequest
        var keyID = Waproto_AppStateSyncKeyId()
        keyID.keyID = Data([1, 2, 3])
        request.appStateSyncKeyRequest.keyIds = [keyID]
        for protocolMessage in [share, history, request] {
            var message = Waproto_Message()
            message.protocolMessage = protocolMessage
            _ = try roundTrip(message)
        }

        var distribution = Waproto_SenderKeyDistributionMessage()
        distribution.groupID = "120363000000000000@g.us"
        distribution.axolotlSenderKeyDistributionMessage = Data([0x33, 0x08, 0x01])
        var sent = Waproto_DeviceSentMessage()
        sent.destinationJid = "15550001111@s.whatsapp.net"
        sent.message.conversation = "hi"
        var viewOnce = Waproto_FutureProofMessage()
        viewOnce.message.imageMessage.caption = "once"
        var message2 = Waproto_Message()
        message2.senderKeyDistributionMessage = distribution
        message2.deviceSentMessage = sent
        message2.viewOnceMessageV2 = viewOnce
        message2.ephemeralMessage = viewOnce
        message2.documentWithCaptionMessage = viewOnce
        _ = try roundTrip(message2)
    }

    @Test func unknownFieldsSurviveAReEncode() throws {
        // Message with conversation plus field 75 (eventMessage), which our schema leaves out.
        let bytes = signalHex("0a026869" + "da0403" + "1a0178")
        let message = try Waproto_Message(serializedBytes: bytes)
        #expect(message.conversation == "hi")
        #expect(try Array(message.serializedBytes() as Data) == bytes)
    }

    @Test func historySyncRoundTrips() throws {
        var info = Waproto_WebMessageInfo()
        info.key = key("3EB0FF", fromMe: false)
        info.message.conversation = "old message"
        info.messageTimestamp = 1_690_000_000
        info.status = .read
        info.pushName = "Ann"
        info.messageSecret = Data(repeating: 5, count: 32)
        var item = Waproto_HistorySyncMsg()
        item.message = info
        item.msgOrderID = 1
        var conversation = Waproto_Conversation()
        conversation.id = "15550001111@s.whatsapp.net"
        conversation.messages = [item]
        conversation.unreadCount = 2
        conversation.name = "Ann"
        conversation.lidJid = "123456789@lid"
        var pushName = Waproto_Pushname()
        pushName.id = "15550001111@s.whatsapp.net"
        pushName.pushname = "Ann"
        var mapping = Waproto_PhoneNumberToLIDMapping()
        mapping.pnJid = "15550001111@s.whatsapp.net"
        mapping.lidJid = "123456789@lid"
        var sync = Waproto_HistorySync()
        sync.syncType = .initialBootstrap
        sync.conversations = [conversation]
        sync.pushnames = [pushName]
        sync.phoneNumberToLidMappings = [mapping]
        sync.chunkOrder = 1
        sync.progress = 100
        _ = try roundTrip(sync)
    }

    @Test func appStateStructuresRoundTrip() throws {
        var record = Waproto_SyncdRecord()
        record.index.blob = Data(signalHex("08886da3af9bef5bc556aa377574626661400dfe1bf12d2d53cc5e605e996d56"))
        record.value.blob = Data(repeating: 0xA0, count: 96)
        record.keyID.id = Data(signalHex("000000010002"))
        var mutation = Waproto_SyncdMutation()
        mutation.operation = .set
        mutation.record = record
        var patch = Waproto_SyncdPatch()
        patch.version.version = 1
        patch.mutations = [mutation]
        patch.snapshotMac = Data(signalHex("f7c4afb1be93f93a47d7dcd1899d07751659a68e067d2d07f5a9c12798f2b702"))
        patch.patchMac = Data(signalHex("549fadc86f533e68b0da5b456fb3de6832b32229628182ecc80f7d98d9e52661"))
        patch.keyID.id = Data(signalHex("000000010002"))
        patch.deviceIndex = 0
        var external = Waproto_ExternalBlobReference()
        external.mediaKey = Data(repeating: 1, count: 32)
        external.directPath = "/v/t62/syncd"
        external.fileSizeBytes = 1024
        patch.externalMutations = external
        _ = try roundTrip(patch)
        var snapshot = Waproto_SyncdSnapshot()
        snapshot.version.version = 5
        snapshot.records = [record, record]
        snapshot.mac = Data(repeating: 2, count: 32)
        snapshot.keyID.id = Data([1])
        _ = try roundTrip(snapshot)
        var mutations = Waproto_SyncdMutations()
        mutations.mutations = [mutation, mutation]
        _ = try roundTrip(mutations)

        var value = Waproto_SyncActionValue()
        value.timestamp = 1
        value.pinAction.pinned = true
        value.archiveChatAction.archived = true
        value.archiveChatAction.messageRange.lastMessageTimestamp = 10
        value.markChatAsReadAction.read = true
        value.contactAction.fullName = "Ann Example"
        value.pushNameSetting.name = "me"
        value.starAction.starred = true
        value.deleteMessageForMeAction.deleteMedia = true
        value.chatClearAction.messageRange.lastMessageTimestamp = 2
        value.deleteChatAction.messageRange.lastSystemMessageTimestamp = 3
        _ = try roundTrip(value)
    }

    @Test func signalWireAndStateRecordsRoundTrip() throws {
        var whisper = Wasignal_SignalMessage()
        whisper.ratchetKey = Data([0x05] + [UInt8](repeating: 1, count: 32))
        whisper.counter = 0
        whisper.previousCounter = 0
        whisper.ciphertext = Data(repeating: 2, count: 16)
        let bytes = try roundTrip(whisper)
        #expect(Array(bytes[35..<39]) == [0x10, 0x00, 0x18, 0x00])  // zero counters still written
        var preKey = Wasignal_PreKeySignalMessage()
        preKey.registrationID = 4660
        preKey.signedPreKeyID = 1
        preKey.message = Data(bytes)
        _ = try roundTrip(preKey)
        var record = Wasignal_SenderKeyRecordStructure()
        var state = Wasignal_SenderKeyStateStructure()
        state.senderKeyID = 9
        state.senderChainKey.iteration = 3
        state.senderSigningKey.publicKey = Data(repeating: 4, count: 32)
        record.senderKeyStates = [state]
        _ = try roundTrip(record)
    }
}
