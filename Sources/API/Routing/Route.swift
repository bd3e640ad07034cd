import Reactor
import Engines

/// Who may call a route (OpenWA's guard, reference section 1.2).
package enum RouteAccess: Sendable {
    /// No key needed.
    case open
    /// No key needed, but a presented valid key is authenticated (health shows `version`).
    case openWithOptionalKey
    /// A valid key with at least `minimum` role. `unscoped` routes refuse session-scoped keys;
    /// `sessionParameter` names the path parameter checked against `allowedSessions`;
    /// `chatScoped` routes admit chat-restricted keys (all others refuse them).
    case key(minimum: ApiKeyRole, unscoped: Bool = false, sessionParameter: String? = nil, chatScoped: Bool = false)
}

/// How a route produces its response: directly on the reactor thread, or as a task that may
/// await stores and engines (it runs on the reactor's executor too).
package enum RouteHandler: Sendable {
    case immediate(@Sendable (APIContext) throws -> APIResponse)
    case task(@Sendable (APIContext) async throws -> APIResponse)
}

/// One method + path pattern (segments; `:name` captures one segment).
package struct Route: Sendable {
    package let method: String
    /// The path pattern as written (`/api/sessions/:id`): the route's name in rate-limit keys
    /// and metrics labels.
    package let pattern: String
    package let segments: [Substring]
    package let access: RouteAccess
    package let handler: RouteHandler
    /// The route takes file uploads: a `multipart/form-data` body is parsed by the HTTP server as
    /// it arrives and its large parts spooled to disk (`HTTPRequest.form`) instead of collected.
    package let takesUploads: Bool

    package init(_ method: String, _ pattern: String, access: RouteAccess, takesUploads: Bool = false, handler: RouteHandler) {
        self.method = method
        self.takesUploads = takesUploads
        self.pattern = pattern
        self.segments = pattern.split(separator: "/", omittingEmptySubsequences: true)
        self.access = access
        self.handler = handler
    }

    /// The captured parameters when `path` matches this pattern.
    func match(_ pathSegments: [Substring]) -> [String: String]? {
        guard pathSegments.count == segments.count else { return nil }
        // Literals first: most candidates fail on one, before anything is decoded or allocated.
        for (pattern, actual) in zip(segments, pathSegments) where pattern.first != ":" && pattern != actual {
            return nil
        }
        var parameters: [String: String] = [:]
        for (pattern, actual) in zip(segments, pathSegments) where pattern.first == ":" {
            guard let decoded = String(actual).removingPercentEncodingStrict(), !decoded.isEmpty else { return nil }
            parameters[String(pattern.dropFirst())] = decoded
        }
        return parameters
    }
}

extension String {
    /// Percent-decoding that rejects malformed escapes and NUL (OpenWA refuses `%00`).
    func removingPercentEncodingStrict() -> String? {
        if !utf8.contains(UInt8(ascii: "%")) { return self }
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                    return nil
                }
                let decoded = high << 4 | low
                if decoded == 0 { return nil }
                bytes.append(decoded)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
