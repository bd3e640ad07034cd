import Engines
import Foundation
import Reactor

/// The send routes beyond plain text (reference 2.5): media, location, contact card, reply and
/// reaction. Each answers 201 `{messageId, timestamp}` (react: 200 `{success: true}`); an
/// engine that cannot send the content answers 501. Media comes as base64 (with `mimetype`), as
/// a `url` the gateway fetches through the SSRF guard, or as the `file` part of a
/// `multipart/form-data` body (`MediaUploadForm`, streamed by the HTTP server); all are capped at
/// `MEDIA_DOWNLOAD_MAX_BYTES` (413 beyond it), and the whole body at `BODY_SIZE_LIMIT` by the
/// HTTP server.
package enum MessageSendRoutes {
    package static func routes(
        sessions: SessionManager, media: MediaDownloader, idempotency: SendIdempotency? = nil,
        typing: TypingSimulation = TypingSimulation(enabled: false)
    ) -> [Route] {
        let access = RouteAccess.key(minimum: .operator, sessionParameter: "id")
        var routes: [Route] = []
        let mediaKinds: [(String, OutgoingMedia.Kind)] = [
            ("send-image", .image), ("send-video", .video), ("send-audio", .audio), ("send-document", .document), ("send-sticker", .sticker),
        ]
        for (path, kind) in mediaKinds {
            routes.append(
                Route("POST", "/api/sessions/:id/messages/\(path)", access: access, takesUploads: true, handler: .task { context in
                    let message = try await mediaMessage(kind, context: context, media: media, sessions: sessions)
                    return try await send(message, context: context, sessions: sessions)
                }))
        }
        routes += [
            Route("POST", "/api/sessions/:id/messages/send-location", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: MessageSendDTO.locationFields))
                let chat = dto.required("chatId")
                let latitude = dto.coordinate("latitude", limit: 90)
                let longitude = dto.coordinate("longitude", limit: 180)
                let description = dto.optional("description", max: 1_024)
                let address = dto.optional("address", max: 1_024)
                let quoted = dto.optional("quotedMessageId")
                try dto.validate()
                let content = OutgoingContent.location(latitude: latitude, longitude: longitude, description: description, address: address)
                return try await send(
                    OutgoingMessage(chatID: MessageRoutes.normalizedChat(chat), content: content, quotedMessageID: quoted),
                    context: context, sessions: sessions)
            }),
            Route("POST", "/api/sessions/:id/messages/send-contact", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: MessageSendDTO.contactFields))
                let chat = dto.required("chatId")
                let name = dto.required("contactName", max: 255)
                let number = dto.required("contactNumber", max: 30)
                let quoted = dto.optional("quotedMessageId")
                try dto.validate()
                return try await send(
                    OutgoingMessage(
                        chatID: MessageRoutes.normalizedChat(chat), content: .contact(name: name, number: number), quotedMessageID: quoted),
                    context: context, sessions: sessions)
            }),
            Route("POST", "/api/sessions/:id/messages/reply", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: MessageSendDTO.replyFields))
                let chat = dto.required("chatId")
                let quoted = dto.required("quotedMessageId")
                let text = dto.required("text", max: 4_096)
                let mentions = dto.mentions()
                try dto.validate()
                let message = OutgoingMessage(
                    chatID: MessageRoutes.normalizedChat(chat), content: .text(text), quotedMessageID: quoted, mentions: mentions)
                await typing.type(text, chatID: message.chatID, sessionID: context.parameter("id"), sessions: sessions)
                return try await send(message, context: context, sessions: sessions)
            }),
            Route("POST", "/api/sessions/:id/messages/send-poll", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: MessageSendDTO.pollFields))
                let chat = dto.required("chatId")
                let name = dto.required("name", max: 255)
                let options = dto.pollOptions()
                let multiple = dto.flag("allowMultipleAnswers") ?? false
                let quoted = dto.optional("quotedMessageId")
                try dto.validate()
                return try await send(
                    OutgoingMessage(
                        chatID: MessageRoutes.normalizedChat(chat),
                        content: .poll(name: name, options: options, allowMultipleAnswers: multiple), quotedMessageID: quoted),
                    context: context, sessions: sessions)
            }),
            Route("POST", "/api/sessions/:id/messages/react", access: access, handler: .task { context in
                var dto = MessageSendDTO(try context.jsonObject(allowing: MessageSendDTO.reactFields))
                let chat = dto.required("chatId")
                let messageID = dto.required("messageId")
                let emoji = dto.present("emoji", max: 32)
                try dto.validate()
                let message = OutgoingMessage(
                    chatID: MessageRoutes.normalizedChat(chat), content: .reaction(messageID: messageID, emoji: emoji))
                _ = try await sessions.send(id: context.parameter("id"), message)
                return .json(["success": true])
            }),
        ]
        // Every single send but a reaction honours `Idempotency-Key`.
        return routes.map { route in
            guard case .task(let handler) = route.handler, !route.pattern.hasSuffix("/react") else { return route }
            let name = String(route.pattern.split(separator: "/").last ?? "")
            return Route(route.method, route.pattern, access: route.access, takesUploads: route.takesUploads, handler: .task { context in
                try await IdempotentSend.run(context, idempotency: idempotency, route: name) { try await handler(context) }
            })
        }
    }

    /// Sends and answers OpenWA's 201 `MessageResponseDto`.
    static func send(_ message: OutgoingMessage, context: APIContext, sessions: SessionManager) async throws -> APIResponse {
        let sent = try await sessions.send(id: context.parameter("id"), message)
        return .json(["messageId": .string(sent.messageID), "timestamp": .number(Double(sent.timestamp))], status: 201)
    }

    /// Checks a media body, then takes its bytes from base64 or from its URL.
    private static func mediaMessage(
        _ kind: OutgoingMedia.Kind, context: APIContext, media: MediaDownloader, sessions: SessionManager
    ) async throws -> OutgoingMessage {
        let isAudio = kind == .audio
        let allowed = isAudio ? MessageSendDTO.audioFields : MessageSendDTO.mediaFields
        let upload = try MediaUploadForm.read(context, allowing: allowed.subtracting(["url", "base64"]), maxBytes: media.settings.maxBytes)
        var dto = MessageSendDTO(try upload?.fields ?? context.jsonObject(allowing: allowed))
        let chat = dto.required("chatId")
        let source = upload.map { MessageSendDTO.MediaSource.file($0) } ?? dto.mediaSource()
        var mimetype = dto.optional("mimetype", max: 255)
        var filename = dto.optional("filename", max: 255)
        let caption = dto.optional("caption", max: 1_024)
        let mentions = dto.mentions()
        let quoted = dto.optional("quotedMessageId")
        let voice = isAudio && dto.flag("ptt") == true
        // A voice note has a usual type; anything else sent as base64 must say what it is.
        let fallbackType = voice ? MessageSendDTO.voiceMimetype : nil
        try dto.validate()
        var bytes: [UInt8] = []
        var file: MediaSpoolFile?
        switch source {
        case .base64(let text)?:
            if mimetype == nil, fallbackType == nil, !text.hasPrefix("data:") {
                throw APIError.validation(["mimetype should not be empty when base64 is given"])
            }
            let decoded = try MessageSendDTO.decode(text, maxBytes: media.settings.maxBytes)
            mimetype = mimetype ?? decoded.mimetype ?? fallbackType
            guard mimetype != nil else { throw APIError.validation(["mimetype should not be empty when base64 is given"]) }
            bytes = decoded.bytes
        case .url(let url)?:
            // The download is the costly part: a session that cannot send is refused before it.
            guard try await sessions.get(id: context.parameter("id")).status == .ready else {
                throw EngineError.invalid("Session is not ready")
            }
            // Spooled to a file: a large file is never held in memory on its way to the engine.
            let download = try await media.spool(url)
            mimetype = mimetype ?? download.contentType ?? fallbackType ?? "application/octet-stream"
            filename = filename ?? download.filename
            file = download.file
        case .file(let upload)?:
            // A generic part type says nothing; a voice note then keeps its usual type.
            let declared = upload.contentType.flatMap { $0.lowercased() == "application/octet-stream" && fallbackType != nil ? nil : $0 }
            mimetype = mimetype ?? declared ?? fallbackType ?? "application/octet-stream"
            filename = filename ?? upload.filename
            switch upload.content {
            case .bytes(let uploaded): bytes = uploaded
            // Spooled by the HTTP server: encrypted file to file and uploaded from disk like a URL's media.
            case .file(let uploaded): file = MediaSpoolFile(path: uploaded.path, length: uploaded.length, owner: uploaded)
            }
        case nil:
            preconditionFailure("validate() refuses a body without a media source")
        }
        if kind == .document, filename == nil { filename = "file" }
        var attachment = OutgoingMedia(
            kind: voice ? .voice : kind, bytes: bytes, mimetype: mimetype ?? "application/octet-stream", filename: filename,
            caption: caption)
        attachment.file = file
        return OutgoingMessage(
            chatID: MessageRoutes.normalizedChat(chat), content: .media(attachment), quotedMessageID: quoted, mentions: mentions)
    }
}
