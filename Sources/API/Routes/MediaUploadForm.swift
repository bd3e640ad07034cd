import Engines
import Foundation
import Reactor

/// A media send as `multipart/form-data` (beyond OpenWA, which takes `url` or `base64` in JSON):
/// a `file` part carries the bytes, its `Content-Type` is the mimetype unless a `mimetype` field
/// says otherwise, and its file name is the default `filename`. The other DTO fields come as text
/// parts and go through the same checks as JSON: `ptt` as `true`/`false`, `mentions` as a JSON
/// array in one part or as repeated `mentions` (or `mentions[]`) parts. The server streams these
/// forms (`Route.takesUploads`), so a large file part arrives as a spool file, never in memory.
struct MediaUploadForm {
    /// The text fields, as the JSON body would have carried them.
    var fields: JSONValue
    /// The file part's bytes, in memory or in a spool file.
    var content: HTTPFormPart.Content
    /// The file part's declared type and name.
    var contentType: String?
    var filename: String?

    /// The form of a multipart request; nil for any other content type. `allowed` are the text
    /// fields the route takes; the file is capped at `maxBytes` (`MEDIA_DOWNLOAD_MAX_BYTES`, 413).
    static func read(_ context: APIContext, allowing allowed: Set<String>, maxBytes: Int) throws(APIError) -> MediaUploadForm? {
        let headers = context.request.head.headers
        if let type = headers["content-type"], MultipartParser.formType(contentType: type) != .other,
            let encoding = headers["content-encoding"], encoding.lowercased() != "identity"
        {
            throw APIError(status: 415, message: "Compressed request bodies are not supported")
        }
        guard let parts = try MultipartForm.parts(of: context.request) else { return nil }
        var members: [(String, JSONValue)] = []
        var mentions: [JSONValue]?
        var file: HTTPFormPart?
        var problems: [String] = []
        for part in parts {
            if part.name == "file" {
                guard file == nil else { throw APIError.validation(["file must be given once"]) }
                file = part
                continue
            }
            guard allowed.contains(part.name) || part.name == "mentions[]" else {
                problems.append("property \(part.name) should not exist")
                continue
            }
            guard part.filename == nil else {
                problems.append("\(part.name) must be a text field, not a file")
                continue
            }
            guard case .bytes(let bytes) = part.content else {
                problems.append("\(part.name) is too long for a text field")
                continue
            }
            guard let text = String(validating: bytes, as: UTF8.self), !text.utf8.contains(0) else {
                throw APIError.badRequest("Field \(part.name) is not UTF-8 text without NUL characters")
            }
            if part.name == "mentions" || part.name == "mentions[]" {
                mentions = (mentions ?? []) + (try mentionValues(text))
                continue
            }
            guard !members.contains(where: { $0.0 == part.name }) else {
                problems.append("\(part.name) must be given once")
                continue
            }
            // `ptt` is a boolean in JSON; a form carries it as text.
            let value: JSONValue = part.name == "ptt" && (text == "true" || text == "false") ? .bool(text == "true") : .string(text)
            members.append((part.name, value))
        }
        if let mentions { members.append(("mentions", .array(mentions))) }
        if !problems.isEmpty { throw APIError.validation(problems) }
        guard let file else {
            throw APIError.validation(["file should not be empty (a multipart media send carries its bytes in a file part)"])
        }
        guard file.length <= maxBytes else { throw MessageSendDTO.tooLarge(maxBytes) }
        guard file.length > 0 else { throw APIError.validation(["file should not be empty"]) }
        return MediaUploadForm(fields: .object(members), content: file.content, contentType: file.contentType, filename: file.filename)
    }

    /// One `mentions` part: a JSON array of ids, or a single id.
    private static func mentionValues(_ text: String) throws(APIError) -> [JSONValue] {
        guard text.trimmingCharacters(in: .whitespaces).hasPrefix("[") else { return [.string(text)] }
        guard let list = (try? JSONParser.parse(Array(text.utf8)))?.arrayValue else {
            throw APIError.validation(["mentions must be an array"])
        }
        return list
    }
}
