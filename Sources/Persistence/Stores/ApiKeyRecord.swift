import Foundation

/// One API key as stored: the key itself is never kept, only its SHA-256 (`keyHash`) and the
/// first characters shown to operators (`keyPrefix`).
package struct ApiKeyRecord: Sendable, Equatable {
    /// The role that may manage keys; the last usable one is protected from removal.
    package static let adminRole = "admin"

    /// A UUID string.
    package var id: String
    /// An operator-chosen label (3 to 100 characters, checked by the API layer).
    package var name: String
    /// Lower-case hex SHA-256 of the plaintext key; unique.
    package var keyHash: String
    /// The key's first 12 characters, for recognising a key without revealing it.
    package var keyPrefix: String
    /// "admin", "operator" or "viewer".
    package var role: String
    /// Client IPs or CIDRs the key may be used from; nil means any.
    package var allowedIps: [String]?
    /// Session ids or names the key may touch; nil means all.
    package var allowedSessions: [String]?
    /// Chat ids the key may touch; nil means all.
    package var allowedChats: [String]?
    /// False once revoked.
    package var isActive: Bool
    /// When the key stops working; nil means never.
    package var expiresAt: Date?
    /// When the key last authenticated a request; nil means never.
    package var lastUsedAt: Date?
    /// How many requests the key has authenticated.
    package var usageCount: Int
    /// When the key was created; `list()` orders by it.
    package var createdAt: Date
    /// When the key was last edited (usage does not count as an edit).
    package var updatedAt: Date

    /// Creates a record; defaults match a freshly created operator key.
    package init(
        id: String, name: String, keyHash: String, keyPrefix: String, role: String = "operator",
        allowedIps: [String]? = nil, allowedSessions: [String]? = nil, allowedChats: [String]? = nil,
        isActive: Bool = true, expiresAt: Date? = nil, lastUsedAt: Date? = nil, usageCount: Int = 0,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.keyHash = keyHash
        self.keyPrefix = keyPrefix
        self.role = role
        self.allowedIps = allowedIps
        self.allowedSessions = allowedSessions
        self.allowedChats = allowedChats
        self.isActive = isActive
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.usageCount = usageCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// True when the key has an expiry at or before `now`.
    package func isExpired(at now: Date) -> Bool {
        expiresAt.map { $0 <= now } ?? false
    }

    /// True for a key that can administer everything from anywhere at `now`: an active,
    /// unexpired admin key with no IP, session or chat restriction. As long as one exists, an
    /// operator cannot lock themselves out of key management.
    package func isUsableUnrestrictedAdmin(at now: Date) -> Bool {
        role == Self.adminRole && isActive && !isExpired(at: now)
            && (allowedIps ?? []).isEmpty && (allowedSessions ?? []).isEmpty && (allowedChats ?? []).isEmpty
    }
}

// MARK: - Row mapping

extension ApiKeyRecord {
    /// The columns in the order `columnValues` binds them; `id` first so an UPDATE can bind the
    /// same array with `id` as `$1`.
    static let columnList = """
        "id", "name", "keyHash", "keyPrefix", "role", "allowedIps", "allowedSessions", "allowedChats", \
        "isActive", "expiresAt", "lastUsedAt", "usageCount", "createdAt", "updatedAt"
        """

    /// The record's values in `columnList` order.
    var columnValues: [SQLValue] {
        [
            .text(id), .text(name), .text(keyHash), .text(keyPrefix), .text(role),
            StoredList.encode(allowedIps), StoredList.encode(allowedSessions), StoredList.encode(allowedChats),
            SQLValue(isActive), SQLValue(expiresAt), SQLValue(lastUsedAt), .integer(Int64(usageCount)),
            SQLValue(createdAt), SQLValue(updatedAt),
        ]
    }

    /// Decodes a row selected with `columnList`.
    init(row: SQLRow) throws {
        self.init(
            id: try row.requiredString("id"),
            name: try row.requiredString("name"),
            keyHash: try row.requiredString("keyHash"),
            keyPrefix: try row.requiredString("keyPrefix"),
            role: try row.requiredString("role"),
            allowedIps: StoredList.decode(row.string("allowedIps")),
            allowedSessions: StoredList.decode(row.string("allowedSessions")),
            allowedChats: StoredList.decode(row.string("allowedChats")),
            isActive: try row.requiredBool("isActive"),
            expiresAt: try row.optionalDate("expiresAt"),
            lastUsedAt: try row.optionalDate("lastUsedAt"),
            usageCount: try row.requiredInt("usageCount"),
            createdAt: try row.requiredDate("createdAt"),
            updatedAt: try row.requiredDate("updatedAt"))
    }
}

/// The stored form of the key scope lists: comma-joined text, NULL meaning "unrestricted".
///
/// An empty list is stored as empty text and reads back as an empty list, so a record survives a
/// round trip unchanged; the API layer refuses list items containing commas.
enum StoredList {
    static func encode(_ list: [String]?) -> SQLValue {
        list.map { .text($0.joined(separator: ",")) } ?? .null
    }

    static func decode(_ text: String?) -> [String]? {
        text.map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
    }
}
