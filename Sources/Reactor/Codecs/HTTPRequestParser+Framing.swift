/// How a request says where its body ends (RFC 9112 §6) and whether its connection survives it.
///
/// Framing is the part of HTTP where a lenient parser gets smuggled past: two parties that
/// disagree about a body's length disagree about where the next request starts. So every
/// ambiguity (both lengths, differing lengths, chunked applied twice or not last, codings we do
/// not implement) is rejected instead of being resolved by a guess.
extension HTTPRequestParser {
    struct Framing {
        private(set) var contentLength: Int?
        private var sawTransferEncoding = false
        private var sawChunked = false
        private var chunkedNotLast = false
        private var unknownCoding = false
        private var hostCount = 0
        private(set) var connectionClose = false
        private(set) var connectionKeepAlive = false
        private(set) var expectsContinue = false

        /// Whether the body uses the chunked coding (only meaningful once `validate` passed).
        var isChunked: Bool { sawTransferEncoding }

        /// Notes a field that affects framing; other fields are ignored cheaply by length.
        mutating func record(
            name: Range<Int>, value: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>
        ) -> HTTPParseError? {
            switch name.count {
            case 4 where HTTPSyntax.equalsIgnoringCase(name, of: bytes, "host"):
                hostCount += 1
            case 6 where HTTPSyntax.equalsIgnoringCase(name, of: bytes, "expect"):
                if HTTPSyntax.equalsIgnoringCase(value, of: bytes, "100-continue") { expectsContinue = true }
            case 10 where HTTPSyntax.equalsIgnoringCase(name, of: bytes, "connection"):
                HTTPSyntax.forEachListElement(in: value, of: bytes) { option in
                    if HTTPSyntax.equalsIgnoringCase(option, of: bytes, "close") { connectionClose = true }
                    if HTTPSyntax.equalsIgnoringCase(option, of: bytes, "keep-alive") { connectionKeepAlive = true }
                    return true
                }
            case 14 where HTTPSyntax.equalsIgnoringCase(name, of: bytes, "content-length"):
                return recordContentLength(value, in: bytes)
            case 17 where HTTPSyntax.equalsIgnoringCase(name, of: bytes, "transfer-encoding"):
                recordTransferEncoding(value, in: bytes)
            default:
                break
            }
            return nil
        }

        /// RFC 9110 §8.6 lets a recipient accept `42, 42` or a repeated identical field as one
        /// value; anything else that is not a plain decimal, or a second different value, is 400.
        private mutating func recordContentLength(
            _ value: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>
        ) -> HTTPParseError? {
            var error: HTTPParseError?
            HTTPSyntax.forEachListElement(in: value, of: bytes) { element in
                guard let length = Self.decimal(element, in: bytes) else {
                    error = .malformed("invalid Content-Length")
                    return false
                }
                if let contentLength, contentLength != length {
                    error = .malformed("conflicting Content-Length values")
                    return false
                }
                contentLength = length
                return true
            }
            return error
        }

        /// Codings accumulate across repeated fields in order; validation happens at the end.
        private mutating func recordTransferEncoding(_ value: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) {
            sawTransferEncoding = true
            HTTPSyntax.forEachListElement(in: value, of: bytes) { coding in
                guard !coding.isEmpty else { return true }  // empty list elements are allowed
                if sawChunked { chunkedNotLast = true }
                if HTTPSyntax.equalsIgnoringCase(coding, of: bytes, "chunked") {
                    sawChunked = true
                } else {
                    unknownCoding = true
                }
                return true
            }
        }

        /// Checks the head as a whole once every field has been recorded.
        func validate(versionMinor: Int, maxBodyBytes: Int) -> HTTPParseError? {
            // RFC 9112 §3.2: exactly one Host in HTTP/1.1, never more than one at all.
            if hostCount > 1 { return .malformed("multiple Host headers") }
            if versionMinor == 1 && hostCount == 0 { return .malformed("missing Host header") }
            if sawTransferEncoding {
                if contentLength != nil { return .malformed("both Content-Length and Transfer-Encoding") }
                // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
                if versionMinor == 0 { return .malformed("Transfer-Encoding in an HTTP/1.0 request") }
                // §6.3: without chunked as the final coding the length cannot be determined.
                if chunkedNotLast { return .malformed("chunked is not the final transfer coding") }
                if unknownCoding { return .notImplemented }
                if !sawChunked { return .malformed("empty Transfer-Encoding") }
            }
            // Checked on the head alone so a client is refused before it uploads anything.
            if let contentLength, contentLength > maxBodyBytes { return .payloadTooLarge }
            return nil
        }

        /// A non-empty run of ASCII digits that fits in `Int`.
        private static func decimal(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
            guard !range.isEmpty else { return nil }
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !overflowA, !overflowB else { return nil }
                value = sum
            }
            return value
        }
    }
}
