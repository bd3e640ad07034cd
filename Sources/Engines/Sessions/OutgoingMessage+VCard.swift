extension OutgoingContent {
    /// The vCard of a contact card (OpenWA's send-contact): version 3.0, the name as `FN`, the
    /// number as a mobile `TEL` with WhatsApp's `waid` parameter so the card offers "Message".
    package static func vCard(name: String, number: String) -> String {
        let digits = number.filter(\.isNumber)
        return [
            "BEGIN:VCARD", "VERSION:3.0", "FN:\(escaped(name))",
            "TEL;type=CELL;type=VOICE;waid=\(digits):+\(digits)", "END:VCARD",
        ].joined(separator: "\n")
    }

    /// RFC 6350 text escaping: a comma, semicolon, backslash or newline in the name must not
    /// end the property or start a new one.
    private static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case ",": out += "\\,"
            case ";": out += "\\;"
            case "\n", "\r\n", "\r": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
