/// The request line and header section of one HTTP/1.x request, already validated and with the
/// framing decisions (keep-alive, body length, chunking) made by the parser.
package struct HTTPRequestHead: Sendable, Equatable {
    /// The method token exactly as sent (methods are case-sensitive).
    package var method: String
    /// The raw request-target: origin-form (`/a?b`), absolute-form (`http://h/a`) or `*`.
    package var target: String
    /// The path part of the target, before any `?`, NOT percent-decoded: decoding is left to the
    /// router so that an encoded `/` (`%2F`) stays distinguishable from a segment separator.
    package var path: String
    /// Everything after the first `?`, or nil when the target has no `?`.
    package var query: String?
    /// 0 for HTTP/1.0, 1 for HTTP/1.1; other versions never reach this type.
    package var versionMinor: Int
    package var headers: HTTPHeaders
    /// Whether the connection may carry another request after this one.
    package var keepAlive: Bool
    /// Whether an HTTP/1.1 client waits for `100 Continue` before sending the body.
    package var expectsContinue: Bool
    /// The declared body length, or nil when there is none or the body is chunked.
    package var contentLength: Int?
    /// Whether the body uses the chunked transfer coding.
    package var isChunked: Bool

    /// Memberwise initializer; the parser derives every field from the bytes it validated.
    package init(
        method: String, target: String, path: String, query: String?, versionMinor: Int,
        headers: HTTPHeaders, keepAlive: Bool, expectsContinue: Bool, contentLength: Int?, isChunked: Bool
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.versionMinor = versionMinor
        self.headers = headers
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
        self.contentLength = contentLength
        self.isChunked = isChunked
    }

    /// The query as `application/x-www-form-urlencoded` name/value pairs, in order.
    ///
    /// Pairs are split on `&`, names from values on the first `=`; both are percent-decoded with
    /// `+` meaning space. Empty pairs (`a=1&&b=2`) are skipped, a name without `=` gets an empty
    /// value, and a malformed escape (`%zz`) is kept literally rather than failing the request.
    package func queryItems() -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        var items: [(String, String)] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&")) {
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                items.append((Self.formDecoded(pair[..<equals]), Self.formDecoded(pair[pair.index(after: equals)...])))
            } else {
                items.append((Self.formDecoded(pair), ""))
            }
        }
        return items
    }

    private static func formDecoded(_ bytes: Substring.UTF8View) -> String {
        // Most names and many values need no decoding; skip the byte copy for them.
        if !bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return String(Substring(bytes))
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "+"):
                decoded.append(HTTPSyntax.space)
            case UInt8(ascii: "%"):
                guard index != bytes.endIndex, let high = HTTPSyntax.hexValue(bytes[index]) else {
                    decoded.append(byte)
                    continue
                }
                let lowIndex = bytes.index(after: index)
                guard lowIndex != bytes.endIndex, let low = HTTPSyntax.hexValue(bytes[lowIndex]) else {
                    decoded.append(byte)
                    continue
                }
                decoded.append(UInt8(high << 4 | low))
                index = bytes.index(after: lowIndex)
            default:
                decoded.append(byte)
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }
}
