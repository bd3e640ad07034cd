import Foundation
import Engines
import Reactor

/// OpenWA's API-key guard: key transport, verdicts (401), scopes and roles (403).
package struct AuthGuard: Sendable {
    package let keys: ApiKeyService

    package init(keys: ApiKeyService) {
        self.keys = keys
    }

    /// The presented key: `X-API-Key` wins over `Authorization: Bearer`. Query keys are never read.
    package static func presentedKey(_ headers: HTTPHeaders) -> String? {
        if let header = headers["x-api-key"] {
            let key = trimmingBlanks(Substring(header))
            if !key.isEmpty { return String(key) }
        }
        guard let authorization = headers["authorization"] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let key = trimmingBlanks(parts[1])
        return key.isEmpty ? nil : String(key)
    }

    /// Strips spaces and tabs at both ends (every request pays this, so no Foundation bridging).
    private static func trimmingBlanks(_ text: Substring) -> Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return text[first...last]
    }

    /// Applies `access` to an authenticated key: IP scope, chat restriction, session scope,
    /// unscoped requirement, then role — the order OpenWA checks them in.
    package static func authorize(
        _ key: ApiKey, access: RouteAccess, clientIP: String, parameters: [String: String]
    ) throws(APIError) {
        guard case .key(let minimum, let unscoped, let sessionParameter, let chatScoped) = access else { return }
        try checkIP(key, clientIP: clientIP)
        if !(key.allowedChats ?? []).isEmpty, !chatScoped {
            throw .forbidden("API key is restricted to selected chats")
        }
        if let sessionParameter, let session = parameters[sessionParameter], let allowed = key.allowedSessions,
            !allowed.isEmpty, !allowed.contains(session)
        {
            throw .forbidden("API key not authorized for this session")
        }
        if unscoped, !(key.allowedSessions ?? []).isEmpty {
            throw .forbidden("Session-scoped API keys are not permitted on this route")
        }
        if key.role < minimum {
            throw .forbidden("Insufficient permissions. Required: \(minimum.rawValue)")
        }
    }

    /// `allowedIps` is fail-closed: an address that cannot be parsed matches nothing.
    package static func checkIP(_ key: ApiKey, clientIP: String) throws(APIError) {
        guard let allowed = key.allowedIps, !allowed.isEmpty else { return }
        let ranges = allowed.compactMap(IPv4Range.init)
        guard ranges.contains(where: { $0.contains(clientIP) }) else {
            throw .forbidden("API key not authorized for this IP address")
        }
    }
}
