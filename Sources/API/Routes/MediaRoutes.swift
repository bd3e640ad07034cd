import Engines
import Foundation
import Reactor

/// `GET /api/sessions/:id/messages/:chatId/:messageId/media` (reference 2.5): a stored message's
/// media as an attachment. Only image, video and audio types that browsers cannot run as a page
/// keep their type; anything else is served as `application/octet-stream`, and `nosniff` stops
/// a browser from guessing otherwise. A message whose media is not downloaded yet is fetched
/// through the session's engine on demand. A stored local file is streamed from disk in chunks as
/// the socket drains; S3 objects are read into memory (in ranged parts) and sent from there.
package enum MediaRoutes {
    static let notFound = "No media stored for this message"

    package static func routes(sessions: SessionManager, archive: MediaArchive) -> [Route] {
        [
            Route(
                "GET", "/api/sessions/:id/messages/:chatId/:messageId/media",
                access: .key(minimum: .viewer, sessionParameter: "id"),
                handler: .task { context in
                    let path = try await MessageRoutes.messagePath(context, sessions: sessions)
                    let media = try await archive.media(
                        sessionID: path.sessionID, chatID: path.chatID, messageID: path.messageID,
                        fetcher: await sessions.mediaFetcher(id: path.sessionID))
                    guard let media else { throw EngineError.notFound(notFound) }
                    var response = APIResponse.file(media.file, contentType: servedType(media.mimetype))
                    response.headers.add("content-disposition", disposition(media.filename))
                    response.headers.add("x-content-type-options", "nosniff")
                    return response
                })
        ]
    }

    /// Types a browser shows as media, never as a document that could run script.
    static let safeTypes: Set<String> = [
        "image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/3gpp", "video/webm", "video/quicktime",
        "audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/webm", "audio/wav", "audio/opus",
    ]

    static func servedType(_ mimetype: String) -> String {
        let base = mimetype.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return safeTypes.contains(base) ? base : "application/octet-stream"
    }

    /// `attachment`, with the stored file name when it is plain ASCII without quotes or controls.
    static func disposition(_ filename: String?) -> String {
        guard let filename, !filename.isEmpty, filename.count <= 255,
            filename.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F && $0 != "\"" && $0 != "\\" })
        else { return "attachment" }
        return "attachment; filename=\"\(filename)\""
    }
}
