import Foundation
import Reactor
import WAProtocol

/// What the row of a location or contact card keeps in `metadata`, sent and received alike, so
/// the message can be rebuilt later (a forward): OpenWA's `location {latitude, longitude,
/// description?, address?, url?}` (with `live: true` for a live location) and `contact
/// {displayName, vcard}` (several cards also as `contacts`); and a group invite's
/// `groupInvite {groupId, inviteCode, groupName, inviteExpiration}`.
enum CardMetadata {
    /// The metadata of a location or contact card message; nil for other content.
    static func of(_ message: Waproto_Message) -> JSONValue? {
        let content = MessageCodec.unwrapped(message)
        if content.hasLocationMessage {
            let place = content.locationMessage
            return location(
                latitude: place.degreesLatitude, longitude: place.degreesLongitude, description: place.hasName ? place.name : nil,
                address: place.hasAddress ? place.address : nil, url: place.hasURL ? place.url : nil)
        }
        if content.hasContactMessage {
            return contact(displayName: content.contactMessage.displayName, vcard: content.contactMessage.vcard)
        }
        if content.hasContactsArrayMessage, let first = content.contactsArrayMessage.contacts.first {
            // `contact` is the first card (what OpenWA's single-card shape shows), `contacts` all of them.
            let cards = content.contactsArrayMessage.contacts.map { card -> JSONValue in
                ["displayName": .string(card.displayName), "vcard": .string(card.vcard)]
            }
            return contact(displayName: first.displayName, vcard: first.vcard).setting("contacts", .array(cards))
        }
        if content.hasLiveLocationMessage {
            let live = content.liveLocationMessage
            let place = location(
                latitude: live.degreesLatitude, longitude: live.degreesLongitude, description: live.hasCaption ? live.caption : nil,
                address: nil)
            return ["location": (place["location"] ?? .object([])).setting("live", true)]
        }
        if content.hasGroupInviteMessage {
            let invite = content.groupInviteMessage
            return [
                "groupInvite": [
                    "groupId": .string(invite.groupJid), "inviteCode": .string(invite.inviteCode), "groupName": .string(invite.groupName),
                    "inviteExpiration": .number(Double(invite.inviteExpiration)),
                ]
            ]
        }
        return nil
    }

    static func location(latitude: Double, longitude: Double, description: String?, address: String?, url: String? = nil) -> JSONValue {
        var place: JSONValue = ["latitude": .number(latitude), "longitude": .number(longitude)]
        if let description { place = place.setting("description", .string(description)) }
        if let address { place = place.setting("address", .string(address)) }
        if let url { place = place.setting("url", .string(url)) }
        return ["location": place]
    }

    static func contact(displayName: String, vcard: String) -> JSONValue {
        ["contact": ["displayName": .string(displayName), "vcard": .string(vcard)]]
    }

    /// The location or contact card a row describes; nil when its metadata lacks what it takes.
    static func message(type: String, metadata: JSONValue?) -> Waproto_Message? {
        switch type {
        case "location":
            guard let place = metadata?["location"], let latitude = place["latitude"]?.numberValue,
                let longitude = place["longitude"]?.numberValue
            else { return nil }
            var message = MessageCodec.location(
                latitude: latitude, longitude: longitude, name: place["description"]?.stringValue,
                address: place["address"]?.stringValue, quote: nil)
            if let url = place["url"]?.stringValue { message.locationMessage.url = url }
            return message
        case "contact":
            if let cards = metadata?["contacts"]?.arrayValue, cards.count > 1 {
                return MessageCodec.contactCards(
                    cards.compactMap { card in
                        card["vcard"]?.stringValue.map { (displayName: card["displayName"]?.stringValue ?? "", vcard: $0) }
                    })
            }
            guard let card = metadata?["contact"], let vcard = card["vcard"]?.stringValue else { return nil }
            return MessageCodec.contactCard(displayName: card["displayName"]?.stringValue ?? "", vcard: vcard)
        default:
            return nil
        }
    }
}

extension NativeLink {
    /// `entry` with its location or contact card in `metadata` when `decoded` is one.
    static func withCard(of decoded: Waproto_Message, _ entry: InboundItem) -> InboundItem {
        guard case .message(var message) = entry, let card = CardMetadata.of(decoded), case .object(let members) = card else {
            return entry
        }
        var metadata = message.metadata ?? .object([])
        for (key, value) in members { metadata = metadata.setting(key, value) }
        message.metadata = metadata
        return .message(message)
    }
}
