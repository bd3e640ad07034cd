import Foundation

/// The text-level pieces of a form: the boundary in a `Content-Type`, and a part's header block
/// (`Content-Disposition: form-data; name=…; filename=…` and `Content-Type`).
extension MultipartParser {
    /// What a request's `Content-Type` says about a form.
    package enum FormType: Sendable, Equatable {
        /// Not `multipart/form-data`.
        case other
        case form(boundary: String)
        /// `multipart/form-data` without a usable boundary; the message is for the client.
        case invalid(String)
    }

    /// Reads the media type and boundary parameter of a `Content-Type` value.
    package static func formType(contentType: String) -> FormType {
        // Every request with a body asks, on the reactor thread: a JSON body is turned away by
        // its first bytes, before anything is split or trimmed.
        guard namesForm(contentType) else { return .other }
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let type = pieces.first, type.lowercased() == "multipart/form-data" else { return .other }
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "="),
                piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased() == "boundary"
            else { continue }
            let value = unquoted(piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            // RFC 2046: 1 to 70 characters.
            guard (1...70).contains(value.utf8.count) else {
                return .invalid(malformed("the boundary must be 1 to 70 characters"))
            }
            return .form(boundary: value)
        }
        return .invalid("multipart/form-data needs a boundary parameter in Content-Type")
    }

    /// Whether the media type (after optional spaces) is `multipart/form-data`, any case.
    private static func namesForm(_ contentType: String) -> Bool {
        let wanted = "multipart/form-data".utf8
        var bytes = contentType.utf8.drop { $0 == 0x20 || $0 == 0x09 }[...]
        for expected in wanted {
            guard let byte = bytes.popFirst() else { return false }
            let lowered = (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
            guard lowered == expected else { return false }
        }
        return true
    }

    /// The client-facing message for a failure the parser reports.
    package static func malformed(_ reason: String) -> String {
        "Malformed multipart body: \(reason)"
    }

    enum HeadOutcome {
        case head(PartHead)
        case invalid(String)
    }

    /// A part's header lines (CRLF stripped). Fields other than the two read here are allowed by
    /// RFC 7578 (Content-Transfer-Encoding is deprecated) and change nothing.
    static func partHead(_ lines: [[UInt8]]) -> HeadOutcome {
        var head = PartHead(name: "")
        var named = false
        for bytes in lines {
            let line = String(decoding: bytes, as: UTF8.self)
            guard let colon = line.firstIndex(of: ":") else { return .invalid("a part header has no colon") }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch field {
            case "content-disposition":
                let pieces = splitParameters(value)
                guard pieces.first?.lowercased() == "form-data" else {
                    return .invalid("a part's Content-Disposition is not form-data")
                }
                for piece in pieces.dropFirst() {
                    guard let equals = piece.firstIndex(of: "=") else { continue }
                    let key = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
                    let text = unquoted(piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces))
                    if key == "name" {
                        head.name = text
                        named = true
                    } else if key == "filename" {
                        // Browsers send the bare name; a path from an older client is cut to its last part.
                        head.filename = text.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
                    }
                }
            case "content-type":
                head.contentType = value.isEmpty ? nil : value
            default:
                continue
            }
        }
        guard named, !head.name.isEmpty else { return .invalid("a part has no Content-Disposition name") }
        if head.filename?.isEmpty == true { head.filename = nil }
        return .head(head)
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
}
