import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport

/// The in-memory implementations, always run (no Redis needed).
@Suite("In-memory cache, rate limit, queue, pub/sub")
struct InMemoryCoordinationTests {
    @Test func cacheExpiresOnItsClock() async {
        let clock = ManualMilliseconds()
        let cache = InMemoryKeyValueCache(clock: clock.clock)
        await cache.set("a", [1, 2], ttlMilliseconds: 1_000)
        await cache.set("b", [3], ttlMilliseconds: nil)
        #expect(await cache.get("a") == [1, 2])
        clock.advance(1_000)
        #expect(await cache.get("a") == nil)
        #expect(await cache.get("b") == [3])
        await cache.delete("b")
        #expect(await cache.get("b") == nil)
    }

    @Test func fixedWindowsAreAlignedAndReset() async {
        let clock = ManualMilliseconds(10_500)
        await checkFixedWindows(InMemoryRateLimitCounter(clock: clock.clock), clock: clock, key: "ip")
    }

    @Test func unacknowledgedItemsAreRedelivered() async {
        let clock = ManualMilliseconds()
        await checkRedelivery(InMemoryWorkQueue(clock: clock.clock), clock: clock)
    }

    @Test func pubSubDeliversInProcess() async {
        let pubsub = InMemoryPubSub()
        let received = Mutex<[[UInt8]]>([])
        await pubsub.subscribe(channel: "c") { payload in received.withLock { $0.append(payload) } }
        await pubsub.publish(channel: "c", message: [9])
        await pubsub.publish(channel: "other", message: [8])
        #expect(received.withLock { $0 } == [[9]])
    }
}

/// Windows of `window` ms starting halfway through one: each hit lands in the aligned window.
func checkFixedWindows(_ counter: any RateLimitCounter, clock: ManualMilliseconds, key: String, window: Int = 1_000) async {
    let length = Int64(window)
    let first = await counter.increment(key: key, windowMilliseconds: window)
    #expect(first == RateLimitHit(count: 1, resetAtMilliseconds: clock.now - clock.now % length + length))
    let reset = first.resetAtMilliseconds
    #expect(await counter.increment(key: key, windowMilliseconds: window).count == 2)
    #expect(await counter.increment(key: key + "-other", windowMilliseconds: window).count == 1)
    #expect(await counter.increment(key: key, windowMilliseconds: 3_600_000).count == 1, "each window length counts apart")
    clock.advance(reset - clock.now - 1)
    #expect(await counter.increment(key: key, windowMilliseconds: window) == RateLimitHit(count: 3, resetAtMilliseconds: reset))
    clock.advance(1)
    #expect(await counter.increment(key: key, windowMilliseconds: window) == RateLimitHit(count: 1, resetAtMilliseconds: reset + length))
}

