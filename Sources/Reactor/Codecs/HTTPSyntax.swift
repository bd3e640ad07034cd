/// Byte-level building blocks of the HTTP/1.1 grammar (RFC 9110 / RFC 9112) shared by the codecs.
///
/// Everything here works on raw bytes so the parser can validate and classify a field before it
/// pays for building a `String`, and so no Foundation is needed on the hot path.
enum HTTPSyntax {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let semicolon = UInt8(ascii: ";")
    static let slash = UInt8(ascii: "/")
    static let questionMark = UInt8(ascii: "?")

    /// `tchar` from RFC 9110 §5.6.2: the alphabet of methods, header names and transfer codings.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// A byte allowed inside a field value: VCHAR, obs-text, SP and HTAB. Every other control
    /// byte (NUL, a stray CR, DEL...) is rejected because proxies disagree on how to treat them,
    /// which is exactly the disagreement request smuggling feeds on.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// A byte allowed in a request-target: visible ASCII only (no SP, CTL, DEL or raw UTF-8).
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F
    }

    @inline(__always)
    static func isOptionalWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte &- UInt8(ascii: "A") &+ 10)
        default: return nil
        }
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// Index of the first LF in `bytes[start..<end]`, or nil.
    ///
    /// Scans eight bytes per step (SWAR "has zero byte" trick on `word ^ 0x0A..`): heads are
    /// searched on every received segment, so this loop is the hottest part of the parser.
    static func firstLineFeed(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var index = start
        #if _endian(little)
            if let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                while index + 8 <= end {
                    let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ 0x0A0A_0A0A_0A0A_0A0A
                    // Only bytes above a real zero byte can be false positives, so the lowest
                    // set bit always marks the first LF.
                    let zeroes = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
                    if zeroes != 0 { return index + (zeroes.trailingZeroBitCount >> 3) }
                    index += 8
                }
            }
        #endif
        while index < end {
            if bytes[index] == lf { return index }
            index += 1
        }
        return nil
    }

    /// `range` without leading and trailing SP/HTAB.
    static func trimmingWhitespace(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isOptionalWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, isOptionalWhitespace(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    /// Calls `body` with each whitespace-trimmed element of a comma-separated list (RFC 9110
    /// §5.6.1), empty elements included; stops early when `body` returns false.
    static func forEachListElement(
        in range: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Bool
    ) {
        var elementStart = range.lowerBound
        var index = range.lowerBound
        while index <= range.upperBound {
            if index == range.upperBound || bytes[index] == comma {
                guard body(trimmingWhitespace(elementStart..<index, in: bytes)) else { return }
                elementStart = index + 1
            }
            index += 1
        }
    }

    /// Whether `bytes[range]` equals `lowercaseLiteral` ignoring ASCII case.
    static func equalsIgnoringCase(
        _ range: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>, _ lowercaseLiteral: StaticString
    ) -> Bool {
        guard range.count == lowercaseLiteral.utf8CodeUnitCount else { return false }
        return lowercaseLiteral.withUTF8Buffer { literal in
            var offset = 0
            while offset < literal.count {
                if lowercased(bytes[range.lowerBound + offset]) != literal[offset] { return false }
                offset += 1
            }
            return true
        }
    }

    /// Case-insensitive comparison of two header names without allocating lowercased copies.
    static func namesEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8
        let right = rhs.utf8
        guard left.count == right.count else { return false }
        return left.elementsEqual(right) { lowercased($0) == lowercased($1) }
    }
}
