import Engines
import Foundation
import Reactor

/// OpenWA's send DTOs (reference 2.5): field checks with class-validator's messages, all
/// errors of a body reported together. Lengths count UTF-16 units, as JavaScript's do.
struct MessageSendDTO {
    static let mediaFields: Set<String> = ["chatId", "url", "base64", "mimetype", "filename", "caption", "mentions", "quotedMessageId"]
    static let audioFields = mediaFields.union(["ptt"])
    static let locationFields: Set<String> = ["chatId", "latitude", "longitude", "description", "address", "quotedMessageId"]
    static let contactFields: Set<String> = ["chatId", "contactName", "contactNumber", "quotedMessageId"]
    static let replyFields: Set<String> = ["chatId", "quotedMessageId", "text", "mentions"]
    static let reactFields: Set<String> = ["chatId", "messageId", "emoji"]
    static let pollFields: Set<String> = ["chatId", "name", "options", "allowMultipleAnswers", "quotedMessageId"]
    /// A voice note's type when the caller gives none (OpenWA's default).
    static let voiceMimetype = "audio/ogg; codecs=opus"

    let body: JSONValue
    private(set) var errors: [String] = []

    init(_ body: JSONValue) { self.body = body }

    /// Throws every collected message as one 400.
    func validate() throws(APIError) {
        if !errors.isEmpty { throw APIError.validation(errors) }
    }

    // MARK: - Fields

    /// A string that must be present and not empty; `chatId` may also be a bare number.
    mutating func required(_ name: String, max: Int? = nil) -> String {
        guard let value = body[name], value != .null else {
            errors.append("\(name) should not be empty")
            return ""
        }
        guard let text = value.stringValue else {
            errors.append("\(name) must be a string")
            return ""
        }
        if text.isEmpty { errors.append("\(name) should not be empty") }
        check(name, text, max: max)
        return text
    }

    mutating func optional(_ name: String, max: Int? = nil) -> String? {
        guard let value = body[name], value != .null else { return nil }
        guard let text = value.stringValue else {
            errors.append("\(name) must be a string")
            return nil
        }
        check(name, text, max: max)
        return text
    }

    /// A string that must be present and may be empty (a reaction's emoji: "" removes it).
    mutating func present(_ name: String, max: Int) -> String {
        guard let text = body[name]?.stringValue else {
            errors.append("\(name) must be a string")
            return ""
        }
        check(name, text, max: max)
        return text
    }

    mutating func flag(_ name: String) -> Bool? {
        guard let value = body[name], value != .null else { return nil }
        guard case .bool(let flag) = value else {
            errors.append("\(name) must be a boolean value")
            return nil
        }
        return flag
    }

    mutating func coordinate(_ name: String, limit: Double) -> Double {
        guard case .number(let number)? = body[name], number.isFinite else {
            errors.append("\(name) must be a number conforming to the specified constraints")
            return 0
        }
        if number < -limit { errors.append("\(name) must not be less than -\(Int(limit))") }
        if number > limit { errors.append("\(name) must not be greater than \(Int(limit))") }
        return number
    }

    /// `mentions`: contact ids, each normalised like a chat id.
    /// A poll's options: 2 to 12 distinct strings of 1 to 100 characters.
    mutating func pollOptions() -> [String] {
        guard let list = body["options"]?.arrayValue else {
            errors.append("options must be an array of 2 to 12 strings")
            return []
        }
        let texts = list.compactMap(\.stringValue)
        if texts.count != list.count || !(2...12).contains(texts.count) {
            errors.append("options must be an array of 2 to 12 strings")
        } else if texts.contains(where: { $0.isEmpty || $0.count > 100 }) {
            errors.append("each option must be 1 to 100 characters")
        } else if Set(texts).count != texts.count {
            errors.append("options must be unique")
        }
        return texts
    }

    /// `customLinkPreview {url, title, description?}`: the caller's own preview of a link.
    mutating func customLinkPreview() -> OutgoingLinkPreview? {
        guard let value = body["customLinkPreview"], value != .null else { return nil }
        guard case .object = value else {
            errors.append("customLinkPreview must be an object")
            return nil
        }
        var fields = MessageSendDTO(value)
        let url = fields.required("url")
        let title = fields.required("title")
        let description = fields.optional("description")
        errors += fields.errors.map { "customLinkPreview.\($0)" }
        guard fields.errors.isEmpty else { return nil }
        return OutgoingLinkPreview(url: url, title: title, description: description, isCustom: true)
    }

    mutating func mentions() -> [String] {
        guard let value = body["mentions"], value != .null else { return [] }
        guard let list = value.arrayValue else {
            errors.append("mentions must be an array")
            return []
        }
        let texts = list.compactMap(\.stringValue)
        if texts.count != list.count { errors.append("each value in mentions must be a string") }
        return texts.map(MessageRoutes.normalizedChat)
    }

    private mutating func check(_ name: String, _ text: String, max: Int?) {
        if let max, text.utf16.count > max { errors.append("\(name) must be shorter than or equal to \(max) characters") }
    }

    // MARK: - Media

    /// Where a media send's bytes come from, once the fields are checked.
    enum MediaSource {
        case base64(String)
        case url(String)
        case file(MediaUploadForm)
    }

    /// Exactly one of `url` (http or https) and `base64`.
    mutating func mediaSource() -> MediaSource? {
        let url = optional("url", max: 2_048)
        let base64 = optional("base64")
        switch (url, base64) {
        case (let url?, nil):
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), URLComponents(string: url)?.host?.isEmpty == false else {
                errors.append("url must be a URL address")
                return nil
            }
            return .url(url)
        case (nil, let base64?):
            return .base64(base64)
        case (nil, nil):
            errors.append("either url or base64 must be provided")
            return nil
        case (.some, .some):
            errors.append("only one of url or base64 may be provided")
            return nil
        }
    }

    /// Decodes `text` (plain base64, or a `data:<type>;base64,` URL) under the size cap.
    /// Returns the bytes and the type a data URL declared.
    static func decode(_ text: String, maxBytes: Int) throws(APIError) -> (bytes: [UInt8], mimetype: String?) {
        var payload = Substring(text)
        var declared: String?
        if payload.hasPrefix("data:"), let comma = payload.firstIndex(of: ",") {
            let header = payload[payload.index(payload.startIndex, offsetBy: 5)..<comma]
            if header.hasSuffix(";base64") { declared = String(header.dropLast(7)).nilIfEmpty }
            payload = payload[payload.index(after: comma)...]
        }
        let compact = payload.filter { !$0.isWhitespace }
        // Checked before decoding: a body far over the cap is refused without the allocation.
        let estimate = compact.utf8.count / 4 * 3
        guard estimate - 2 <= maxBytes else { throw tooLarge(maxBytes) }
        guard let data = Data(base64Encoded: compact) else { throw APIError.validation(["base64 must be base64 encoded"]) }
        guard data.count <= maxBytes else { throw tooLarge(maxBytes) }
        return (Array(data), declared)
    }

    static func tooLarge(_ maxBytes: Int) -> APIError {
        APIError(status: 413, message: .string("Media is larger than the \(maxBytes) bytes allowed (MEDIA_DOWNLOAD_MAX_BYTES)"))
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
