import Foundation
import Reactor
import WAProtocol

/// Sending through WhatsApp Web: every content kind goes to the page's bridge (`send`, or
/// `react` for reactions), which calls WA Web's own modules (`BrowserBridgeScript+Send.swift`).
extension BrowserEngine {
    /// Raw bytes per staged piece: 768 KiB is 1 MiB of base64, small enough that one DevTools
    /// message never holds the reactor for long.
    static let stagingChunkBytes = 768 * 1_024

    package func send(_ message: OutgoingMessage) async throws -> SentMessage {
        if case .reaction(let messageID, let emoji) = message.content {
            let arguments: [JSONValue] = [.string(message.chatID), .string(messageID), .string(emoji)]
            return try Self.sent(try await call("react", arguments, media: false))
        }
        if case .poll = message.content { throw EngineError.notSupported("The browser engine cannot send polls yet") }
        // WhatsApp Web builds its own previews in the page; a caller's ready-made one it cannot send.
        if message.linkPreview?.isCustom == true {
            throw EngineError.notSupported("customLinkPreview is not supported by the whatsapp-web.js engine")
        }
        var token: String?
        if case .media(let media) = message.content {
            // The page takes the media as base64 in memory anyway, so a spooled file is read whole,
            // on a worker: a REST call's task would otherwise read the disk on the reactor thread.
            let lane: WorkerLane = try await reactor.submit { reactor in reactor.workers.anyLane() }
            token = try await stage(try await lane.run { try media.contents() })
        }
        // The page drops staged pieces once `send` runs; this covers a call that never got there.
        do {
            let request = Self.request(message, mediaToken: token)
            return try Self.sent(try await call("send", [request], media: token != nil))
        } catch {
            if let token { await unstage(token) }
            throw error
        }
    }

    /// The bridge's send request for `message` (media bytes travel separately, by `token`).
    static func request(_ message: OutgoingMessage, mediaToken: String?) -> JSONValue {
        var fields: [(String, JSONValue)] = [("chatId", .string(message.chatID))]
        switch message.content {
        case .text(let text):
            fields += [("kind", "text"), ("text", .string(text))]
        case .media(let media):
            var described: [(String, JSONValue)] = [
                ("kind", .string(media.kind.rawValue)), ("token", .string(mediaToken ?? "")), ("mimetype", .string(media.mimetype)),
            ]
            if let filename = media.filename { described.append(("filename", .string(filename))) }
            if let caption = media.caption { described.append(("caption", .string(caption))) }
            fields += [("kind", "media"), ("media", .object(described))]
        case .location(let latitude, let longitude, let description, let address):
            var place: [(String, JSONValue)] = [("latitude", .number(latitude)), ("longitude", .number(longitude))]
            if let description { place.append(("description", .string(description))) }
            if let address { place.append(("address", .string(address))) }
            fields += [("kind", "location"), ("location", .object(place))]
        case .contact(let name, let number):
            let card: JSONValue = ["name": .string(name), "vcard": .string(MessageCodec.vCard(name: name, number: number))]
            fields += [("kind", "contact"), ("contact", card)]
        case .reaction:
            preconditionFailure("reactions go through the bridge's react command")
        case .poll:
            preconditionFailure("polls are refused before the bridge is called")
        }
        if let quoted = message.quotedMessageID { fields.append(("quotedMessageId", .string(quoted))) }
        fields.append(("mentions", .array(message.mentions.map(JSONValue.string))))
        return .object(fields)
    }

    private static func sent(_ value: JSONValue) throws -> SentMessage {
        guard let id = value["id"]?.stringValue else { throw EngineError.unavailable("WhatsApp Web returned no message id") }
        return SentMessage(messageID: id, timestamp: value["timestamp"]?.intValue ?? 0)
    }

    private func call(_ name: String, _ arguments: [JSONValue], media: Bool) async throws -> JSONValue {
        try await onReactorValue { link, done in
            let timeout = media ? link.configuration.mediaSendTimeoutMilliseconds : nil
            link.callWhenReady(name, arguments, timeoutMilliseconds: timeout) { done($0.mapError { $0 }) }
        }
    }

    /// Hands the file to the page in pieces and returns the token that names them. Each piece
    /// is encoded here, in the caller's task, not on the reactor thread.
    private func stage(_ bytes: [UInt8]) async throws -> String {
        let token = (0..<8).map { _ in String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16) }.joined()
        var offset = 0
        do {
            repeat {
                let end = min(offset + Self.stagingChunkBytes, bytes.count)
                let piece = Data(bytes[offset..<end]).base64EncodedString()
                try await onReactor { link, done in link.stageMedia(token: token, base64: piece) { done($0.mapError { $0 }) } }
                offset = end
            } while offset < bytes.count
        } catch {
            await unstage(token)
            throw error
        }
        return token
    }

    private func unstage(_ token: String) async {
        try? await onReactor { link, done in
            link.unstageMedia(token: token)
            done(.success(()))
        }
    }
}
