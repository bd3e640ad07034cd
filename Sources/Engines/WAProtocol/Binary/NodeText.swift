/// The readable XML-like form of a node, for logs and the debugging CLI, and its parser
/// (`NodeText+Parse.swift`), so text typed by a person can be encoded to wire bytes.
///
/// ```
/// <iq id="1.2-1" to=s.whatsapp.net type="get" xmlns="w:p"><ping/></iq>
/// ```
/// * Attribute strings are quoted (`"…"`, escapes `\" \\ \n \r \t \u{…}`); JIDs are bare
///   (`to=15551234567:7@s.whatsapp.net`), or `jid"…"` when their text needs quoting.
/// * Content: `<a/>` none; `<a></a>` an empty child list; `<a>"s"</a>` a string; `<a>jid"…"</a>` a JID;
///   `<a>0x0aff</a>` bytes in hex; `<a>2@AAAA</a>` bytes that are printable UTF-8, with `&lt;`,
///   `&gt;` and `&amp;` escaped. Printable bytes that would read as another form are shown in hex.
/// * Tags and keys are bare, or quoted when they contain spaces or markup characters.
///
/// `parse(render(node)) == node` for every node whose JIDs print losslessly (see `JID`), and
/// `render(parse(text)) == text` for rendered text.
package enum NodeText {
    /// The text form of `node`; `pretty` puts each child on its own indented line.
    package static func render(_ node: BinaryNode, pretty: Bool = false) -> String {
        var out = ""
        write(node, into: &out, indent: pretty ? 0 : nil)
        return out
    }

    // MARK: - Rendering

    private static func write(_ node: BinaryNode, into out: inout String, indent: Int?) {
        let tag = name(node.tag)
        out += "<" + tag
        for attribute in node.attributes {
            out += " " + name(attribute.key) + "="
            switch attribute.value {
            case .string(let string): out += quoted(string)
            case .jid(let jid): out += isBare(jid.description) ? jid.description : "jid" + quoted(jid.description)
            }
        }
        switch node.content {
        case .none:
            out += "/>"
            return
        case .nodes(let children):
            out += ">"
            for child in children {
                if let indent { out += "\n" + String(repeating: "  ", count: indent + 1) }
                write(child, into: &out, indent: indent.map { $0 + 1 })
            }
            if let indent, !children.isEmpty { out += "\n" + String(repeating: "  ", count: indent) }
        case .bytes(let bytes):
            out += ">" + text(bytes)
        case .string(let string):
            out += ">" + quoted(string)
        case .jid(let jid):
            out += ">jid" + quoted(jid.description)
        }
        out += "</" + tag + ">"
    }

    /// Bytes as escaped text when they are printable UTF-8 that cannot be mistaken for another
    /// content form, otherwise as `0x` hex.
    private static func text(_ bytes: [UInt8]) -> String {
        guard let string = String(validating: bytes, as: UTF8.self), isPrintableText(string) else {
            return "0x" + hex(bytes)
        }
        var out = ""
        for character in string.unicodeScalars {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    private static func isPrintableText(_ string: String) -> Bool {
        guard let first = string.unicodeScalars.first, let last = string.unicodeScalars.last,
            first != " ", last != " ", !string.hasPrefix("\""), !string.hasPrefix("0x"), !string.hasPrefix("jid\"")
        else { return false }
        return string.unicodeScalars.allSatisfy(isPrintable)
    }

    /// Excludes C0 and C1 controls and DEL; everything else, including non-ASCII, shows as is.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x20 && !(0x7F...0x9F).contains(scalar.value)
    }

    /// A tag or key: bare unless it is empty or holds characters the parser stops at.
    private static func name(_ string: String) -> String {
        isBare(string) ? string : quoted(string)
    }

    /// True when `string` can be written without quotes: non-empty, printable, and free of
    /// whitespace and of `< > / = "`, and not starting with `jid"` (the quoted-JID marker).
    static func isBare(_ string: String) -> Bool {
        !string.isEmpty && !string.hasPrefix("jid\"")
            && string.unicodeScalars.allSatisfy { isPrintable($0) && !"<>/=\" ".unicodeScalars.contains($0) }
    }

    private static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                }
            }
        }
        return out + "\""
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
