/// The failures of the binary node codec, the framing and the node text form.
///
/// All are `.malformed`: the bytes or text (or, when encoding, the node) cannot be carried by the
/// wire format, and the connection owner's answer is the same for every one of them. The
/// messages are fixed per case, so two errors compare equal exactly when they describe the same
/// fault, which is what tests match on.
extension ProtocolError {
    private static let truncatedMessage = "binary node truncated"
    private static let lengthTooLargeSuffix = "exceeds the remaining input"

    // MARK: - Decoding

    /// The input ended in the middle of an item.
    package static let truncated = malformed(truncatedMessage)

    /// A tag byte that is not allowed where it appeared (an unused byte such as `f0`, or a
    /// non-list byte where a node must start).
    package static func invalidTag(_ tag: UInt8) -> ProtocolError {
        malformed("invalid tag byte 0x\(String(tag, radix: 16))")
    }

    /// A token index outside the tables (dictionary -1 is the single-byte table).
    package static func tokenOutOfRange(dictionary: Int, index: Int) -> ProtocolError {
        malformed(
            dictionary < 0
                ? "single-byte token \(index) out of range" : "token \(index) of dictionary \(dictionary) out of range")
    }

    /// A declared length or list size larger than the bytes that remain, refused before
    /// anything is allocated for it.
    package static func lengthTooLarge(_ length: Int) -> ProtocolError {
        malformed("declared length \(length) \(lengthTooLargeSuffix)")
    }

    /// A structurally wrong node: size 0, empty tag or empty attribute key.
    package static func invalidNode(_ reason: String) -> ProtocolError { malformed("invalid node: \(reason)") }

    /// A JID that cannot be represented, on the wire or in its string form.
    package static func invalidJID(_ reason: String) -> ProtocolError { malformed("invalid JID: \(reason)") }

    /// A nibble- or hex-packed string with an impossible digit or length.
    package static func invalidPackedString(_ reason: String) -> ProtocolError {
        malformed("invalid packed string: \(reason)")
    }

    /// Nodes nested deeper than the limit; bounds recursion on hostile input.
    package static func nestingTooDeep(_ limit: Int) -> ProtocolError { malformed("nodes nested deeper than \(limit)") }

    /// Bytes left over after the root node.
    package static func trailingBytes(_ count: Int) -> ProtocolError { malformed("\(count) bytes after the root node") }

    /// True when the input ended before something it declared: a cut-off stanza, or a length
    /// or list size that overstates the bytes that follow. The decoder cannot tell these apart.
    package var isInputTooShort: Bool {
        kind == .malformed && (message == Self.truncatedMessage || message.hasSuffix(Self.lengthTooLargeSuffix))
    }

    // MARK: - Framing and compression

    /// A frame whose declared length is over the reader's limit (or over the 3-byte maximum).
    package static func frameTooLarge(_ length: Int) -> ProtocolError {
        malformed("frame of \(length) bytes exceeds the limit")
    }

    /// The first bytes of a connection are neither `ED…` nor `WA 06 03`.
    package static let invalidIntroHeader = malformed("invalid connection intro header")

    /// A compressed stanza that is not a valid zlib stream.
    package static func decompressionFailed(_ reason: String) -> ProtocolError {
        malformed("decompression failed: \(reason)")
    }

    /// A compressed stanza that inflates past the limit (a decompression bomb).
    package static func decompressedTooLarge(_ limit: Int) -> ProtocolError {
        malformed("decompressed stanza exceeds \(limit) bytes")
    }

    // MARK: - Encoding and text

    /// A node the wire format cannot carry (a list over 65535 entries, content over 4 GiB).
    package static func unencodable(_ reason: String) -> ProtocolError { malformed("cannot encode: \(reason)") }

    /// The XML-like text form could not be parsed; `offset` counts UTF-8 bytes.
    package static func invalidText(_ reason: String, offset: Int) -> ProtocolError {
        malformed("node text: \(reason) at byte \(offset)")
    }
}

/// Kind and message together identify a failure; the binary codec's tests compare errors with
/// `#expect(throws: ProtocolError.truncated)`.
extension ProtocolError: Equatable {
    package static func == (lhs: ProtocolError, rhs: ProtocolError) -> Bool {
        lhs.kind == rhs.kind && lhs.message == rhs.message
    }
}
