import Reactor
import Testing

// MARK: - Helpers

/// Feeds `bytes` in pieces of `pieceSize` bytes (everything at once when nil), draining events
/// after every append like a connection does; stops at the first failure.
private func parse(
    _ bytes: [UInt8], pieceSize: Int? = nil, limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits()
) -> [HTTPParseEvent] {
    var parser = HTTPRequestParser(limits: limits)
    var events: [HTTPParseEvent] = []
    let size = max(1, pieceSize ?? bytes.count)
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + size)
        parser.append(Array(bytes[offset..<end]))
        offset = end
        while let event = parser.next() {
            events.append(event)
            if case .failure = event { return events }
        }
    }
    return events
}

private func parse(
    _ text: String, pieceSize: Int? = nil, limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits()
) -> [HTTPParseEvent] {
    parse(Array(text.utf8), pieceSize: pieceSize, limits: limits)
}

/// Merges adjacent `.body` events: how a body is split depends on how bytes arrived.
private func coalesced(_ events: [HTTPParseEvent]) -> [HTTPParseEvent] {
    var result: [HTTPParseEvent] = []
    for event in events {
        if case .body(let more) = event, case .body(let previous)? = result.last {
            result[result.count - 1] = .body(previous + more)
        } else {
            result.append(event)
        }
    }
    return result
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

// MARK: - Valid requests

struct ValidRequestCase: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var method = "GET"
    var target: String?
    var path = "/"
    var query: String?
    var versionMinor = 1
    var headers: [(String, String)] = [("Host", "h")]
    var body = ""
    var keepAlive = true
    var expectsContinue = false
    var contentLength: Int?
    var isChunked = false

    var testDescription: String { name }
}

