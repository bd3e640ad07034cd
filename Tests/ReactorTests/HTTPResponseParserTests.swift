import Testing
@testable import Reactor

@Suite struct HTTPResponseParserTests {
    private func parse(_ text: String, maxBody: Int = 1 << 20, bodyless: Bool = false, closeAtEnd: Bool = false)
        -> HTTPResponseParser.Outcome?
    {
        var parser = HTTPResponseParser(maxBodyBytes: maxBody, bodyless: bodyless)
        var outcome: HTTPResponseParser.Outcome?
        // Byte at a time, the worst case for framing.
        for byte in Array(text.utf8) where outcome == nil {
            outcome = [byte].withUnsafeBytes { parser.append($0) }
        }
        if outcome == nil, closeAtEnd { outcome = parser.finishAtEndOfStream() }
        return outcome
    }

    private func body(_ outcome: HTTPResponseParser.Outcome?) -> String? {
        guard case .complete(_, let bytes)? = outcome else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func contentLengthBody() {
        let outcome = parse("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhello")
        guard case .complete(let head, _)? = outcome else {
            Issue.record("no response")
            return
        }
        #expect(head.status == 201 && head.keepAlive)
        #expect(head.headers["x-a"] == "b")
        #expect(body(outcome) == "hello")
    }

    @Test func chunkedBodyWithTrailers() {
        let outcome = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nT: v\r\n\r\n")
        #expect(body(outcome) == "wikipedia")
    }

    @Test func bodyUntilCloseEndsAtEndOfStreamAndIsNotReused() {
        let outcome = parse("HTTP/1.1 200 OK\r\n\r\nstream until close", closeAtEnd: true)
        guard case .complete(let head, _)? = outcome else {
            Issue.record("no response")
            return
        }
        #expect(!head.keepAlive)
        #expect(body(outcome) == "stream until close")
    }

    @Test func interimResponsesAreSkipped() {
        let outcome = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        guard case .complete(let head, let bytes)? = outcome else {
            Issue.record("no response")
            return
        }
        #expect(head.status == 204 && !head.keepAlive && bytes.isEmpty)
    }

    @Test func headResponsesHaveNoBodyDespiteTheirLength() {
        #expect(body(parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", bodyless: true)) == "")
    }

    @Test(arguments: [
        "HTTX/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n",
    ])
    func brokenResponsesFail(text: String) {
        guard case .failure? = parse(text, maxBody: 1000) else {
            Issue.record("accepted: \(text)")
            return
        }
    }

    @Test func truncatedResponsesFailAtEndOfStream() {
        guard case .failure? = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", closeAtEnd: true) else {
            Issue.record("accepted a truncated body")
            return
        }
    }
}
