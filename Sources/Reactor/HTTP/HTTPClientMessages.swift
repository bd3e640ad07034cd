/// An outbound request: where to, and what to send.
package struct HTTPClientRequest: Sendable {
    package var method: String
    package var host: String
    package var port: Int
    /// The request target: path and query, starting with `/`.
    package var target: String
    package var headers: HTTPHeaders
    package var body: [UInt8]
    /// Sent over TLS (an `https` URL).
    package var isSecure: Bool
    /// A numeric address to connect to instead of resolving `host` (which still names the
    /// `Host` header, SNI and the certificate check): the address a caller has already vetted,
    /// so that a second DNS answer cannot send the request elsewhere.
    package var connectAddress: String?
    /// A body sent from a file in chunks instead of `body` (which should then be empty).
    package var bodyFile: HTTPBodyFile?
    /// Where the response body goes instead of into memory: a file created (or emptied) at this
    /// path, written in chunks as the body arrives, under the same byte cap. It belongs to the
    /// caller once a response is returned; on any failure it has been removed.
    package var responseBodyPath: String?

    package init(
        method: String, host: String, port: Int, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        isSecure: Bool = false
    ) {
        self.isSecure = isSecure
        self.method = method
        self.host = host
        self.port = port
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// A request for an `http://` or `https://host[:port]/path?query` URL; nil for anything else.
    package init?(method: String, url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        let secure = url.hasPrefix("https://")
        guard secure || url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(secure ? 8 : 7)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.first == "?" { target = "/" + target }
        var host = Substring(authority)
        var port = secure ? 443 : 80
        if host.first == "[" {  // [IPv6]:port
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.first == ":" { guard let parsed = Int(after.dropFirst()) else { return nil }; port = parsed }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            guard let parsed = Int(host[host.index(after: colon)...]) else { return nil }
            port = parsed
            host = host[..<colon]
        }
        guard !host.isEmpty, (1...65535).contains(port), !host.contains("@") else { return nil }
        self.init(
            method: method, host: String(host), port: port, target: target, headers: headers, body: body, isSecure: secure)
    }

    /// The `Host` header value.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// The bytes on the wire; only the head when the body comes from `bodyFile`.
    func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        func line(_ name: String, _ value: String) {
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: method.utf8)
        out.append(0x20)
        out.append(contentsOf: target.utf8)
        out.append(contentsOf: " HTTP/1.1\r\n".utf8)
        if !headers.contains("host") { line("host", hostHeader) }
        for (name, value) in headers where !HTTPClientRequest.unsafeHeader(name, value) { line(name, value) }
        let length = bodyFile?.length ?? body.count
        if !headers.contains("content-length"), length > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
            line("content-length", String(length))
        }
        out.append(contentsOf: "\r\n".utf8)
        if bodyFile == nil { out.append(contentsOf: body) }
        return out
    }

    /// A header whose name or value would split the request (CR, LF, NUL) is never written.
    private static func unsafeHeader(_ name: String, _ value: String) -> Bool {
        func unsafe(_ byte: UInt8) -> Bool { byte == 13 || byte == 10 || byte == 0 }
        return name.utf8.contains(where: unsafe) || value.utf8.contains(where: unsafe)
    }
}

/// A complete response. With `responseBodyPath` the body is in that file (`bodyLength` bytes)
/// and `body` is empty.
package struct HTTPClientResponse: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: [UInt8]
    package var bodyLength: Int

    init(status: Int, headers: HTTPHeaders, body: [UInt8], bodyLength: Int? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyLength = bodyLength ?? body.count
    }
}
