import Foundation
import Reactor
import WAProtocol

/// The content a simulated phone sends on an admin request (`POST /admin/phones/:phone/messages`).
extension SimulatorCore {
    /// What an admin send asks a phone to send (`kind` text by default).
    struct PhoneContent: Decodable {
        let to: String
        let kind: String?
        let text: String?
        let id: String?
        /// The message a reaction, revoke, edit or reply is about.
        let targetId: String?
        /// Whether that message was sent by this phone (default: by the recipient's side).
        let targetFromMe: Bool?
        let emoji: String?
        /// A vote's choices, or a new poll's options.
        let options: [String]?
        let latitude: Double?
        let longitude: Double?
        let name: String?
        let number: String?
        /// A media send's file (base64), its type and its name; `text` is the caption.
        let data: String?
        let mimetype: String?
        let fileName: String?
        /// How long a pin lasts (default a day).
        let seconds: UInt32?
        /// The cards of a `contacts` send.
        let contacts: [PhoneContactCard]?
    }

    struct PhoneContactCard: Decodable {
        let name: String
        let number: String
    }

    /// An admin send: the JSON body of `POST /admin/phones/:phone/messages`.
    func sendFromPhone(_ phone: String, json: [UInt8]) throws(SimulatorError) -> PhoneSendResult {
        let body: PhoneContent
        do { body = try JSONDecoder().decode(PhoneContent.self, from: Data(json)) } catch {
            throw .badRequest("invalid JSON body for this route")
        }
        let message = try content(body, from: phone)
        let sent = try sendFromPhone(phone, to: body.to, content: message, id: body.id)
        holdMedia(of: message, id: sent.id)
        return sent
    }

    func content(_ body: PhoneContent, from phone: String) throws(SimulatorError) -> Waproto_Message {
        let chat = body.to.hasSuffix("@\(JID.Server.group)") ? body.to : JID(user: body.to, server: JID.Server.user).description
        let quote = body.targetId.map { target in
            MessageCodec.Quote(
                id: target, participant: JID(user: body.targetFromMe == true ? phone : body.to, server: JID.Server.user).description,
                message: MessageCodec.text(""))
        }
        switch body.kind ?? "text" {
        case "text":
            guard let text = body.text, !text.isEmpty else { throw .badRequest("text must not be empty") }
            return MessageCodec.text(text, quote: quote, mentions: [])
        case "reaction":
            guard let target = body.targetId else { throw .badRequest("a reaction needs targetId") }
            return MessageCodec.reaction(
                to: target, chat: chat, fromMe: body.targetFromMe ?? false, participant: nil, emoji: body.emoji ?? "")
        case "revoke", "edit":
            guard let target = body.targetId else { throw .badRequest("\(body.kind ?? "") needs targetId") }
            var key = Waproto_MessageKey()
            key.remoteJid = chat
            key.fromMe = true
            key.id = target
            var protocolMessage = Waproto_ProtocolMessage()
            protocolMessage.key = key
            protocolMessage.type = body.kind == "revoke" ? .revoke : .messageEdit
            if body.kind == "edit" {
                guard let text = body.text, !text.isEmpty else { throw .badRequest("an edit needs text") }
                protocolMessage.editedMessage = MessageCodec.text(text)
            }
            var message = Waproto_Message()
            message.protocolMessage = protocolMessage
            return message
        case "pin", "unpin":
            guard let target = body.targetId else { throw .badRequest("\(body.kind ?? "") needs targetId") }
            return MessageCodec.pin(
                id: target, chat: chat, fromMe: body.targetFromMe ?? false, sender: nil, pin: body.kind == "pin",
                seconds: body.seconds ?? 86_400)
        case "vote":
            guard let target = body.targetId, let poll = accounts[phone]?.polls[target] else {
                throw .badRequest("a vote needs the targetId of a poll this phone received")
            }
            do {
                return try MessageCodec.pollVote(
                    pollID: target, chat: chat, pollFromMe: false, options: body.options ?? [], secret: poll.secret,
                    pollSender: poll.sender, voter: JID(user: phone, server: JID.Server.user).description)
            } catch {
                throw SimulatorError(500, "the vote could not be sealed")
            }
        case "poll":
            guard let name = body.name, let options = body.options, options.count >= 2 else {
                throw .badRequest("a poll needs a name and at least two options")
            }
            let secret: [UInt8]
            do { secret = try Crypto.randomBytes(32) } catch { throw SimulatorError(500, "no randomness") }
            return MessageCodec.poll(name: name, options: options, selectable: 0, secret: secret)
        case "location":
            guard let latitude = body.latitude, let longitude = body.longitude else { throw .badRequest("latitude and longitude") }
            return MessageCodec.location(latitude: latitude, longitude: longitude, name: body.name, address: nil, quote: quote)
        case "contact":
            guard let name = body.name, let number = body.number else { throw .badRequest("a contact needs name and number") }
            return MessageCodec.contact(name: name, number: number, quote: quote)
        case "contacts":
            guard let cards = body.contacts, !cards.isEmpty else { throw .badRequest("contacts needs contacts [{name, number}]") }
            return MessageCodec.contactCards(cards.map { ($0.name, MessageCodec.vCard(name: $0.name, number: $0.number)) })
        case "live-location":
            guard let latitude = body.latitude, let longitude = body.longitude else { throw .badRequest("latitude and longitude") }
            var message = Waproto_Message()
            message.liveLocationMessage.degreesLatitude = latitude
            message.liveLocationMessage.degreesLongitude = longitude
            if let text = body.text { message.liveLocationMessage.caption = text }
            message.liveLocationMessage.sequenceNumber = 1
            return message
        case "ptv":
            // A round video note: the video attachment under `ptvMessage`.
            var message = try phoneMediaContent(body, kind: .video)
            message.ptvMessage = message.videoMessage
            message.clearVideoMessage()
            return message
        case "raw":
            // Any content, as the bytes of a waE2E Message (base64 in `data`): what this gateway cannot read.
            guard let encoded = body.data, let bytes = Data(base64Encoded: encoded), let message = try? MessageCodec.decode(unpadded: Array(bytes))
            else { throw .badRequest("raw needs data: base64 of a Message") }
            return message
        case let kind where MessageCodec.MediaMessageKind(rawValue: kind) != nil:
            return try phoneMediaContent(body, kind: MessageCodec.MediaMessageKind(rawValue: kind)!)
        default:
            throw .badRequest(
                "kind must be text, reaction, revoke, edit, pin, unpin, vote, poll, location, live-location, contact, contacts, raw, image, video, ptv, audio, ptt, document or sticker")
        }
    }
}