private let validRequests: [ValidRequestCase] = [
    ValidRequestCase(
        name: "simple GET", raw: "GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n", path: "/hello",
        headers: [("Host", "example.com")]),
    ValidRequestCase(
        name: "GET with query", raw: "GET /search?q=a%20b&lang=en HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
        target: "/search?q=a%20b&lang=en", path: "/search", query: "q=a%20b&lang=en",
        headers: [("Host", "h"), ("Accept", "*/*")]),
    ValidRequestCase(
        name: "empty query", raw: "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n", target: "/p?", path: "/p", query: ""),
    ValidRequestCase(
        name: "path is not percent-decoded", raw: "GET /a%2Fb HTTP/1.1\r\nHost: h\r\n\r\n", path: "/a%2Fb"),
    ValidRequestCase(
        name: "POST with Content-Length",
        raw: "POST /api/messages HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
            + "Content-Length: 13\r\n\r\n{\"text\":\"hi\"}",
        method: "POST", path: "/api/messages",
        headers: [("Host", "h"), ("Content-Type", "application/json"), ("Content-Length", "13")],
        body: "{\"text\":\"hi\"}", contentLength: 13),
    ValidRequestCase(
        name: "POST with zero Content-Length", raw: "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
        method: "POST", path: "/x", headers: [("Host", "h"), ("Content-Length", "0")], contentLength: 0),
    ValidRequestCase(
        name: "chunked with extensions and trailers",
        raw: "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n6 ; foo=\"bar\"\r\n world\r\n0;last\r\nX-Checksum: abc\r\nX-Other:1\r\n\r\n",
        method: "POST", path: "/upload", headers: [("Host", "h"), ("Transfer-Encoding", "chunked")],
        body: "hello world", isChunked: true),
    ValidRequestCase(
        name: "chunked with uppercase hex and mixed-case coding",
        raw: "PUT /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n00\r\n\r\n",
        method: "PUT", path: "/f", headers: [("Host", "h"), ("Transfer-Encoding", "Chunked")],
        body: "0123456789", isChunked: true),
    ValidRequestCase(
        name: "chunked with empty list elements",
        raw: "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        method: "POST", path: "/c", headers: [("Host", "h"), ("Transfer-Encoding", ", chunked")],
        body: "abc", isChunked: true),
    ValidRequestCase(
        name: "HTTP/1.0 closes by default", raw: "GET / HTTP/1.0\r\n\r\n", versionMinor: 0, headers: [],
        keepAlive: false),
    ValidRequestCase(
        name: "HTTP/1.0 with keep-alive", raw: "GET /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", path: "/x",
        versionMinor: 0, headers: [("Connection", "Keep-Alive")], keepAlive: true),
    ValidRequestCase(
        name: "HTTP/1.0 keep-alive and close", raw: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
        versionMinor: 0, headers: [("Connection", "keep-alive, close")], keepAlive: false),
    ValidRequestCase(
        name: "HTTP/1.1 with Connection close", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, CLOSE\r\n\r\n",
        headers: [("Host", "h"), ("Connection", "upgrade, CLOSE")], keepAlive: false),
    ValidRequestCase(
        name: "HTTP/1.1 keeps alive with other Connection options",
        raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n",
        headers: [("Host", "h"), ("Connection", "Upgrade")]),
    ValidRequestCase(
        name: "absolute-form target",
        raw: "GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
        target: "http://example.com:8080/a/b?c=d", path: "/a/b", query: "c=d",
        headers: [("Host", "example.com:8080")]),
    ValidRequestCase(
        name: "absolute-form target without path",
        raw: "GET HTTPS://example.com?x HTTP/1.1\r\nHost: example.com\r\n\r\n",
        target: "HTTPS://example.com?x", path: "/", query: "x", headers: [("Host", "example.com")]),
    ValidRequestCase(
        name: "OPTIONS asterisk", raw: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", method: "OPTIONS", path: "*"),
    ValidRequestCase(
        name: "extension method", raw: "PROPFIND /dav HTTP/1.1\r\nHost: h\r\n\r\n", method: "PROPFIND", path: "/dav"),
    ValidRequestCase(
        name: "leading empty lines are skipped", raw: "\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
    ValidRequestCase(
        name: "bare LF line endings", raw: "GET / HTTP/1.1\nHost: h\nX: y\n\n", headers: [("Host", "h"), ("X", "y")]),
    ValidRequestCase(
        name: "header values are trimmed of OWS",
        raw: "GET / HTTP/1.1\r\nHost:h\r\nX-Pad: \t  spaced  value \t\r\nX-Empty:\r\nX-Blank: \t \r\n\r\n",
        headers: [("Host", "h"), ("X-Pad", "spaced  value"), ("X-Empty", ""), ("X-Blank", "")]),
    ValidRequestCase(
        name: "identical duplicate Content-Length",
        raw: "POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc", method: "POST",
        path: "/d", headers: [("Host", "h"), ("Content-Length", "3"), ("content-length", "3")], body: "abc",
        contentLength: 3),
    ValidRequestCase(
        name: "Content-Length list of identical values",
        raw: "POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 3 , 3\r\n\r\nabc", method: "POST", path: "/d",
        headers: [("Host", "h"), ("Content-Length", "3 , 3")], body: "abc", contentLength: 3),
    ValidRequestCase(
        name: "Expect 100-continue",
        raw: "POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok", method: "POST",
        path: "/u", headers: [("Host", "h"), ("Expect", "100-Continue"), ("Content-Length", "2")], body: "ok",
        expectsContinue: true, contentLength: 2),
    ValidRequestCase(
        name: "Expect 100-continue is ignored in HTTP/1.0",
        raw: "POST /u HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", method: "POST", path: "/u",
        versionMinor: 0, headers: [("Expect", "100-continue"), ("Content-Length", "2")], body: "ok",
        keepAlive: false, contentLength: 2),
    ValidRequestCase(
        name: "UTF-8 (obs-text) in a header value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\u{E9}\r\n\r\n",
        headers: [("Host", "h"), ("X-Name", "caf\u{E9}")]),
]

@Test(arguments: validRequests)
func parsesValidRequest(_ testCase: ValidRequestCase) throws {
    var parser = HTTPRequestParser()
    parser.append(bytes(testCase.raw))
    var events: [HTTPParseEvent] = []
    while let event = parser.next() { events.append(event) }
    events = coalesced(events)

    guard case .head(let head)? = events.first else {
        Issue.record("expected a head, got \(events)")
        return
    }
    #expect(head.method == testCase.method)
    #expect(head.target == (testCase.target ?? testCase.path))
    #expect(head.path == testCase.path)
    #expect(head.query == testCase.query)
    #expect(head.versionMinor == testCase.versionMinor)
    #expect(head.headers == HTTPHeaders(testCase.headers))
    #expect(head.keepAlive == testCase.keepAlive)
    #expect(head.expectsContinue == testCase.expectsContinue)
    #expect(head.contentLength == testCase.contentLength)
    #expect(head.isChunked == testCase.isChunked)

    let expectedTail: [HTTPParseEvent] = testCase.body.isEmpty ? [.end] : [.body(bytes(testCase.body)), .end]
    #expect(Array(events.dropFirst()) == expectedTail)
    #expect(parser.isIdle)
    #expect(!parser.isMidRequest)
    #expect(parser.bufferedByteCount == 0)
}

@Test(arguments: validRequests, [1, 2, 3, 7])
func splitFeedingMatchesWholeFeeding(_ testCase: ValidRequestCase, pieceSize: Int) {
    let whole = coalesced(parse(testCase.raw))
    let split = coalesced(parse(testCase.raw, pieceSize: pieceSize))
    #expect(split == whole)
    #expect(whole.last == .end)
}

// MARK: - Broken requests

struct BrokenRequestCase: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var status: Int
    var limits = HTTPRequestParser.Limits()

    var testDescription: String { "\(name) -> \(status)" }
}

/// A GET with `fields` (each ending in CRLF) after the request line and a Host field.
private func get(_ fields: String = "", line: String = "GET / HTTP/1.1") -> String {
    "\(line)\r\nHost: h\r\n\(fields)\r\n"
}

/// A chunked POST whose body is `body`.
private func chunked(_ body: String) -> String {
    "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(body)"
}

private let brokenRequests: [BrokenRequestCase] = [
    // Request line.
    BrokenRequestCase(name: "invalid character in method", raw: get(line: "GE(T / HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "empty method", raw: get(line: " / HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "two spaces after method", raw: get(line: "GET  / HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "tab as separator", raw: get(line: "GET\t/ HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "space after version", raw: get(line: "GET / HTTP/1.1 "), status: 400),
    BrokenRequestCase(name: "missing version", raw: get(line: "GET /"), status: 400),
    BrokenRequestCase(name: "lowercase protocol name", raw: get(line: "GET / http/1.1"), status: 400),
    BrokenRequestCase(name: "version without minor", raw: get(line: "GET / HTTP/1"), status: 400),
    BrokenRequestCase(name: "version with two-digit minor", raw: get(line: "GET / HTTP/1.10"), status: 400),
    BrokenRequestCase(name: "space inside target", raw: get(line: "GET /a b HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "control character in target", raw: get(line: "GET /a\u{01}b HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "NUL in target", raw: get(line: "GET /a\u{00}b HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "DEL in target", raw: get(line: "GET /a\u{7F} HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "raw UTF-8 in target", raw: get(line: "GET /caf\u{E9} HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "relative target", raw: get(line: "GET index.html HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "asterisk target with GET", raw: get(line: "GET * HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "authority-form target", raw: get(line: "CONNECT example.com:443 HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "absolute-form without host", raw: get(line: "GET http:///a HTTP/1.1"), status: 400),
    BrokenRequestCase(name: "unsupported scheme", raw: get(line: "GET ftp://example.com/a HTTP/1.1"), status: 400),
    // Line endings.
    BrokenRequestCase(name: "bare CR ends request line", raw: "GET / HTTP/1.1\rHost: h\r\n\r\n", status: 400),
    BrokenRequestCase(name: "bare CR ends header line", raw: "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", status: 400),
    BrokenRequestCase(name: "CR CR LF", raw: "GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", status: 400),
    BrokenRequestCase(name: "bare CR before request line", raw: "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
    BrokenRequestCase(name: "bare CR ends head", raw: "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n", status: 400),
    // Header syntax.
    BrokenRequestCase(name: "whitespace before colon", raw: get("X-A : 1\r\n"), status: 400),
    BrokenRequestCase(name: "empty field name", raw: get(": value\r\n"), status: 400),
    BrokenRequestCase(name: "field without colon", raw: get("X-A 1\r\n"), status: 400),
    BrokenRequestCase(name: "invalid character in field name", raw: get("X@Y: 1\r\n"), status: 400),
    BrokenRequestCase(name: "obs-fold continuation line", raw: get("X-A: a\r\n b\r\n"), status: 400),
    BrokenRequestCase(name: "obs-fold with tab", raw: get("X-A: a\r\n\tb\r\n"), status: 400),
    BrokenRequestCase(name: "whitespace before first field", raw: "GET / HTTP/1.1\r\n Host: h\r\n\r\n", status: 400),
    BrokenRequestCase(name: "NUL in field value", raw: get("X-A: a\u{00}b\r\n"), status: 400),
    BrokenRequestCase(name: "control character in field value", raw: get("X-A: a\u{1B}b\r\n"), status: 400),
    // Framing.
    BrokenRequestCase(name: "HTTP/1.1 without Host", raw: "GET / HTTP/1.1\r\n\r\n", status: 400),
    BrokenRequestCase(name: "two Host fields", raw: get("Host: other\r\n"), status: 400),
    BrokenRequestCase(
        name: "Content-Length and Transfer-Encoding",
        raw: get("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n", status: 400),
    BrokenRequestCase(
        name: "Transfer-Encoding and Content-Length",
        raw: get("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"), status: 400),
    BrokenRequestCase(
        name: "differing Content-Length fields", raw: get("Content-Length: 5\r\nContent-Length: 6\r\n"), status: 400),
    BrokenRequestCase(name: "differing Content-Length list", raw: get("Content-Length: 5, 6\r\n"), status: 400),
    BrokenRequestCase(name: "Content-Length with letters", raw: get("Content-Length: 5a\r\n"), status: 400),
    BrokenRequestCase(name: "negative Content-Length", raw: get("Content-Length: -1\r\n"), status: 400),
    BrokenRequestCase(name: "Content-Length with plus sign", raw: get("Content-Length: +5\r\n"), status: 400),
    BrokenRequestCase(name: "empty Content-Length", raw: get("Content-Length: \r\n"), status: 400),
    BrokenRequestCase(name: "hex Content-Length", raw: get("Content-Length: 0x10\r\n"), status: 400),
    BrokenRequestCase(name: "Content-Length with trailing comma", raw: get("Content-Length: 5,\r\n"), status: 400),
    BrokenRequestCase(
        name: "overflowing Content-Length", raw: get("Content-Length: 99999999999999999999999\r\n"), status: 400),
    BrokenRequestCase(
        name: "chunked is not the last coding", raw: get("Transfer-Encoding: chunked, gzip\r\n"), status: 400),
    BrokenRequestCase(name: "chunked applied twice", raw: get("Transfer-Encoding: chunked, chunked\r\n"), status: 400),
    BrokenRequestCase(
        name: "chunked twice across fields",
        raw: get("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), status: 400),
    BrokenRequestCase(name: "empty Transfer-Encoding", raw: get("Transfer-Encoding: \r\n"), status: 400),
    BrokenRequestCase(
        name: "Transfer-Encoding in HTTP/1.0",
        raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
    // Chunked body.
    BrokenRequestCase(name: "invalid chunk size", raw: chunked("zz\r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "empty chunk size", raw: chunked("\r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "overflowing chunk size", raw: chunked("FFFFFFFFFFFFFFFFFF\r\n"), status: 400),
    BrokenRequestCase(name: "chunk size with 0x prefix", raw: chunked("0x5\r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "negative chunk size", raw: chunked("-5\r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "space after chunk size", raw: chunked("5 \r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "junk after chunk size", raw: chunked("5x\r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(
        name: "control character in chunk extension", raw: chunked("5;a=\u{01}\r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "bare CR in chunk extension", raw: chunked("5;a\rb\r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "chunk size line ends in bare LF", raw: chunked("5\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "chunk data not followed by CRLF", raw: chunked("5\r\nhelloX\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "chunk data followed by bare LF", raw: chunked("5\r\nhello\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "chunk data longer than declared", raw: chunked("3\r\nhello\r\n0\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "obs-fold in trailer section", raw: chunked("0\r\nX-T: a\r\n b\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "invalid trailer field name", raw: chunked("0\r\nBad Name: a\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "NUL in trailer value", raw: chunked("0\r\nX-T: a\u{00}\r\n\r\n"), status: 400),
    BrokenRequestCase(name: "trailer line ends in bare LF", raw: chunked("0\r\nX-T: a\n\r\n"), status: 400),
    BrokenRequestCase(name: "last chunk ends in bare LF", raw: chunked("0\r\n\n"), status: 400),
    // Transfer codings we do not implement.
    BrokenRequestCase(name: "gzip coding", raw: get("Transfer-Encoding: gzip\r\n"), status: 501),
    BrokenRequestCase(name: "gzip then chunked", raw: get("Transfer-Encoding: gzip, chunked\r\n"), status: 501),
    BrokenRequestCase(
        name: "gzip then chunked across fields",
        raw: get("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), status: 501),
    BrokenRequestCase(name: "identity coding", raw: get("Transfer-Encoding: identity\r\n"), status: 501),
    // Versions.
    BrokenRequestCase(name: "HTTP/2.0", raw: get(line: "GET / HTTP/2.0"), status: 505),
    BrokenRequestCase(name: "HTTP/0.9", raw: get(line: "GET / HTTP/0.9"), status: 505),
    BrokenRequestCase(name: "HTTP/1.2", raw: get(line: "GET / HTTP/1.2"), status: 505),
    BrokenRequestCase(name: "HTTP/3.0", raw: get(line: "GET / HTTP/3.0"), status: 505),
    // Limits, made small so the cases stay readable.
    BrokenRequestCase(
        name: "request line over the limit", raw: get(line: "GET /0123456789 HTTP/1.1"), status: 431,
        limits: HTTPRequestParser.Limits(maxRequestLineBytes: 20)),
    BrokenRequestCase(
        name: "unterminated request line over the limit", raw: "GET /0123456789012345678901234567890123456789",
        status: 431, limits: HTTPRequestParser.Limits(maxRequestLineBytes: 20)),
    BrokenRequestCase(
        name: "head over the limit", raw: get("X-Long: \(String(repeating: "v", count: 64))\r\n"), status: 431,
        limits: HTTPRequestParser.Limits(maxHeaderBytes: 64)),
    BrokenRequestCase(
        name: "unterminated head over the limit", raw: "GET / HTTP/1.1\r\nX-Long: \(String(repeating: "v", count: 64))",
        status: 431, limits: HTTPRequestParser.Limits(maxHeaderBytes: 64)),
    BrokenRequestCase(
        name: "too many header fields", raw: get("A: 1\r\nB: 2\r\n"), status: 431,
        limits: HTTPRequestParser.Limits(maxHeaderCount: 2)),
    BrokenRequestCase(
        name: "too many trailer fields", raw: chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), status: 431,
        limits: HTTPRequestParser.Limits(maxHeaderCount: 2)),
    BrokenRequestCase(
        name: "trailer section over the limit", raw: chunked("0\r\nX-T: \(String(repeating: "t", count: 80))\r\n\r\n"),
        status: 431, limits: HTTPRequestParser.Limits(maxHeaderBytes: 80)),
    BrokenRequestCase(
        name: "Content-Length over the limit", raw: get("Content-Length: 5\r\n") + "hello", status: 413,
        limits: HTTPRequestParser.Limits(maxBodyBytes: 4)),
    BrokenRequestCase(
        name: "chunked body over the limit", raw: chunked("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"), status: 413,
        limits: HTTPRequestParser.Limits(maxBodyBytes: 5)),
]

@Test(arguments: brokenRequests, [nil, 1, 5])
func rejectsBrokenRequest(_ testCase: BrokenRequestCase, pieceSize: Int?) {
    let events = parse(testCase.raw, pieceSize: pieceSize, limits: testCase.limits)
    guard case .failure(let error)? = events.last else {
        Issue.record("expected a failure, got \(events)")
        return
    }
    #expect(error.status == testCase.status, "\(error.reason)")
}

@Test func failureIsPermanent() {
    var parser = HTTPRequestParser()
    parser.append(bytes("GET / HTTP/2.0\r\nHost: h\r\n\r\n"))
    let first = parser.next()
    #expect(first == .failure(.versionNotSupported))
    parser.append(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
    #expect(parser.next() == first)
    #expect(parser.next() == first)
    #expect(!parser.isIdle)
    #expect(!parser.isMidRequest)
    #expect(parser.bufferedByteCount == 0)
}

@Test func contentLengthOverLimitFailsBeforeAnyBodyArrives() {
    var parser = HTTPRequestParser(limits: HTTPRequestParser.Limits(maxBodyBytes: 1024))
    parser.append(bytes("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n"))
    #expect(parser.next() == .failure(.payloadTooLarge))
}

@Test func bodyExactlyAtLimitIsAccepted() {
    let limits = HTTPRequestParser.Limits(maxBodyBytes: 6)
    let fixed = coalesced(parse(get("Content-Length: 6\r\n") + "abcdef", limits: limits))
    #expect(Array(fixed.dropFirst()) == [.body(bytes("abcdef")), .end])
    let chunkedEvents = coalesced(parse(chunked("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"), limits: limits))
    #expect(Array(chunkedEvents.dropFirst()) == [.body(bytes("abcdef")), .end])
}

@Test func chunkedBodyOverLimitFailsAtTheOffendingChunk() {
    let events = parse(
        chunked("6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n"), limits: HTTPRequestParser.Limits(maxBodyBytes: 10))
    #expect(events.count == 3)
    #expect(events.dropFirst().first == .body(bytes("abcdef")))
    #expect(events.last == .failure(.payloadTooLarge))
}
