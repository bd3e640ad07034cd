/// The status line and header fields of a response, before serialization.
package struct HTTPResponseHead: Sendable, Equatable {
    /// The status code; the reason phrase is derived from it.
    package var status: Int
    package var headers: HTTPHeaders

    /// A response head; `headers` are written in order, exactly as given.
    package init(status: Int = 200, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.headers = headers
    }
}

/// Standard reason phrases (RFC 9110 §15). Clients ignore them in status lines, but the API also
/// puts them in JSON error bodies (`"error": "Not Found"`), where clients do compare them.
package enum HTTPStatusText {
    /// The phrase for `status`, or "Unknown" for codes without a registered one here.
    package static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        // RFC 9110 renamed 413 and 422 ("Content Too Large", "Unprocessable Content"); the RFC
        // 7231 names are kept because NestJS-style error bodies, which clients match, use them.
        case 413: "Payload Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Entity"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Unknown"
        }
    }
}

/// Writes HTTP/1.1 response heads as bytes, appending to a caller-owned buffer so a connection
/// can reuse one output buffer for head and body without intermediate strings.
package enum HTTPResponseSerializer {
    /// The interim response sent when a client asked for `Expect: 100-continue`.
    package static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Appends `HTTP/1.1 <status> <reason>`, the headers in order, a `content-length` when
    /// `bodyLength` is given and the head has neither Content-Length nor Transfer-Encoding and the
    /// status allows a body, then the empty line.
    ///
    /// CR, LF and NUL inside header names or values are written as spaces: a value built from
    /// user input must never be able to start a new header line (response splitting).
    package static func serialize(_ head: HTTPResponseHead, bodyLength: Int?, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(head.status, to: &buffer)
        buffer.append(HTTPSyntax.space)
        buffer.append(contentsOf: HTTPStatusText.reason(head.status).utf8)
        appendLineEnd(to: &buffer)
        var hasFraming = false
        for field in head.headers {
            appendSanitized(field.name, to: &buffer)
            buffer.append(HTTPSyntax.colon)
            buffer.append(HTTPSyntax.space)
            appendSanitized(field.value, to: &buffer)
            appendLineEnd(to: &buffer)
            if !hasFraming {
                hasFraming =
                    HTTPSyntax.namesEqual(field.name, "content-length")
                    || HTTPSyntax.namesEqual(field.name, "transfer-encoding")
            }
        }
        if let bodyLength, !hasFraming, statusAllowsBody(head.status) {
            buffer.append(contentsOf: "content-length: ".utf8)
            appendDecimal(bodyLength, to: &buffer)
            appendLineEnd(to: &buffer)
        }
        appendLineEnd(to: &buffer)
    }

    /// 1xx, 204 and 304 never carry a body (RFC 9110 §6.4.1), so they get no Content-Length.
    private static func statusAllowsBody(_ status: Int) -> Bool {
        !(100...199).contains(status) && status != 204 && status != 304
    }

    private static func appendLineEnd(to buffer: inout [UInt8]) {
        buffer.append(HTTPSyntax.cr)
        buffer.append(HTTPSyntax.lf)
    }

    /// Bulk-copies the string, then patches the rare forbidden bytes in place.
    private static func appendSanitized(_ text: String, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: text.utf8)
        for index in start..<buffer.count {
            let byte = buffer[index]
            if byte == HTTPSyntax.cr || byte == HTTPSyntax.lf || byte == 0 { buffer[index] = HTTPSyntax.space }
        }
    }

    /// Writes a non-negative decimal without going through `String` (negative values write 0).
    private static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        var remaining = max(0, value)
        var divisor = 1
        while divisor <= remaining / 10 { divisor *= 10 }
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(remaining / divisor))
            remaining %= divisor
            divisor /= 10
        } while divisor > 0
    }
}
