import Foundation
import Reactor
import WAProtocol

/// What the row of a location or contact card keeps in `metadata`, sent and received alike, so
/// the message can be rebuilt later (a forward): OpenWA's `location {latitude, longitude,
/// description?, address?, url?}` and `contact {displayName, vcard}`.
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
