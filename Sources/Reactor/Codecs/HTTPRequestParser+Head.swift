/// Parsing of a complete request head. The incremental part of the parser has already found the
/// empty line ending the head and enforced the size limits; what is left is a pure function from
/// those bytes to a validated `HTTPRequestHead`, kept free of parser state so it is easy to test
/// and reason about.
extension HTTPRequestParser {
    /// Parses `bytes`, which hold exactly one head: request line, fields and the empty line, each
    /// terminated by LF with an optional preceding CR. `lineCount` is the number of non-empty
    /// lines, used to size the header storage once.
    static func parseHead(
        _ bytes: UnsafeBufferPointer<UInt8>, lineCount: Int, maxBodyBytes: Int
    ) -> Result<HTTPRequestHead, HTTPParseError> {
        var cursor = 0
        guard let requestLineRange = nextLine(in: bytes, cursor: &cursor) else {
            return .failure(.malformed("incomplete request head"))
        }
        let requestLine: RequestLine
        switch parseRequestLine(requestLineRange, in: bytes) {
        case .success(let line): requestLine = line
        case .failure(let error): return .failure(error)
        }

        var headers = HTTPHeaders()
        headers.reserveCapacity(max(0, lineCount - 1))
        var framing = Framing()
        while let field = nextLine(in: bytes, cursor: &cursor), !field.isEmpty {
            if let error = parseField(field, in: bytes, into: &headers, framing: &framing) {
                return .failure(error)
            }
        }
        if let error = framing.validate(versionMinor: requestLine.versionMinor, maxBodyBytes: maxBodyBytes) {
            return .failure(error)
        }

        let keepAlive =
            requestLine.versionMinor == 1
            ? !framing.connectionClose
            : framing.connectionKeepAlive && !framing.connectionClose
        return .success(
            HTTPRequestHead(
                method: requestLine.method, target: requestLine.target, path: requestLine.path,
                query: requestLine.query, versionMinor: requestLine.versionMinor, headers: headers,
                keepAlive: keepAlive,
                // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
                expectsContinue: framing.expectsContinue && requestLine.versionMinor == 1,
                contentLength: framing.isChunked ? nil : framing.contentLength,
                isChunked: framing.isChunked))
    }

    /// The content of the next line (terminator excluded), advancing `cursor` past it.
    private static func nextLine(in bytes: UnsafeBufferPointer<UInt8>, cursor: inout Int) -> Range<Int>? {
        guard let lf = HTTPSyntax.firstLineFeed(in: bytes, from: cursor, to: bytes.count) else { return nil }
        let start = cursor
        cursor = lf + 1
        return start..<(lf > start && bytes[lf - 1] == HTTPSyntax.cr ? lf - 1 : lf)
    }

    // MARK: - Request line

    private struct RequestLine {
        var method: String
        var target: String
        var path: String
        var query: String?
        var versionMinor: Int
    }

    /// `method SP request-target SP HTTP-version`, with exactly one SP between the parts.
    private static func parseRequestLine(
        _ line: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>
    ) -> Result<RequestLine, HTTPParseError> {
        var index = line.lowerBound
        while index < line.upperBound, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
        let methodRange = line.lowerBound..<index
        guard !methodRange.isEmpty, index < line.upperBound, bytes[index] == HTTPSyntax.space else {
            return .failure(.malformed("invalid method"))
        }
        index += 1
        let targetStart = index
        while index < line.upperBound, HTTPSyntax.isTargetByte(bytes[index]) { index += 1 }
        let targetRange = targetStart..<index
        guard !targetRange.isEmpty, index < line.upperBound, bytes[index] == HTTPSyntax.space else {
            return .failure(.malformed("invalid request target"))
        }
        let versionMinor: Int
        switch parseVersion(index + 1..<line.upperBound, in: bytes) {
        case .success(let minor): versionMinor = minor
        case .failure(let error): return .failure(error)
        }

        let method = string(methodRange, in: bytes)
        let target = string(targetRange, in: bytes)
        guard let pathStart = pathStart(of: targetRange, in: bytes, method: method) else {
            return .failure(.malformed("invalid request target"))
        }
        var queryStart: Int?
        for scan in pathStart..<targetRange.upperBound where bytes[scan] == HTTPSyntax.questionMark {
            queryStart = scan
            break
        }
        let pathRange = pathStart..<(queryStart ?? targetRange.upperBound)
        // Reuse the target's storage for the common `/path` target; an absolute-form target
        // without a path (`http://host`, `http://host?q`) means "/".
        let path =
            pathRange == targetRange ? target : pathRange.isEmpty ? "/" : string(pathRange, in: bytes)
        let query = queryStart.map { string($0 + 1..<targetRange.upperBound, in: bytes) }
        return .success(
            RequestLine(method: method, target: target, path: path, query: query, versionMinor: versionMinor))
    }

