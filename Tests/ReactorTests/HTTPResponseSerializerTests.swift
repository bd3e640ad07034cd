import Reactor
import Testing

@Suite struct HTTPResponseSerializerTests {
    private func serialize(_ head: HTTPResponseHead, bodyLength: Int?) -> String {
        var buffer: [UInt8] = []
        HTTPResponseSerializer.serialize(head, bodyLength: bodyLength, into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func okWithBodyGetsContentLength() {
        let head = HTTPResponseHead(status: 200, headers: HTTPHeaders([("content-type", "application/json")]))
        #expect(
            serialize(head, bodyLength: 11)
                == "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n")
    }

    @Test func noContentWithoutBody() {
        #expect(serialize(HTTPResponseHead(status: 204), bodyLength: nil) == "HTTP/1.1 204 No Content\r\n\r\n")
        // 204 and 304 never carry a body, so no length even when one is passed.
        #expect(serialize(HTTPResponseHead(status: 204), bodyLength: 0) == "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(serialize(HTTPResponseHead(status: 304), bodyLength: 10) == "HTTP/1.1 304 Not Modified\r\n\r\n")
    }

    @Test func zeroLengthBodyIsDeclared() {
        #expect(
            serialize(HTTPResponseHead(status: 404), bodyLength: 0) == "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
    }

    @Test func existingFramingHeadersAreNotDuplicated() {
        let withLength = HTTPResponseHead(status: 200, headers: HTTPHeaders([("Content-Length", "5")]))
        #expect(serialize(withLength, bodyLength: 5) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        let chunked = HTTPResponseHead(status: 200, headers: HTTPHeaders([("Transfer-Encoding", "chunked")]))
        #expect(serialize(chunked, bodyLength: 5) == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    @Test func headersAreWrittenInOrderWithDuplicates() {
        let head = HTTPResponseHead(
            status: 201, headers: HTTPHeaders([("Set-Cookie", "a=1"), ("Location", "/m/1"), ("Set-Cookie", "b=2")]))
        #expect(
            serialize(head, bodyLength: nil)
                == "HTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nLocation: /m/1\r\nSet-Cookie: b=2\r\n\r\n")
    }

    @Test func lineBreaksInHeadersCannotSplitTheResponse() {
        let head = HTTPResponseHead(status: 302, headers: HTTPHeaders([("Location", "/x\r\nSet-Cookie: evil=1\u{0}")]))
        #expect(
            serialize(head, bodyLength: nil) == "HTTP/1.1 302 Found\r\nLocation: /x  Set-Cookie: evil=1 \r\n\r\n")
    }

    @Test func appendsToExistingBufferContents() {
        var buffer = Array("previous".utf8)
        HTTPResponseSerializer.serialize(HTTPResponseHead(status: 500), bodyLength: 123_456, into: &buffer)
        #expect(
            String(decoding: buffer, as: UTF8.self)
                == "previousHTTP/1.1 500 Internal Server Error\r\ncontent-length: 123456\r\n\r\n")
    }

    @Test func unknownStatus() {
        #expect(
            serialize(HTTPResponseHead(status: 599), bodyLength: 0) == "HTTP/1.1 599 Unknown\r\ncontent-length: 0\r\n\r\n")
    }

    @Test func continueResponse() {
        #expect(HTTPResponseSerializer.continueResponse == Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
    }

    @Test(arguments: [
        (100, "Continue"), (101, "Switching Protocols"), (200, "OK"), (201, "Created"), (202, "Accepted"),
        (204, "No Content"), (206, "Partial Content"), (301, "Moved Permanently"), (302, "Found"),
        (304, "Not Modified"), (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found"),
        (405, "Method Not Allowed"), (408, "Request Timeout"), (409, "Conflict"), (410, "Gone"),
        (411, "Length Required"), (413, "Payload Too Large"), (414, "URI Too Long"),
        (415, "Unsupported Media Type"), (422, "Unprocessable Entity"), (429, "Too Many Requests"),
        (431, "Request Header Fields Too Large"), (500, "Internal Server Error"), (501, "Not Implemented"),
        (502, "Bad Gateway"), (503, "Service Unavailable"), (504, "Gateway Timeout"),
        (505, "HTTP Version Not Supported"), (299, "Unknown"), (0, "Unknown"),
    ])
    func reasonPhrase(status: Int, reason: String) {
        #expect(HTTPStatusText.reason(status) == reason)
    }
}