func checkRedelivery(_ queue: any WorkQueue, clock: ManualMilliseconds) async {
    let a = await queue.enqueue([1])
    let b = await queue.enqueue([2])
    let first = await queue.reserve(visibilityMilliseconds: 5_000)
    #expect(first?.id == a)
    #expect(first?.payload == [1])
    let second = await queue.reserve(visibilityMilliseconds: 5_000)
    #expect(second?.id == b)
    #expect(await queue.reserve(visibilityMilliseconds: 5_000) == nil)
    if let second { #expect(await queue.ack(second)) }
    // `first` is never acknowledged: once its timeout passes it comes back.
    clock.advance(4_999)
    #expect(await queue.reserve(visibilityMilliseconds: 5_000) == nil)
    clock.advance(1)
    let again = await queue.reserve(visibilityMilliseconds: 5_000)
    #expect(again?.id == a)
    #expect(again?.payload == [1])
    if let again { #expect(await queue.ack(again)) }
    if let first { #expect(await !queue.ack(first), "acknowledged already") }
    clock.advance(10_000)
    #expect(await queue.reserve(visibilityMilliseconds: 5_000) == nil)
}

/// The Redis-backed implementations on the real server.
@Suite("Redis cache, rate limit, queue, pub/sub", .enabled(if: RedisTestEnvironment.isAvailable), .timeLimit(.minutes(1)))
struct RedisCoordinationTests {
    @Test func cacheStoresWithExpiry() async throws {
        try await withRedis { redis, _ in
            let prefix = uniquePrefix()
            let cache = RedisKeyValueCache(client: redis, keyPrefix: prefix, logger: quietLogger)
            await cache.set("a", [0, 1, 2], ttlMilliseconds: 60_000)
            await cache.set("b", [3], ttlMilliseconds: nil)
            await cache.set("c", [4], ttlMilliseconds: 50)
            #expect(await cache.get("a") == [0, 1, 2])
            let ttl = try await redis.command("PTTL", RedisArgument(prefix + "a")).int ?? -1
            #expect(ttl > 0 && ttl <= 60_000)
            #expect(try await redis.command("PTTL", RedisArgument(prefix + "b")) == .integer(-1), "no expiry")
            #expect(await eventually { await cache.get("c") == nil })
            #expect(await cache.get("b") == [3])
            await cache.delete("b")
            #expect(await cache.get("b") == nil)
            #expect(!cache.notice.isDegraded)
        }
    }

    @Test func rateLimitWindowsOnAManualClock() async throws {
        try await withRedis { redis, _ in
            // Keys expire after one window of real time, so the window is long enough that a
            // loaded machine cannot expire it between two hits of the test.
            let clock = ManualMilliseconds(1_700_000_030_000)
            let prefix = uniquePrefix()
            let counter = RedisRateLimitCounter(client: redis, keyPrefix: prefix, clock: clock.clock, logger: quietLogger)
            await checkFixedWindows(counter, clock: clock, key: "ip", window: 60_000)
            #expect(!counter.notice.isDegraded)
            // The key carries a TTL of one window, so Redis forgets old windows by itself.
            let keys = try await redis.command("KEYS", RedisArgument(prefix + "3600000:*")).array ?? []
            #expect(keys.count == 1)
            for key in keys {
                let ttl = try await redis.command(["PTTL", RedisArgument(key.bytes ?? [])]).int ?? -1
                #expect(ttl > 0)
            }
        }
    }

    @Test func queueRedeliversUnacknowledgedItems() async throws {
        try await withRedis { redis, _ in
            let clock = ManualMilliseconds()
            let queue = RedisWorkQueue(client: redis, name: uniquePrefix() + "q", clock: clock.clock, logger: quietLogger)
            await checkRedelivery(queue, clock: clock)
            #expect(!queue.notice.isDegraded)
        }
    }

    @Test func queueItemsSurviveANewClient() async throws {
        let name = uniquePrefix() + "durable"
        let id = try await withRedis { redis, _ in
            await RedisWorkQueue(client: redis, name: name, logger: quietLogger).enqueue(Array("job".utf8))
        }
        try await withRedis { redis, _ in
            let queue = RedisWorkQueue(client: redis, name: name, logger: quietLogger)
            let item = await queue.reserve(visibilityMilliseconds: 1_000)
            #expect(item?.id == id)
            #expect(item?.payload == Array("job".utf8))
            if let item { #expect(await queue.ack(item)) }
        }
    }

    @Test func pubSubFansOutThroughRedis() async throws {
        try await withRedis { redis, handle in
            let environment = try #require(RedisTestEnvironment.current)
            let other = RedisClient(configuration: environment.configuration(), handle: handle, logger: quietLogger)
            let channel = uniquePrefix() + "fanout"
            let nodeA = RedisPubSub(client: redis, logger: quietLogger)
            let nodeB = RedisPubSub(client: other, logger: quietLogger)
            let receivedA = Mutex<[[UInt8]]>([])
            let receivedB = Mutex<[[UInt8]]>([])
            await nodeA.subscribe(channel: channel) { payload in receivedA.withLock { $0.append(payload) } }
            await nodeB.subscribe(channel: channel) { payload in receivedB.withLock { $0.append(payload) } }
            await nodeA.publish(channel: channel, message: [42])
            #expect(await eventually { receivedA.withLock { $0 } == [[42]] && receivedB.withLock { $0 } == [[42]] })
            await other.close()
        }
    }
}
