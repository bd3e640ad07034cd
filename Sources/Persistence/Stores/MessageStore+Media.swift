import Foundation
import Reactor

/// The media columns of a stored message (`mediaPath`, `mediaMimetype`) and the media part of its
/// `metadata` (reference 2.5, "Stored Message row").
extension SQLMessageStore {
    /// A stored message as the media route needs it.
    package struct MediaRow: Sendable, Equatable {
        package var chatID: String
        package var type: String
        /// The row's `metadata` JSON, parsed (`media` holds mimetype, filename, size…).
        package var metadata: JSONValue?
        /// The storage key of the downloaded bytes.
        package var mediaPath: String?
        package var mediaMimetype: String?
    }

    package func mediaRow(sessionID: String, waMessageID: String) async throws -> MediaRow? {
        let rows = try await database.query(
            #"SELECT "chatId", "type", "metadata", "mediaPath", "mediaMimetype" FROM messages WHERE "sessionId" = $1 AND "waMessageId" = $2"#,
            [.text(sessionID), .text(waMessageID)])
        guard let row = rows.first else { return nil }
        return MediaRow(
            chatID: try row.requiredString("chatId"), type: try row.requiredString("type"),
            metadata: row.string("metadata").flatMap { try? JSONParser.parse(Array($0.utf8)) }, mediaPath: row.string("mediaPath"),
            mediaMimetype: row.string("mediaMimetype"))
    }

    /// Records where a message's media was stored; the `metadata.media` entry loses any earlier
    /// download error. False when the message is not stored (deleted meanwhile).
    @discardableResult
    package func setMedia(sessionID: String, waMessageID: String, path: String, mimetype: String) async throws -> Bool {
        try await updateMedia(sessionID: sessionID, waMessageID: waMessageID, downloadError: nil, stored: (path, mimetype))
    }

    /// Records why a message's media could not be downloaded (`metadata.media.downloadError`).
    @discardableResult
    package func setMediaFailure(sessionID: String, waMessageID: String, reason: String) async throws -> Bool {
        try await updateMedia(sessionID: sessionID, waMessageID: waMessageID, downloadError: reason, stored: nil)
    }

    private func updateMedia(
        sessionID: String, waMessageID: String, downloadError: String?, stored: (path: String, mimetype: String)?
    ) async throws -> Bool {
        let stored = stored.map { [$0.path, $0.mimetype] }
        return try await database.withTransaction { transaction in
            let rows = try await transaction.query(
                #"SELECT "metadata" FROM messages WHERE "sessionId" = $1 AND "waMessageId" = $2"#,
                [.text(sessionID), .text(waMessageID)])
            guard let row = rows.first else { return false }
            var metadata = row.string("metadata").flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .object([])
            var media = metadata["media"] ?? .object([])
            if let downloadError {
                media = media.setting("downloadError", .string(downloadError))
            } else if case .object(let members) = media {
                media = .object(members.filter { $0.0 != "downloadError" })
            }
            metadata = metadata.setting("media", media)
            var binds: [SQLValue] = [.text(sessionID), .text(waMessageID), .text(JSONWriter.string(metadata))]
            var assignments = #""metadata" = $3"#
            if let stored {
                binds += stored.map(SQLValue.text)
                assignments += #", "mediaPath" = $4, "mediaMimetype" = $5"#
            }
            return try await transaction.execute(
                #"UPDATE messages SET \#(assignments) WHERE "sessionId" = $1 AND "waMessageId" = $2"#, binds) > 0
        }
    }
}
