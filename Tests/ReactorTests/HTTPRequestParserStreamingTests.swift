import Reactor
import Testing

/// Pipelining, partial delivery, the default limits and the parser's connection-state queries.
@Suite struct HTTPRequestParserStreamingTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Every event currently available.
    private func drain(_ parser: inout HTTPRequestParser) -> [HTTPParseEvent] {
        var events: [HTTPParseEvent] = []
        while let event = parser.next() {
            events.append(event)
            if case .failure = event { break }
        }
        return events
    }

    private func head(_ event: HTTPParseEvent?) -> HTTPRequestHead? {
        if case .head(let head)? = event { return head }
        return nil
    }

    // MARK: - Pipelining

    @Test func threePipelinedRequestsComeOutInOrder() {
        var parser = HTTPRequestParser()
        parser.append(
            bytes(
                "GET /first HTTP/1.1\r\nHost: h\r\n\r\n"
                    + "POST /second HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                    + "PUT /third HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
        let events = drain(&parser)
        #expect(events.count == 8)
        guard events.count == 8 else { return }
        #expect(head(events[0])?.path == "/first")
        #expect(events[1] == .end)
        #expect(head(events[2])?.method == "POST")
        #expect(head(events[2])?.path == "/second")
        // A Content-Length body never swallows bytes of the next request.
        #expect(events[3] == .body(bytes("hello")))
        #expect(events[4] == .end)
        #expect(head(events[5])?.path == "/third")
        #expect(events[6] == .body(bytes("abc")))
        #expect(events[7] == .end)
        #expect(parser.next() == nil)
        #expect(parser.isIdle)
    }

    @Test func bodySplitAcrossAppendsWithNextRequestInTheLastSegment() {
        var parser = HTTPRequestParser()
        parser.append(bytes("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n012"))
        let first = drain(&parser)
        #expect(first.count == 2)
        #expect(head(first.first)?.contentLength == 10)
        #expect(first.last == .body(bytes("012")))
        #expect(parser.isMidRequest)

        parser.append(bytes("3456"))
        #expect(drain(&parser) == [.body(bytes("3456"))])

        parser.append(bytes("789GET /next HTTP/1.1\r\nHost: h\r\n\r\n"))
        let rest = drain(&parser)
        #expect(rest.count == 4)
        #expect(rest.first == .body(bytes("789")))
        #expect(rest.dropFirst().first == .end)
        #expect(head(rest.dropFirst(2).first)?.path == "/next")
        #expect(rest.last == .end)
        #expect(parser.isIdle)
    }

    @Test func chunkedBodySplitInsideFramingLines() {
        var parser = HTTPRequestParser()
        let pieces = [
            "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0", "A;ext=1\r", "\n01234", "56789\r",
            "\n0\r\nX-T", "railer: 1\r\n\r", "\n",
        ]
        var events: [HTTPParseEvent] = []
        for piece in pieces {
            parser.append(bytes(piece))
            events += drain(&parser)
        }
        #expect(head(events.first)?.isChunked == true)
        let body = events.reduce(into: [UInt8]()) { result, event in
            if case .body(let chunk) = event { result += chunk }
        }
        #expect(body == bytes("0123456789"))
        #expect(events.last == .end)
        #expect(parser.isIdle)
    }

    @Test func emptyLinesBetweenPipelinedRequestsAreSkipped() {
        var parser = HTTPRequestParser()
        parser.append(bytes("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx\r\n"))
        #expect(head(parser.next()) != nil)
        #expect(parser.next() == .body(bytes("x")))
        #expect(parser.next() == .end)
        #expect(parser.bufferedByteCount == 2)
        #expect(!parser.isIdle)
        // Consumed by the next call, which then waits for more.
        #expect(parser.next() == nil)
        #expect(parser.isIdle)
        parser.append(bytes("\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"))
        let events = drain(&parser)
        #expect(head(events.first)?.path == "/b")
        #expect(events.last == .end)
    }

    @Test func largeBodyStreamsWithoutAccumulating() {
        var parser = HTTPRequestParser()
        let total = 1 << 20
        parser.append(bytes("POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: \(total)\r\n\r\n"))
        #expect(head(parser.next()) != nil)
        let piece = [UInt8](repeating: 0x61, count: 4096)
        var received = 0
        var ended = false
        while received < total {
            parser.append(piece)
            for event in drain(&parser) {
                if case .body(let chunk) = event { received += chunk.count }
                if event == .end { ended = true }
            }
            #expect(parser.bufferedByteCount == 0)
        }
        #expect(received == total)
        #expect(ended)
    }

    @Test func appendFromRawBuffer() {
        var parser = HTTPRequestParser()
        let request = bytes("GET /raw HTTP/1.1\r\nHost: h\r\n\r\n")
        request.withUnsafeBytes { parser.append($0) }
        #expect(head(parser.next())?.path == "/raw")
        #expect(parser.next() == .end)
    }

    // MARK: - Default limits

    /// A request line of exactly `length` bytes (CRLF excluded).
    private func requestLine(length: Int) -> String {
        let fixed = "GET / HTTP/1.1".utf8.count
        return "GET /\(String(repeating: "a", count: length - fixed)) HTTP/1.1"
    }

    @Test func requestLineAtTheLimitIsAccepted() {
        var parser = HTTPRequestParser()
        parser.append(bytes(requestLine(length: 8192) + "\r\nHost: h\r\n\r\n"))
        #expect(head(parser.next())?.path.utf8.count == 8192 - "GET  HTTP/1.1".utf8.count)
    }

    @Test(arguments: [true, false])
    func requestLineOverTheLimitIs431(terminated: Bool) {
        var parser = HTTPRequestParser()
        parser.append(bytes(requestLine(length: 8193) + (terminated ? "\r\nHost: h\r\n\r\n" : "")))
        #expect(parser.next() == .failure(.requestHeaderFieldsTooLarge))
    }

    private func request(headerCount: Int) -> String {
        var text = "GET / HTTP/1.1\r\nHost: h\r\n"
        for index in 1..<headerCount { text += "X-Field-\(index): \(index)\r\n" }
        return text + "\r\n"
    }

    @Test func hundredHeadersAreAccepted() {
        var parser = HTTPRequestParser()
        parser.append(bytes(request(headerCount: 100)))
        #expect(head(parser.next())?.headers.count == 100)
    }

    @Test func hundredAndOneHeadersAre431() {
        var parser = HTTPRequestParser()
        parser.append(bytes(request(headerCount: 101)))
        #expect(parser.next() == .failure(.requestHeaderFieldsTooLarge))
    }

    @Test func headOverDefaultLimitIs431() {
        var parser = HTTPRequestParser()
        parser.append(bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(String(repeating: "b", count: 32768))"))
        #expect(parser.next() == .failure(.requestHeaderFieldsTooLarge))
    }

    @Test func defaultLimits() {
        let limits = HTTPRequestParser.Limits()
        #expect(limits.maxRequestLineBytes == 8192)
        #expect(limits.maxHeaderBytes == 32768)
        #expect(limits.maxHeaderCount == 100)
        #expect(limits.maxBodyBytes == 25 * 1024 * 1024)
    }

    // MARK: - Connection state

    @Test func stateQueriesFollowTheRequest() {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle)
        #expect(!parser.isMidRequest)

        parser.append(bytes("POST /s HTTP/1.1\r\nHost: h\r\nContent-"))
        #expect(parser.next() == nil)
        #expect(!parser.isIdle)
        #expect(parser.isMidRequest)
        #expect(parser.bufferedByteCount == 35)

        parser.append(bytes("Length: 2\r\n\r\no"))
        #expect(head(parser.next()) != nil)
        #expect(parser.isMidRequest)
        #expect(parser.next() == .body(bytes("o")))
        #expect(parser.next() == nil)
        #expect(parser.isMidRequest)
        #expect(parser.bufferedByteCount == 0)

        parser.append(bytes("k"))
        #expect(parser.next() == .body(bytes("k")))
        #expect(parser.isMidRequest)  // until `.end` has been returned
        #expect(parser.next() == .end)
        #expect(parser.isIdle)
        #expect(!parser.isMidRequest)
    }

    @Test func headWithoutBodyIsMidRequestUntilEnd() {
        var parser = HTTPRequestParser()
        parser.append(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(head(parser.next()) != nil)
        #expect(parser.isMidRequest)
        #expect(parser.next() == .end)
        #expect(parser.isIdle)
        #expect(parser.next() == nil)
    }
}
