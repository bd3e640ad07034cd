import Foundation

/// The HTTP/1.1 upgrade that opens a WebSocket (RFC 6455 section 4).
package enum WebSocketHandshake {
    private static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64.
    package static func makeKey() throws -> String {
        Data(try Crypto.randomBytes(16)).base64EncodedString()
    }

    /// The `Sec-WebSocket-Accept` a server returns for `key`.
    package static func accept(for key: String) -> String {
        Data(Crypto.sha1(Array((key + acceptGUID).utf8))).base64EncodedString()
    }

    /// The client's upgrade request for `target` on `host`.
    package static func request(target: String, host: String, key: String, extraHeaders: HTTPHeaders = HTTPHeaders()) -> [UInt8] {
        var text = "GET \(target) HTTP/1.1\r\nhost: \(host)\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        text += "sec-websocket-key: \(key)\r\nsec-websocket-version: 13\r\n"
        for (name, value) in extraHeaders where !(name + value).utf8.contains(where: { $0 == 13 || $0 == 10 }) {
            text += "\(name): \(value)\r\n"
        }
        return Array((text + "\r\n").utf8)
    }

    /// Whether a server request asks for a WebSocket; returns its key when it does properly.
    package static func clientKey(of head: HTTPRequestHead) -> String? {
        guard head.method == "GET", head.versionMinor == 1,
            head.headers["upgrade"]?.lowercased() == "websocket",
            head.headers.values("connection").joined(separator: ",").lowercased().contains("upgrade"),
            head.headers["sec-websocket-version"] == "13",
            let key = head.headers["sec-websocket-key"], Data(base64Encoded: key)?.count == 16
        else { return nil }
        return key
    }

    /// The server's `101 Switching Protocols` headers for `key`.
    package static func switchingProtocolsHeaders(key: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add("upgrade", "websocket")
        headers.add("connection", "Upgrade")
        headers.add("sec-websocket-accept", accept(for: key))
        return headers
    }
}
