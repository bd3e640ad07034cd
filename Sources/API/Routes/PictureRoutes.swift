import Engines
import Foundation
import Reactor

/// Group pictures (`…/groups/:groupId/picture`, reference 2.7) and the account's own profile
/// (`…/profile/picture`, `…/profile/name`, `…/profile/status`, reference 2.13). A new picture comes as `base64` with an image
/// `mimetype` (or a `data:image/…;base64,` URL) or as a `url` fetched through the same
/// SSRF-guarded downloader as the send routes, capped at `MEDIA_DOWNLOAD_MAX_BYTES` (413).
/// The bytes go to WhatsApp as given: the engine does not resize or re-encode them.
package enum PictureRoutes {
    static let fields: Set<String> = ["url", "base64", "mimetype"]

    package static func routes(sessions: SessionManager, media: MediaDownloader) -> [Route] {
        let read = RouteAccess.key(minimum: .viewer, sessionParameter: "id")
        let write = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        let group = "/api/sessions/:id/groups/:groupId/picture"
        let profile = "/api/sessions/:id/profile/picture"
        return [
            Route("GET", group, access: read, handler: .task { context in
                let id = try GroupDTO.groupID(context)
                let url = try await sessions.groupOperations(id: context.parameter("id")).groupPictureURL(group: id)
                return .json(["url": url.map(JSONValue.string) ?? .null])
            }),
            Route("PUT", group, access: write, handler: .task { context in
                let id = try GroupDTO.groupID(context)
                let image = try await picture(context, media: media, sessions: sessions)
                try await sessions.groupOperations(id: context.parameter("id")).setGroupPicture(group: id, image: image)
                return .json(["success": true, "message": "Group picture updated"])
            }),
            Route("DELETE", group, access: write, handler: .task { context in
                let id = try GroupDTO.groupID(context)
                try await sessions.groupOperations(id: context.parameter("id")).setGroupPicture(group: id, image: nil)
                return .json(["success": true, "message": "Group picture removed"])
            }),
            Route("PUT", profile, access: write, handler: .task { context in
                let image = try await picture(context, media: media, sessions: sessions)
                try await sessions.profileOperations(id: context.parameter("id")).setProfilePicture(image)
                return .json(["success": true, "message": "Profile picture updated"])
            }),
            Route("DELETE", profile, access: write, handler: .task { context in
                try await sessions.profileOperations(id: context.parameter("id")).setProfilePicture(nil)
                return .json(["success": true, "message": "Profile picture removed"])
            }),
            Route("PUT", "/api/sessions/:id/profile/name", access: write, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: ["name"]))
                let name = dto.required("name", max: 25)
                try dto.validate()
                try await sessions.profileOperations(id: context.parameter("id")).setPushName(name)
                return .json(["success": true, "message": "Profile name updated"])
            }),
            Route("PUT", "/api/sessions/:id/profile/status", access: write, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: ["status"]))
                let status = dto.present("status", max: 139)
                try dto.validate()
                try await sessions.profileOperations(id: context.parameter("id")).setAbout(status)
                return .json(["success": true, "message": "Profile status updated"])
            }),
        ]
    }

    /// The image a `PUT` carries, checked to be an image under the cap.
    static func picture(_ context: APIContext, media: MediaDownloader, sessions: SessionManager) async throws -> [UInt8] {
        var dto = MessageSendDTO(try context.jsonObject(allowing: fields))
        let source = dto.mediaSource()
        var mimetype = dto.optional("mimetype", max: 255)
        try dto.validate()
        let bytes: [UInt8]
        switch source {
        case .base64(let text)?:
            let decoded = try MessageSendDTO.decode(text, maxBytes: media.settings.maxBytes)
            mimetype = mimetype ?? decoded.mimetype
            guard mimetype != nil else { throw APIError.validation(["mimetype should not be empty when base64 is given"]) }
            try requireImage(mimetype)
            bytes = decoded.bytes
        case .url(let url)?:
            try requireImage(mimetype)
            // The download is the costly part: a session that cannot use the picture is refused before it.
            guard try await sessions.get(id: context.parameter("id")).status == .ready else {
                throw EngineError.invalid("Session is not ready")
            }
            let download = try await media.download(url)
            try requireImage(mimetype ?? download.contentType)
            bytes = download.bytes
        case .file?, nil:
            preconditionFailure("validate() refuses a body without url or base64, and JSON has no file")
        }
        guard !bytes.isEmpty else { throw APIError.validation(["the picture must not be empty"]) }
        return bytes
    }

    /// A missing type is let through for a URL (the server said nothing); a stated one must be `image/*`.
    private static func requireImage(_ mimetype: String?) throws(APIError) {
        guard let mimetype else { return }
        guard mimetype.lowercased().hasPrefix("image/") else {
            throw APIError.validation(["mimetype must be an image type (image/*), not \(mimetype)"])
        }
    }
}
