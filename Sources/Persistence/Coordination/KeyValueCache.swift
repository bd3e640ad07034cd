import Logging
import Synchronization

/// A byte cache with expiry; Redis-backed across nodes, or in memory in one process.
package protocol KeyValueCache: Sendable {
    func get(_ key: String) async -> [UInt8]?
    /// Stores `value`; `ttlMilliseconds` nil keeps it until deleted.
    func set(_ key: String, _ value: [UInt8], ttlMilliseconds: Int?) async
    func delete(_ key: String) async
}

/// The cache of a single process.
package final class InMemoryKeyValueCache: KeyValueCache {
    private struct Entry {
        var value: [UInt8]
        var expiresAt: Int64?
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let clock: MillisecondClock

    package init(clock: @escaping MillisecondClock = WallClock.milliseconds) {
        self.clock = clock
    }

    package func get(_ key: String) async -> [UInt8]? {
        let now = clock()
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            if let expiresAt = entry.expiresAt, expiresAt <= now {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    package func set(_ key: String, _ value: [UInt8], ttlMilliseconds: Int?) async {
        let expiresAt = ttlMilliseconds.map { clock() + Int64($0) }
        entries.withLock { entries in
            // Drop expired entries now and then so the map cannot grow without bound.
            if entries.count >= 10_000 {
                let now = clock()
                entries = entries.filter { $0.value.expiresAt.map { $0 > now } ?? true }
            }
            entries[key] = Entry(value: value, expiresAt: expiresAt)
        }
    }

    package func delete(_ key: String) async {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}

/// The cache in Redis (`SET key value PX ttl`, `GET`, `DEL`), under `keyPrefix`. While Redis
/// cannot be reached it falls back to an in-memory cache (one warning), and uses Redis again
/// once a call succeeds.
package final class RedisKeyValueCache: KeyValueCache {
    private let client: RedisClient
    private let prefix: String
    private let fallback: InMemoryKeyValueCache
    package let notice: RedisOutageNotice

    package init(client: RedisClient, keyPrefix: String = "openwa:cache:", logger: Logger) {
        self.client = client
        self.prefix = keyPrefix
        self.fallback = InMemoryKeyValueCache()
        self.notice = RedisOutageNotice(service: "the cache", logger: logger)
    }

    package func get(_ key: String) async -> [UInt8]? {
        do {
            let value = try await client.command(["GET", RedisArgument(prefix + key)])
            notice.succeeded()
            return value.bytes
        } catch {
            notice.failed(error)
            return await fallback.get(key)
        }
    }

    package func set(_ key: String, _ value: [UInt8], ttlMilliseconds: Int?) async {
        var arguments: [RedisArgument] = ["SET", RedisArgument(prefix + key), RedisArgument(value)]
        if let ttlMilliseconds { arguments += ["PX", RedisArgument(max(1, ttlMilliseconds))] }
        do {
            _ = try await client.command(arguments)
            notice.succeeded()
        } catch {
            notice.failed(error)
            await fallback.set(key, value, ttlMilliseconds: ttlMilliseconds)
        }
    }

    package func delete(_ key: String) async {
        await fallback.delete(key)
        do {
            _ = try await client.command(["DEL", RedisArgument(prefix + key)])
            notice.succeeded()
        } catch {
            notice.failed(error)
        }
    }
}
