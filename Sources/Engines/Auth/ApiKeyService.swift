import Foundation
import Persistence
import Synchronization

/// API keys: creation, lookup for authentication, guarded updates, and first-boot bootstrap.
///
/// Authentication is on the hot path of every request, so verified keys are cached by hash for
/// a few seconds; a change made through this service updates the cache at once, and a change
/// made by another process (the offline `openwa api-keys` command) is seen within the TTL.
package final class ApiKeyService: Sendable {
    private struct CacheEntry {
        var key: ApiKey
        var loadedAt: Date
    }

    private struct Usage {
        var pending = 0
        var lastFlush = Date.distantPast
        var lastUse = Date.distantPast
    }

    private let store: any ApiKeyStore
    private let pepper: String?
    private let now: @Sendable () -> Date
    private let cacheTTL: TimeInterval
    private let cache = Mutex<[String: CacheEntry]>([:])
    private let usage = Mutex<[String: Usage]>([:])
    /// Where the bootstrap key is written (OpenWA's `data/.api-key`); removed with that key.
    package let bootstrapKeyFile: String?

    package init(
        store: any ApiKeyStore, pepper: String?, bootstrapKeyFile: String?, cacheTTL: TimeInterval = 5,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.pepper = pepper
        self.bootstrapKeyFile = bootstrapKeyFile
        self.cacheTTL = cacheTTL
        self.now = now
    }

    // MARK: - Authentication

    /// The cached verdict for `presented`, or nil when the database must be asked.
    package func authenticateCached(_ presented: String) -> Result<ApiKey, ApiKeyRefusal>? {
        let hash = ApiKeyFormat.hash(presented, pepper: pepper)
        let current = now()
        guard let entry = cache.withLock({ $0[hash] }), current.timeIntervalSince(entry.loadedAt) < cacheTTL else {
            return nil
        }
        return verdict(for: entry.key, at: current)
    }

    /// Looks the key up (cache first) and says whether it may be used now.
    package func authenticate(_ presented: String) async throws -> Result<ApiKey, ApiKeyRefusal> {
        if let cached = authenticateCached(presented) { return cached }
        let hash = ApiKeyFormat.hash(presented, pepper: pepper)
        guard let record = try await guarded({ try await self.store.find(keyHash: hash) }) else {
            return .failure(.unknown)
        }
        let key = ApiKey(record)
        let current = now()
        cache.withLock { $0[hash] = CacheEntry(key: key, loadedAt: current) }
        return verdict(for: key, at: current)
    }

    /// Counts a use; the store is updated at most once a minute per key, off the request path.
    package func recordUse(of key: ApiKey) {
        let current = now()
        let flush = usage.withLock { table -> Int? in
            var entry = table[key.id] ?? Usage()
            entry.pending += 1
            entry.lastUse = current
            defer { table[key.id] = entry }
            guard current.timeIntervalSince(entry.lastFlush) >= 60 else { return nil }
            let count = entry.pending
            entry.pending = 0
            entry.lastFlush = current
            return count
        }
        guard let flush else { return }
        let store = self.store
        Task { try? await store.recordUsage(id: key.id, at: current, by: flush) }
    }

    private func verdict(for key: ApiKey, at date: Date) -> Result<ApiKey, ApiKeyRefusal> {
        if !key.isActive { return .failure(.revoked) }
        if key.isExpired(at: date) { return .failure(.expired) }
        return .success(key)
    }

    // MARK: - Management

    /// Creates a key and returns it with its plaintext (shown to the caller once).
    package func create(
        name: String, role: ApiKeyRole, allowedIps: [String]?, allowedSessions: [String]?, allowedChats: [String]?,
        expiresAt: Date?, plaintext: String? = nil
    ) async throws -> (key: ApiKey, plaintext: String) {
        let secret = try plaintext ?? ApiKeyFormat.generate()
        let current = now()
        let record = ApiKeyRecord(
            id: UUID().uuidString.lowercased(), name: name, keyHash: ApiKeyFormat.hash(secret, pepper: pepper),
            keyPrefix: ApiKeyFormat.displayPrefix(secret), role: role.rawValue, allowedIps: allowedIps.nilIfEmpty,
            allowedSessions: allowedSessions.nilIfEmpty, allowedChats: allowedChats.nilIfEmpty, isActive: true,
            expiresAt: expiresAt, lastUsedAt: nil, usageCount: 0, createdAt: current, updatedAt: current)
        try await guarded { try await self.store.insert(record) }
        return (ApiKey(record), secret)
    }

    package func list() async throws -> [ApiKey] {
        try await guarded { try await self.store.list() }.map(ApiKey.init)
    }

    package func get(id: String) async throws -> ApiKey {
        ApiKey(try await record(id: id))
    }

    package func update(id: String, _ changes: ApiKeyChanges) async throws -> ApiKey {
        var record = try await record(id: id)
        record.name = changes.name ?? record.name
        record.role = changes.role?.rawValue ?? record.role
        if let ips = changes.allowedIps { record.allowedIps = ips.nilIfEmpty }
        if let sessions = changes.allowedSessions { record.allowedSessions = sessions.nilIfEmpty }
        if let chats = changes.allowedChats { record.allowedChats = chats.nilIfEmpty }
        if let expiry = changes.expiresAt { record.expiresAt = expiry }
        record.updatedAt = now()
        return try await mutate(id: id, .update(record)) ?? ApiKey(record)
    }

    package func revoke(id: String) async throws -> ApiKey {
        guard let key = try await mutate(id: id, .revoke) else { throw EngineError.notFound("API key with id '\(id)' not found") }
        return key
    }

    package func delete(id: String) async throws {
        _ = try await mutate(id: id, .delete)
    }

    private func record(id: String) async throws -> ApiKeyRecord {
        guard let record = try await guarded({ try await self.store.find(id: id) }) else {
            throw EngineError.notFound("API key with id '\(id)' not found")
        }
        return record
    }

    private func mutate(id: String, _ change: ApiKeyMutation) async throws -> ApiKey? {
        let before = try await record(id: id)
        let result = try await guarded { try await self.store.mutateGuarded(id: id, at: self.now(), change) }
        switch result {
        case .notFound:
            throw EngineError.notFound("API key with id '\(id)' not found")
        case .wouldRemoveLastAdmin:
            throw EngineError.conflict("This change would leave no usable admin API key")
        case .done(let record):
            // Drop every cached verdict for this key; the next use reloads it.
            cache.withLock { table in table = table.filter { $0.value.key.id != id } }
            if case .update = change {} else { removeBootstrapFileIfItHolds(before) }
            return record.map(ApiKey.init)
        }
    }

    /// Maps store failures to domain errors: constraint -> 409, unreachable database -> 503.
    private func guarded<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PersistenceError {
            if error.isConstraintViolation { throw EngineError.conflict("An API key with these values already exists") }
            if error.isUnavailable { throw EngineError.unavailable("Main database is unavailable") }
            throw error
        }
    }

    /// OpenWA removes the bootstrap key file once the key it holds is revoked or deleted.
    private func removeBootstrapFileIfItHolds(_ record: ApiKeyRecord) {
        guard let bootstrapKeyFile, let text = try? String(contentsOfFile: bootstrapKeyFile, encoding: .utf8) else { return }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if ApiKeyFormat.hash(secret, pepper: pepper) == record.keyHash {
            try? FileManager.default.removeItem(atPath: bootstrapKeyFile)
        }
    }
}

extension ApiKey {
    init(_ record: ApiKeyRecord) {
        self.init(
            id: record.id, name: record.name, keyPrefix: record.keyPrefix, role: ApiKeyRole(rawValue: record.role) ?? .viewer,
            allowedIps: record.allowedIps, allowedSessions: record.allowedSessions, allowedChats: record.allowedChats,
            isActive: record.isActive, expiresAt: record.expiresAt, lastUsedAt: record.lastUsedAt,
            usageCount: record.usageCount, createdAt: record.createdAt, updatedAt: record.updatedAt)
    }
}

extension Optional where Wrapped == [String] {
    /// OpenWA stores an empty list as NULL (unrestricted).
    var nilIfEmpty: [String]? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
