/// Line-level pieces of the chunked transfer coding (RFC 9112 §7.1). The state machine that
/// strings them together lives in `HTTPRequestParser.next()`; these are pure functions on one
/// line's content (CRLF already stripped).
extension HTTPRequestParser {
    /// `chunk-size [ chunk-ext ]`: hex digits, then optionally `BWS ";" ...` which is ignored.
    ///
    /// Extensions carry nothing we use, but their bytes are still checked for control characters
    /// so a CR or NUL cannot hide in them. Whitespace is only accepted directly before `;`, as the
    /// grammar allows, never as trailing junk after the size.
    static func parseChunkSize(_ line: UnsafeBufferPointer<UInt8>) -> Result<Int, HTTPParseError> {
        var size = 0
        var index = 0
        while index < line.count, let digit = HTTPSyntax.hexValue(line[index]) {
            let (shifted, overflowA) = size.multipliedReportingOverflow(by: 16)
            let (sum, overflowB) = shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return .failure(.malformed("chunk size too large")) }
            size = sum
            index += 1
        }
        guard index > 0 else { return .failure(.malformed("invalid chunk size")) }
        guard index < line.count else { return .success(size) }

        while index < line.count, HTTPSyntax.isOptionalWhitespace(line[index]) { index += 1 }
        guard index < line.count, line[index] == HTTPSyntax.semicolon else {
            return .failure(.malformed("invalid chunk size"))
        }
        for byte in line[(index + 1)...] where !HTTPSyntax.isFieldValueByte(byte) {
            return .failure(.malformed("invalid character in chunk extension"))
        }
        return .success(size)
    }

    /// Checks one trailer field with the same rules as a header field; the field is then dropped.
    static func validateTrailerField(_ line: UnsafeBufferPointer<UInt8>) -> HTTPParseError? {
        guard let first = line.first, !HTTPSyntax.isOptionalWhitespace(first) else {
            return .malformed("obsolete line folding in trailer section")
        }
        var index = 0
        while index < line.count, HTTPSyntax.isTokenByte(line[index]) { index += 1 }
        guard index > 0, index < line.count, line[index] == HTTPSyntax.colon else {
            return .malformed("invalid trailer field name")
        }
        for byte in line[(index + 1)...] where !HTTPSyntax.isFieldValueByte(byte) {
            return .malformed("invalid character in trailer field value")
        }
        return nil
    }
}
