/// NIBBLE_8 and HEX_8: strings of digits packed two characters per byte (protocol reference §4.5).
///
/// Wire layout: tag, then `LEN = ceil(count / 2) | (0x80 if count is odd)`, then the pairs,
/// high nibble first; an odd string ends in the filler nibble `0xF`.
enum PackedString {
    private static let filler: UInt8 = 0x0F

    /// The packed tag `string` should be written with (`nibble8` or `hex8`), or nil for raw.
    ///
    /// Nibble wins over hex for all-digit strings. Only uppercase hex is packed: it decodes as
    /// uppercase, so packing lowercase would change the string. The empty string is a valid
    /// nibble string (`ff 00`), as in whatsmeow.
    static func tag(for string: String) -> UInt8? {
        let utf8 = string.utf8
        guard utf8.count <= BinaryTag.packedMax else { return nil }
        if utf8.allSatisfy(isNibbleCharacter) { return BinaryTag.nibble8 }
        if utf8.allSatisfy(isHexCharacter) { return BinaryTag.hex8 }
        return nil
    }

    /// Appends `tag`, the length byte and the packed pairs of `string`, which must satisfy
    /// `tag(for:)`.
    static func append(_ string: String, tag: UInt8, to out: inout [UInt8]) {
        let characters = Array(string.utf8)
        let odd = characters.count % 2 == 1
        out.append(tag)
        out.append(UInt8((characters.count + 1) / 2) | (odd ? 0x80 : 0))
        var index = 0
        while index < characters.count {
            let high = code(of: characters[index])
            let low = index + 1 < characters.count ? code(of: characters[index + 1]) : filler
            out.append(high << 4 | low)
            index += 2
        }
    }

    /// Expands `packed` (the bytes after the length byte) into characters; `odd` drops the last.
    static func unpack(_ packed: ArraySlice<UInt8>, tag: UInt8, odd: Bool) throws -> String {
        guard !(odd && packed.isEmpty) else { throw ProtocolError.invalidPackedString("odd flag on an empty string") }
        var characters: [UInt8] = []
        characters.reserveCapacity(packed.count * 2)
        let total = packed.count * 2 - (odd ? 1 : 0)
        for (pairIndex, byte) in packed.enumerated() {
            characters.append(try character(for: byte >> 4, tag: tag))
            let low = byte & 0x0F
            if pairIndex * 2 + 1 < total {
                characters.append(try character(for: low, tag: tag))
            } else if tag == BinaryTag.nibble8, low > 11, low != filler {
                // The dropped character: whatsmeow still rejects impossible nibbles here.
                throw ProtocolError.invalidPackedString("nibble \(low)")
            }
        }
        return String(decoding: characters, as: UTF8.self)
    }

    // MARK: - Character codes

    private static func isNibbleCharacter(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }

    private static func isHexCharacter(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
    }

    private static func code(of c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "-"): return 10
        case UInt8(ascii: "."): return 11
        default: return c - UInt8(ascii: "A") + 10  // hex A...F, validated by tag(for:)
        }
    }

    private static func character(for value: UInt8, tag: UInt8) throws -> UInt8 {
        if value < 10 { return UInt8(ascii: "0") + value }
        if tag == BinaryTag.hex8 { return UInt8(ascii: "A") + value - 10 }
        switch value {
        case 10: return UInt8(ascii: "-")
        case 11: return UInt8(ascii: ".")
        // The filler is only valid as the dropped last character, handled by the caller.
        default: throw ProtocolError.invalidPackedString("nibble \(value)")
        }
    }
}
