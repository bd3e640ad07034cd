/// One step of an incoming request, as produced by `HTTPRequestParser.next()`.
///
/// A request is always `.head`, then zero or more `.body` chunks, then `.end`. A `.failure` ends
/// the connection's parsing for good: the caller answers with `error.status` and closes.
package enum HTTPParseEvent: Sendable, Equatable {
    /// The request line and headers are complete and valid.
    case head(HTTPRequestHead)
    /// Some (never empty) decoded body bytes.
    case body([UInt8])
    /// The request, body included, is complete; the next event belongs to the next request.
    case end
    /// The bytes violate HTTP/1.1 or a configured limit.
    case failure(HTTPParseError)
}

/// Why a request was rejected, with the status code the server should answer with.
///
/// `reason` is a short, developer-facing explanation (safe to log or to send as a plain-text
/// body); equality compares both fields, tests usually only look at `status`.
package struct HTTPParseError: Error, Sendable, Equatable {
    /// The HTTP status code to reply with before closing the connection.
    package let status: Int
    /// What exactly was wrong.
    package let reason: String

    /// An error with an explicit status; prefer the named constructors below.
    package init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// 400: the bytes are not a well-formed HTTP/1.1 request (or are ambiguous about framing).
    package static func malformed(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 400, reason: reason)
    }

    /// 431: the request line, the head or the number of fields exceeds the configured limit.
    package static let requestHeaderFieldsTooLarge = HTTPParseError(
        status: 431, reason: "request line or header section too large")

    /// 413: the declared or decoded body exceeds `maxBodyBytes`.
    package static let payloadTooLarge = HTTPParseError(status: 413, reason: "request body too large")

    /// 501: a transfer coding other than `chunked` was requested.
    package static let notImplemented = HTTPParseError(status: 501, reason: "unsupported transfer coding")

    /// 505: a protocol version other than HTTP/1.0 or HTTP/1.1.
    package static let versionNotSupported = HTTPParseError(status: 505, reason: "HTTP version not supported")
}
