import Foundation
import Logging
import Synchronization

/// A reserved item of a `WorkQueue`: process it, then `ack` it before its visibility timeout
/// ends, or it is delivered again.
package struct WorkItem: Sendable, Equatable {
    package let id: String
    package let payload: [UInt8]
    /// True when the item lives in the in-memory fallback (enqueued during a Redis outage).
    let inMemory: Bool
}

/// An at-least-once work queue: `enqueue`, `reserve` with a visibility timeout, `ack`. An item
/// reserved but not acknowledged within its timeout is handed out again.
package protocol WorkQueue: Sendable {
    @discardableResult
    func enqueue(_ payload: [UInt8]) async -> String
    /// The oldest ready item (redelivered ones first), or nil when there is none.
    func reserve(visibilityMilliseconds: Int) async -> WorkItem?
    /// Removes a reserved item for good; false when it was not reserved (already acknowledged,
    /// or its timeout ran out and it went back to the queue).
    @discardableResult
    func ack(_ item: WorkItem) async -> Bool
}

/// The queue of a single process (not durable).
package final class InMemoryWorkQueue: WorkQueue {
    private struct State {
        var ready: [String] = []
        var reserved: [String: Int64] = [:]
        var payloads: [String: [UInt8]] = [:]
    }

    private let state = Mutex(State())
    private let clock: MillisecondClock

    package init(clock: @escaping MillisecondClock = WallClock.milliseconds) {
        self.clock = clock
    }

    package func enqueue(_ payload: [UInt8]) async -> String {
        let id = UUID().uuidString.lowercased()
        state.withLock { state in
            state.payloads[id] = payload
            state.ready.append(id)
        }
        return id
    }

    package func reserve(visibilityMilliseconds: Int) async -> WorkItem? {
        let now = clock()
        return state.withLock { state -> WorkItem? in
            let expired = state.reserved.filter { $0.value <= now }.sorted { $0.value < $1.value }.map(\.key)
            for id in expired { state.reserved[id] = nil }
            state.ready.insert(contentsOf: expired, at: 0)
            guard !state.ready.isEmpty else { return nil }
            let id = state.ready.removeFirst()
            state.reserved[id] = now + Int64(visibilityMilliseconds)
            return WorkItem(id: id, payload: state.payloads[id] ?? [], inMemory: true)
        }
    }

    package func ack(_ item: WorkItem) async -> Bool {
        state.withLock { state in
            guard state.reserved.removeValue(forKey: item.id) != nil else { return false }
            state.payloads[item.id] = nil
            return true
        }
    }

    var isEmpty: Bool { state.withLock { $0.ready.isEmpty && $0.reserved.isEmpty } }
}

/// The durable queue in Redis, three keys under `name`: `:ready` (a list of ids, oldest at the
/// right), `:reserved` (a sorted set of ids scored by their visibility deadline) and `:items`
/// (a hash id -> payload). Each operation is one Lua script, so it is atomic: `reserve` first
/// moves every expired reservation back to the ready end of the list, then pops an id and
/// reserves it. Deadlines are milliseconds on the queue's clock (wall time by default; every
/// node must share it, as with any visibility-timeout queue).
///
/// While Redis cannot be reached, new items go to an in-memory queue (one warning; they are not
/// durable), and `reserve` serves those first; Redis is used again once it answers.
package final class RedisWorkQueue: WorkQueue {
    private static let enqueueScript = """
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        redis.call('LPUSH', KEYS[1], ARGV[1])
        return 1
        """
    private static let reserveScript = """
        local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
        for i = 1, #expired do
            redis.call('ZREM', KEYS[2], expired[i])
            redis.call('RPUSH', KEYS[1], expired[i])
        end
        local id = redis.call('RPOP', KEYS[1])
        if not id then return false end
        redis.call('ZADD', KEYS[2], ARGV[2], id)
        local payload = redis.call('HGET', KEYS[3], id)
        if not payload then payload = '' end
        return {id, payload}
        """
    private static let ackScript = """
        local removed = redis.call('ZREM', KEYS[1], ARGV[1])
        if removed == 1 then redis.call('HDEL', KEYS[2], ARGV[1]) end
        return removed
        """

    private let client: RedisClient
    private let ready: String
    private let reserved: String
    private let items: String
    private let clock: MillisecondClock
    private let fallback: InMemoryWorkQueue
    package let notice: RedisOutageNotice

    package init(
        client: RedisClient, name: String, clock: @escaping MillisecondClock = WallClock.milliseconds, logger: Logger
    ) {
        self.client = client
        self.ready = name + ":ready"
        self.reserved = name + ":reserved"
        self.items = name + ":items"
        self.clock = clock
        self.fallback = InMemoryWorkQueue(clock: clock)
        self.notice = RedisOutageNotice(service: "the work queue \(name)", logger: logger)
    }

    package func enqueue(_ payload: [UInt8]) async -> String {
        let id = UUID().uuidString.lowercased()
        do {
            _ = try await client.command([
                "EVAL", RedisArgument(Self.enqueueScript), "2", RedisArgument(ready), RedisArgument(items),
                RedisArgument(id), RedisArgument(payload),
            ])
            notice.succeeded()
            return id
        } catch {
            notice.failed(error)
            return await fallback.enqueue(payload)
        }
    }

    package func reserve(visibilityMilliseconds: Int) async -> WorkItem? {
        if let item = await fallback.reserve(visibilityMilliseconds: visibilityMilliseconds) { return item }
        let now = clock()
        do {
            let value = try await client.command([
                "EVAL", RedisArgument(Self.reserveScript), "3", RedisArgument(ready), RedisArgument(reserved),
                RedisArgument(items), RedisArgument(now), RedisArgument(now + Int64(visibilityMilliseconds)),
            ])
            notice.succeeded()
            guard let parts = value.array, parts.count == 2, let id = parts[0].string else { return nil }
            return WorkItem(id: id, payload: parts[1].bytes ?? [], inMemory: false)
        } catch {
            notice.failed(error)
            return nil
        }
    }

    package func ack(_ item: WorkItem) async -> Bool {
        if item.inMemory { return await fallback.ack(item) }
        do {
            let value = try await client.command([
                "EVAL", RedisArgument(Self.ackScript), "2", RedisArgument(reserved), RedisArgument(items),
                RedisArgument(item.id),
            ])
            notice.succeeded()
            return value.int == 1
        } catch {
            // Not acknowledged: the item is delivered again after its timeout (at least once).
            notice.failed(error)
            return false
        }
    }
}