    /// Exactly `HTTP/<digit>.<digit>`. Well-formed versions other than 1.0 and 1.1 are 505,
    /// anything else (lowercase, missing minor, extra bytes) is simply malformed.
    private static func parseVersion(
        _ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>
    ) -> Result<Int, HTTPParseError> {
        let prefix: StaticString = "HTTP/"
        let isWellFormed =
            range.count == 8
            && prefix.withUTF8Buffer { literal in
                literal.indices.allSatisfy { bytes[range.lowerBound + $0] == literal[$0] }
            }
            && bytes[range.lowerBound + 6] == UInt8(ascii: ".")
        guard isWellFormed,
            let major = decimalDigit(bytes[range.lowerBound + 5]),
            let minor = decimalDigit(bytes[range.lowerBound + 7])
        else { return .failure(.malformed("invalid HTTP version")) }
        guard major == 1, minor <= 1 else { return .failure(.versionNotSupported) }
        return .success(minor)
    }

    private static func decimalDigit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// Where the path starts inside the target, per form; nil for a form we do not serve
    /// (authority-form, `*` with a method other than OPTIONS, other schemes, empty host).
    private static func pathStart(of target: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>, method: String) -> Int? {
        let first = bytes[target.lowerBound]
        if first == HTTPSyntax.slash { return target.lowerBound }
        if first == UInt8(ascii: "*") {
            return target.count == 1 && method == "OPTIONS" ? target.lowerBound : nil
        }
        func hasScheme(_ scheme: StaticString) -> Bool {
            let length = scheme.utf8CodeUnitCount
            return target.count >= length
                && HTTPSyntax.equalsIgnoringCase(target.lowerBound..<target.lowerBound + length, of: bytes, scheme)
        }
        let schemeLength: Int
        if hasScheme("http://") {
            schemeLength = 7
        } else if hasScheme("https://") {
            schemeLength = 8
        } else {
            return nil
        }
        let authorityStart = target.lowerBound + schemeLength
        var index = authorityStart
        while index < target.upperBound, bytes[index] != HTTPSyntax.slash, bytes[index] != HTTPSyntax.questionMark {
            index += 1
        }
        return index > authorityStart ? index : nil
    }

    private static func string(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    // MARK: - Header fields

    /// `field-name ":" OWS field-value OWS`; appends the field and records what framing needs.
    private static func parseField(
        _ line: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>, into headers: inout HTTPHeaders,
        framing: inout Framing
    ) -> HTTPParseError? {
        // RFC 9112 §5.2: obs-fold must be rejected (or rewritten); rejecting is the safe choice.
        if HTTPSyntax.isOptionalWhitespace(bytes[line.lowerBound]) {
            return .malformed("obsolete line folding in header section")
        }
        var index = line.lowerBound
        while index < line.upperBound, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
        // Whitespace between name and colon must be rejected (RFC 9112 §5.1).
        guard index > line.lowerBound, index < line.upperBound, bytes[index] == HTTPSyntax.colon else {
            return .malformed("invalid header field name")
        }
        let nameRange = line.lowerBound..<index
        let valueRange = HTTPSyntax.trimmingWhitespace(index + 1..<line.upperBound, in: bytes)
        for valueIndex in valueRange where !HTTPSyntax.isFieldValueByte(bytes[valueIndex]) {
            return .malformed("invalid character in header field value")
        }
        if let error = framing.record(name: nameRange, value: valueRange, in: bytes) { return error }
        headers.add(string(nameRange, in: bytes), string(valueRange, in: bytes))
        return nil
    }
}
