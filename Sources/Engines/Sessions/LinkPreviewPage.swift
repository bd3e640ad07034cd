import Foundation

/// Reading a link preview out of text and HTML: the first http(s) URL of a message, and a page's
/// Open Graph title, description and image (`og:*` meta tags, the `<title>` when there is no
/// `og:title`). Pure functions; the fetcher runs them on the worker pool.
package enum LinkPreviewPage {
    /// What a page says about itself.
    package struct Summary: Sendable, Equatable {
        package var title: String?
        package var description: String?
        /// The `og:image` URL as the page wrote it (possibly relative).
        package var image: String?
    }

    /// The first http(s) URL in `text`, as written there, without the punctuation that ends a
    /// sentence around it.
    package static func firstURL(in text: String) -> String? {
        var rest = text[...]
        var begin: String.Index?
        while let candidate = rest.firstIndex(where: { $0 == "h" || $0 == "H" }) {
            let head = text[candidate...].prefix(8).lowercased()
            if head.hasPrefix("http://") || head.hasPrefix("https://") {
                begin = candidate
                break
            }
            rest = text[text.index(after: candidate)...]
        }
        guard let begin else { return nil }
        var url = text[begin...].prefix { !$0.isWhitespace && !"<>\"'`".contains($0) }
        while let last = url.last, ".,;:!?]}".contains(last) || (last == ")" && !url.contains("(")) {
            url = url.dropLast()
        }
        return url.drop { $0 != ":" }.count > "://".count ? String(url) : nil
    }

    /// The page's `og:title`, `og:description` and `og:image` (the `<title>` stands in for a
    /// missing `og:title`, `description` for a missing `og:description`).
    package static func summary(of html: [UInt8]) -> Summary {
        var properties: [String: String] = [:]
        var title: String?
        var scanner = TagScanner(html)
        while let tag = scanner.nextTag() {
            if tag.name == "meta" {
                guard let key = (tag.attributes["property"] ?? tag.attributes["name"])?.lowercased(),
                    let content = tag.attributes["content"]
                else { continue }
                // The first of each wins, as preview builders read them.
                if properties[key] == nil { properties[key] = cleaned(content) }
            } else if tag.name == "title", title == nil {
                title = nonEmpty(cleaned(scanner.text(until: "</title")))
            }
        }
        return Summary(
            title: properties["og:title"].flatMap(nonEmpty) ?? title,
            description: (properties["og:description"] ?? properties["description"]).flatMap(nonEmpty),
            image: (properties["og:image"] ?? properties["og:image:url"]).flatMap(nonEmpty))
    }

    /// `og:image` as an absolute http(s) URL, resolved against the page's own URL.
    package static func imageURL(_ image: String, page: String) -> String? {
        guard let base = URL(string: page), let resolved = URL(string: image, relativeTo: base)?.absoluteURL,
            let scheme = resolved.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else { return nil }
        return resolved.absoluteString
    }

    /// Entities decoded, runs of whitespace made one space, the ends trimmed.
    private static func cleaned(_ text: String) -> String {
        decodeEntities(text).split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    private static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

    private static let namedEntities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ",
    ]

    /// `&amp;`, `&#233;`, `&#xE9;` and the other common entities; anything else stays as written.
    package static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            let after = rest[rest.index(after: ampersand)...]
            let name = after.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "#") }.prefix(10)
            let semicolon = name.endIndex
            guard !name.isEmpty, semicolon < after.endIndex, after[semicolon] == ";" else {
                result += "&"
                rest = after
                continue
            }
            if let named = namedEntities[name.lowercased()] {
                result += named
            } else if name.hasPrefix("#"), let scalar = codePoint(name.dropFirst()).flatMap(Unicode.Scalar.init) {
                result.unicodeScalars.append(scalar)
            } else {
                result += "&" + name + ";"
            }
            rest = after[after.index(after: semicolon)...]
        }
        return result + rest
    }

    private static func codePoint(_ digits: Substring) -> UInt32? {
        if digits.first == "x" || digits.first == "X" { return UInt32(digits.dropFirst(), radix: 16) }
        return UInt32(digits)
    }
}

/// Walks the tags of an HTML document (comments, scripts and styles skipped), reading each
/// tag's lowercased name and its attributes (values entity-decoded).
struct TagScanner {
    struct Tag {
        var name: String
        var attributes: [String: String]
    }

    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func nextTag() -> Tag? {
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                index += 1
                continue
            }
            if starts(with: "<!--") {
                skip(past: "-->")
                continue
            }
            index += 1
            let name = word().lowercased()
            guard !name.isEmpty else { continue }
            let attributes = readAttributes()
            // Their bodies are not markup: a `<meta` inside a script is not the page's.
            if name == "script" || name == "style" { skip(past: "</\(name)") }
            return Tag(name: name, attributes: attributes)
        }
        return nil
    }

    /// The raw text from here to `end` (case-insensitive), which is skipped too.
    mutating func text(until end: String) -> String {
        let start = index
        skip(past: end)
        let stop = index >= bytes.count && !endsWith(end) ? bytes.count : max(start, index - end.utf8.count)
        return String(decoding: bytes[start..<stop], as: UTF8.self)
    }

    private mutating func readAttributes() -> [String: String] {
        var attributes: [String: String] = [:]
        while index < bytes.count {
            skipSpace()
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: ">") {
                index += 1
                break
            }
            if byte == UInt8(ascii: "/") {
                index += 1
                continue
            }
            let name = word().lowercased()
            if name.isEmpty {
                index += 1
                continue
            }
            skipSpace()
            var value = ""
            if index < bytes.count, bytes[index] == UInt8(ascii: "=") {
                index += 1
                skipSpace()
                value = readValue()
            }
            if attributes[name] == nil { attributes[name] = LinkPreviewPage.decodeEntities(value) }
        }
        return attributes
    }

    private mutating func readValue() -> String {
        guard index < bytes.count else { return "" }
        let quote = bytes[index]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != quote { index += 1 }
            defer { index = min(index + 1, bytes.count) }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        let start = index
        while index < bytes.count, !Self.isSpace(bytes[index]), bytes[index] != UInt8(ascii: ">") { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// A tag or attribute name: letters, digits and `-_:.`.
    private mutating func word() -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index] | 0x20
            let isLetter = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let isOther = (bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")) || "-_:.".utf8.contains(bytes[index])
            guard isLetter || isOther else { break }
            index += 1
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func skipSpace() {
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
    }

    private func starts(with text: String) -> Bool {
        matches(text, at: index)
    }

    private func endsWith(_ text: String) -> Bool {
        index >= text.utf8.count && matches(text, at: index - text.utf8.count)
    }

    private func matches(_ text: String, at position: Int) -> Bool {
        let pattern = Array(text.utf8)
        guard position + pattern.count <= bytes.count else { return false }
        for offset in 0..<pattern.count where bytes[position + offset] | 0x20 != pattern[offset] | 0x20 {
            return false
        }
        return true
    }

    /// Moves past the next `text` (case-insensitive), or to the end.
    private mutating func skip(past text: String) {
        let count = text.utf8.count
        while index < bytes.count {
            if matches(text, at: index) {
                index += count
                return
            }
            index += 1
        }
    }
}
