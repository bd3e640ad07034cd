/// Translates the layer's PostgreSQL-style `$N` placeholders into SQLite's `?N`.
///
/// SQLite would read `$1` as a *named* parameter called "$1", and named parameters are numbered by
/// first appearance, so `$2 … $1` would bind in the wrong order. `?N` is SQLite's explicitly
/// numbered form: `?1` is the first bind wherever it appears and may be repeated, exactly like
/// `$1` in PostgreSQL.
///
/// The rewrite is byte-for-byte (`$` and `?` are both one byte), skipping string literals, quoted
/// identifiers and comments so that `'$1'` stays text. It runs once per statement text, because
/// the connection caches the prepared statement under the original text.
enum SQLitePlaceholders {
    private enum Context {
        case code
        case singleQuoted
        case doubleQuoted
        case lineComment
        case blockComment
    }

    static func rewrite(_ sql: String) -> String {
        var bytes = Array(sql.utf8)
        guard bytes.contains(UInt8(ascii: "$")) else { return sql }

        var context = Context.code
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            switch context {
            case .code:
                switch byte {
                case UInt8(ascii: "'"): context = .singleQuoted
                case UInt8(ascii: "\""): context = .doubleQuoted
                case UInt8(ascii: "-") where next == UInt8(ascii: "-"):
                    context = .lineComment
                    index += 1
                case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                    context = .blockComment
                    index += 1
                case UInt8(ascii: "$") where next.map(isDigit) == true && !followsIdentifier(bytes, index):
                    bytes[index] = UInt8(ascii: "?")
                default: break
                }
            case .singleQuoted:
                // A doubled quote ('') is an escaped quote inside the literal; the second one is
                // consumed here so it does not reopen a literal.
                if byte == UInt8(ascii: "'") {
                    if next == UInt8(ascii: "'") { index += 1 } else { context = .code }
                }
            case .doubleQuoted:
                if byte == UInt8(ascii: "\"") {
                    if next == UInt8(ascii: "\"") { index += 1 } else { context = .code }
                }
            case .lineComment:
                if byte == UInt8(ascii: "\n") { context = .code }
            case .blockComment:
                if byte == UInt8(ascii: "*"), next == UInt8(ascii: "/") {
                    context = .code
                    index += 1
                }
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// PostgreSQL allows `$` inside identifiers (`price$1`); such a `$` is not a placeholder.
    private static func followsIdentifier(_ bytes: [UInt8], _ index: Int) -> Bool {
        guard index > 0 else { return false }
        let previous = bytes[index - 1]
        let folded = previous | 0x20  // ASCII upper case to lower case; harmless for the rest
        let isLetter = folded >= UInt8(ascii: "a") && folded <= UInt8(ascii: "z")
        return isLetter || isDigit(previous) || previous == UInt8(ascii: "_") || previous == UInt8(ascii: "$")
            || previous >= 0x80
    }
}
