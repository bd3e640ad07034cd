import Foundation

/// Roles in OpenWA's order; a route's minimum role is met by any role at or above it.
package enum ApiKeyRole: String, Sendable, Comparable, CaseIterable {
    case viewer
    case `operator`
    case admin

    private var rank: Int {
        switch self {
        case .viewer: return 1
        case .operator: return 2
        case .admin: return 3
        }
    }

    package static func < (lhs: ApiKeyRole, rhs: ApiKeyRole) -> Bool { lhs.rank < rhs.rank }
}

/// An API key as the domain sees it (never the plaintext; only its hash is stored).
package struct ApiKey: Sendable, Equatable {
    package var id: String
    package var name: String
    package var keyPrefix: String
    package var role: ApiKeyRole
    package var allowedIps: [String]?
    package var allowedSessions: [String]?
    package var allowedChats: [String]?
    package var isActive: Bool
    package var expiresAt: Date?
    package var lastUsedAt: Date?
    package var usageCount: Int
    package var createdAt: Date
    package var updatedAt: Date

    /// True when the key names no session or chat scope (deployment-wide routes need this).
    package var isUnscoped: Bool {
        (allowedSessions ?? []).isEmpty && (allowedChats ?? []).isEmpty
    }

    package func isExpired(at now: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt <= now
    }
}

/// The fields a caller may set when creating or updating a key.
package struct ApiKeyChanges: Sendable {
    package var name: String?
    package var role: ApiKeyRole?
    package var allowedIps: [String]??
    package var allowedSessions: [String]??
    package var allowedChats: [String]??
    /// `.some(nil)` clears the expiry.
    package var expiresAt: Date??

    package init(
        name: String? = nil, role: ApiKeyRole? = nil, allowedIps: [String]?? = nil,
        allowedSessions: [String]?? = nil, allowedChats: [String]?? = nil, expiresAt: Date?? = nil
    ) {
        self.name = name
        self.role = role
        self.allowedIps = allowedIps
        self.allowedSessions = allowedSessions
        self.allowedChats = allowedChats
        self.expiresAt = expiresAt
    }
}

/// Why a presented key was refused (all are 401).
package enum ApiKeyRefusal: Error, Sendable, Equatable {
    case missing
    case unknown
    case revoked
    case expired

    package var message: String {
        switch self {
        case .missing: return "API key is required"
        case .unknown: return "Invalid API key"
        case .revoked: return "API key is revoked"
        case .expired: return "API key has expired"
        }
    }
}
