/// The tag bytes of the binary node format (protocol reference §4.3).
///
/// Bytes 1...235 are single-byte tokens and `f0`...`f4` are unused; every other value has a
/// constant here. A caseless namespace of `UInt8` constants rather than an enum, because the
/// codec switches over raw bytes read from the wire and token bytes share the same space.
enum BinaryTag {
    /// A list of size 0, an absent value, or an empty JID user.
    static let listEmpty: UInt8 = 0x00
    /// First of the four double-byte dictionary tags (`ec`...`ef`); the next byte is the index.
    static let dictionary0: UInt8 = 0xEC
    static let dictionary3: UInt8 = 0xEF
    /// user, device (BE u16), integrator (BE u16), server.
    static let interopJID: UInt8 = 0xF5
    /// user, device (BE u16), server.
    static let fbJID: UInt8 = 0xF6
    /// agent/domain (u8), device (u8), user.
    static let adJID: UInt8 = 0xF7
    /// List with a one-byte size.
    static let list8: UInt8 = 0xF8
    /// List with a big-endian two-byte size.
    static let list16: UInt8 = 0xF9
    /// user (or `00`), server.
    static let jidPair: UInt8 = 0xFA
    /// Packed uppercase hex string.
    static let hex8: UInt8 = 0xFB
    /// Raw bytes with a one-byte length.
    static let binary8: UInt8 = 0xFC
    /// Raw bytes with a 20-bit length in three bytes (top nibble of the first ignored).
    static let binary20: UInt8 = 0xFD
    /// Raw bytes with a big-endian four-byte length.
    static let binary32: UInt8 = 0xFE
    /// Packed digit string (`0-9`, `-`, `.`).
    static let nibble8: UInt8 = 0xFF

    /// Packed strings carry at most 127 characters (7-bit length field, in pairs, odd bit).
    static let packedMax = 127
    /// Bit of the frame plaintext's flags byte that marks a zlib-compressed body (§4.2).
    static let compressedFlag: UInt8 = 0x02
}
