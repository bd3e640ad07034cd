import Foundation
import Reactor

/// A `multipart/form-data` body (RFC 7578 over RFC 2046's framing): its parts in order, each with
/// its field name, the file name and type a file part declares, and its bytes. The HTTP server
/// hands over whole bodies already capped at `BODY_SIZE_LIMIT`, so this parses from memory; every
/// part's bytes are one copy of their slice of the body.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var body: [UInt8]
    }

    /// More parts than any media send has fields; a body made of thousands of tiny parts is refused.
    static let maxParts = 64
    /// The header block of one part (`Content-Disposition`, `Content-Type`).
    static let maxPartHeaderBytes = 8 * 1_024

    var parts: [Part]

    /// The boundary of a `multipart/form-data` content type; nil for any other type.
    static func boundary(contentType: String) throws(APIError) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let type = pieces.first, type.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "="), piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased() == "boundary"
            else { continue }
            let value = unquoted(piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            // RFC 2046: 1 to 70 characters.
            guard (1...70).contains(value.utf8.count) else { throw malformed("the boundary must be 1 to 70 characters") }
            return value
        }
        throw APIError.badRequest("multipart/form-data needs a boundary parameter in Content-Type")
    }

    /// Parses `body` framed by `boundary`. A preamble before the first delimiter and an epilogue
    /// after the closing one are ignored; anything else out of shape is a 400.
    static func parse(_ body: [UInt8], boundary: String) throws(APIError) -> MultipartForm {
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n--\(boundary)".utf8)
        // The first delimiter opens the body or follows the preamble's line break.
        var cursor: Int
        if body.starts(with: delimiter) {
            cursor = delimiter.count
        } else if let found = search(separator, in: body, from: 0) {
            cursor = found + separator.count
        } else {
            throw malformed("no part starts with the boundary")
        }
        var parts: [Part] = []
        while true {
            if body[cursor...].starts(with: [0x2D, 0x2D]) { break }  // `--`: the closing delimiter
            // Transport padding (spaces, tabs) may follow a delimiter before its line break.
            while cursor < body.count, body[cursor] == 0x20 || body[cursor] == 0x09 { cursor += 1 }
            guard body[cursor...].starts(with: [0x0D, 0x0A]) else { throw malformed("a boundary line does not end in CRLF") }
            cursor += 2
            guard let headerEnd = search([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: cursor, limit: maxPartHeaderBytes + 4) else {
                throw malformed("a part's headers do not end (or are over \(maxPartHeaderBytes) bytes)")
            }
            var part = try headers(body[cursor..<headerEnd])
            let contentStart = headerEnd + 4
            guard let next = search(separator, in: body, from: contentStart) else { throw malformed("the closing boundary is missing") }
            part.body = Array(body[contentStart..<next])
            parts.append(part)
            guard parts.count <= maxParts else { throw malformed("more than \(maxParts) parts") }
            cursor = next + separator.count
        }
        return MultipartForm(parts: parts)
    }

    /// A part's `Content-Disposition: form-data; name=…; filename=…` and `Content-Type`.
    private static func headers(_ block: ArraySlice<UInt8>) throws(APIError) -> Part {
        var part = Part(name: "", body: [])
        var named = false
        for line in String(decoding: block, as: UTF8.self).components(separatedBy: "\r\n") where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw malformed("a part header has no colon") }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch field {
            case "content-disposition":
                let pieces = splitParameters(value)
                guard pieces.first?.lowercased() == "form-data" else { throw malformed("a part's Content-Disposition is not form-data") }
                for piece in pieces.dropFirst() {
                    guard let equals = piece.firstIndex(of: "=") else { continue }
                    let key = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
                    let text = unquoted(piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces))
                    if key == "name" {
                        part.name = text
                        named = true
                    } else if key == "filename" {
                        // Browsers send the bare name; a path from an older client is cut to its last part.
                        part.filename = text.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
                    }
                }
            case "content-type":
                part.contentType = value.isEmpty ? nil : value
            default:
                continue  // RFC 7578 allows others (Content-Transfer-Encoding is deprecated); they change nothing here
            }
        }
        guard named, !part.name.isEmpty else { throw malformed("a part has no Content-Disposition name") }
        if part.filename?.isEmpty == true { part.filename = nil }
        return part
    }

    /// `a; b="x;y"; c` split at the semicolons outside quotes.
    private static func splitParameters(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quoted {
                current.append(character)
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
                current.append(character)
            } else if character == ";" && !quoted {
                pieces.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current.trimmingCharacters(in: .whitespaces))
        return pieces
    }

    private static func unquoted(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        var out = ""
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if escaped || character != "\\" {
                out.append(character)
                escaped = false
            } else {
                escaped = true
            }
        }
        return out
    }

    /// The offset of the first `needle` in `haystack` at or after `start` (and, with `limit`,
    /// starting before `start + limit`).
    static func search(_ needle: [UInt8], in haystack: [UInt8], from start: Int, limit: Int? = nil) -> Int? {
        guard let first = needle.first, start <= haystack.count else { return nil }
        let last = min(haystack.count - needle.count, limit.map { start + $0 - needle.count } ?? Int.max)
        guard last >= start else { return nil }
        return haystack.withUnsafeBufferPointer { bytes -> Int? in
            needle.withUnsafeBufferPointer { pattern -> Int? in
                var index = start
                while index <= last {
                    if bytes[index] == first {
                        var matched = 1
                        while matched < pattern.count, bytes[index + matched] == pattern[matched] { matched += 1 }
                        if matched == pattern.count { return index }
                    }
                    index += 1
                }
                return nil
            }
        }
    }

    static func malformed(_ reason: String) -> APIError {
        APIError.badRequest("Malformed multipart body: \(reason)")
    }
}
