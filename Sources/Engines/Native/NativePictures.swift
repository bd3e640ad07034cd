import Foundation
import Reactor
import WAProtocol

/// Group and own profile pictures over `<iq xmlns="w:profile:picture" type="set">` (reference
/// part 2, 3.6): the image goes as the bytes of `<picture type="image">`, to the group as
/// `target` or without one for the account itself; the same iq without a picture removes it.
/// Other members hear of a change through `<notification type="picture">`, shown as `group.update`.
extension LinkRef {
    /// The new picture's id, or nil for a removal.
    @discardableResult
    func setPicture(of target: JID?, image: [UInt8]?) async throws -> String? {
        var attributes: NodeAttributes = ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "w:profile:picture"]
        if let target { attributes.append("target", .jid(target)) }
        let children = image.map { [BinaryNode("picture", ["type": "image"], bytes: $0)] } ?? []
        let reply = try await request(BinaryNode("iq", attributes, children: children))
        return reply.child("picture")?.attributes.string("id")
    }
}

extension NativeLink {
    /// `<notification type="picture">` with `<set jid id author/>` or `<delete jid author/>`;
    /// only group pictures have an OpenWA event.
    func handlePictureNotification(_ node: BinaryNode) {
        let timestamp = node.attributes.string("t").flatMap(Int.init) ?? Int(Date().timeIntervalSince1970)
        for change in node.children where change.tag == "set" || change.tag == "delete" {
            guard let group = change.attributes.jid("jid") ?? node.attributes.jid("from"), group.server == JID.Server.group else {
                continue
            }
            let picture: JSONValue = change.tag == "set" ? change.attributes.string("id").map(JSONValue.string) ?? .null : .null
            let actor = (change.attributes.jid("author") ?? node.attributes.jid("participant")).map { Self.neutral($0.bare) }
            emit(
                .group(
                    GroupEvent(
                        name: "group.update", groupID: Self.neutral(group.bare), actorID: actor, participantIDs: [],
                        changes: ["picture": picture], timestamp: timestamp)))
        }
    }
}

extension NativeEngine: ProfileOperations {
    package func groupPictureURL(group: String) async throws -> String? {
        let jid = try Self.groupJID(group)
        do {
            return try await linkRef().profilePictureURL(of: jid)
        } catch let error as EngineError where error.kind == .notFound || error.kind == .forbidden {
            throw EngineError.notFound("Group \(group) not found")
        }
    }

    package func setGroupPicture(group: String, image: [UInt8]?) async throws {
        let target = try Self.groupJID(group)
        try await linkRef().setPicture(of: target, image: try await fitted(image))
    }

    package func setProfilePicture(_ image: [UInt8]?) async throws {
        try await linkRef().setPicture(of: nil, image: try await fitted(image))
    }

    /// WhatsApp keeps pictures as JPEGs of at most 640 pixels a side: a larger JPEG is scaled down
    /// (turned upright by its EXIF orientation) on a worker; anything else goes as given.
    private func fitted(_ image: [UInt8]?) async throws -> [UInt8]? {
        guard let image else { return nil }
        let lane: WorkerLane = try await reactor.submit { reactor in reactor.workers.anyLane() }
        return try await lane.run { Self.fitPicture(image) }
    }

    static let pictureMaxSide = 640

    static func fitPicture(_ image: [UInt8]) -> [UInt8] {
        let facts = MediaProbe.facts(of: image)
        guard let orientation = MediaProbe.jpegOrientation(of: image), let width = facts.width, let height = facts.height,
            max(width, height) > pictureMaxSide || orientation != 1
        else { return image }
        return JPEGThumbnail.make(from: image, orientation: orientation, maxSide: pictureMaxSide, quality: 85) ?? image
    }
}
