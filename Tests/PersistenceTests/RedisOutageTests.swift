import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport

/// The fault Redis server killed (`kill -9`) and started again on the same port: commands fail
/// clearly, every Redis-backed service falls back to memory, and all recover with no new client.
@Suite(
    "Redis outage", .enabled(if: RedisTestEnvironment.current?.faultPort != nil), .timeLimit(.minutes(1)),
    .serialized)
struct RedisOutageTests {
    @Test func killedAndRestartedServer() async throws {
        let environment = try #require(RedisTestEnvironment.current)
        let port = try #require(environment.faultPort)
        try await withRedis(port: port, commandTimeout: 1_000) { redis, _ in
            let prefix = uniquePrefix()
            let clock = ManualMilliseconds()
            let cache = RedisKeyValueCache(client: redis, keyPrefix: prefix, logger: quietLogger)
            let counter = RedisRateLimitCounter(client: redis, keyPrefix: prefix, clock: clock.clock, logger: quietLogger)
            let queue = RedisWorkQueue(client: redis, name: prefix + "q", clock: clock.clock, logger: quietLogger)
            let pubsub = RedisPubSub(client: redis, logger: quietLogger)
            let received = Mutex<[[UInt8]]>([])
            await pubsub.subscribe(channel: prefix + "c") { payload in received.withLock { $0.append(payload) } }
            await cache.set("k", [1], ttlMilliseconds: nil)
            #expect(await counter.increment(key: "ip", windowMilliseconds: 60_000).count == 1)
            #expect(!cache.notice.isDegraded && !counter.notice.isDegraded)

            try await environment.killFaultServer()
            do {
                try #require(RedisTestEnvironment.current != nil)
                // The client sees the connection go and says so, naming the server.
                let started = Date()
                let error = await #expect(throws: PersistenceError.self) { _ = try await redis.command("PING") }
                #expect(error?.isUnavailable == true)
                #expect(error?.message.contains("127.0.0.1:\(port)") == true, "\(String(describing: error))")
                #expect(Date().timeIntervalSince(started) < 8, "an outage must fail fast")

                // Every service keeps working on its in-memory fallback.
                await cache.set("k", [2], ttlMilliseconds: nil)
                #expect(await cache.get("k") == [2])
                #expect(cache.notice.isDegraded)
                let hit = await counter.increment(key: "ip", windowMilliseconds: 60_000)
                #expect(hit.count == 1, "fail-open: counted in memory on this node")
                #expect(counter.notice.isDegraded)
                let id = await queue.enqueue([7])
                let item = await queue.reserve(visibilityMilliseconds: 1_000)
                #expect(item?.id == id)
                if let item { #expect(await queue.ack(item)) }
                await pubsub.publish(channel: prefix + "c", message: [5])
                #expect(received.withLock { $0 } == [[5]], "delivered locally while Redis is down")
            } catch {
                try await environment.startFaultServer()
                throw error
            }
            try await environment.startFaultServer()

            // Same client: after the backoff the next command reconnects.
            #expect(await eventually { (try? await redis.command("PING")) == .simple("PONG") })
            #expect(await cache.get("k") == nil, "the restarted server has no data (no persistence)")
            #expect(!cache.notice.isDegraded)
            #expect(await counter.increment(key: "ip", windowMilliseconds: 60_000).count == 1)
            #expect(!counter.notice.isDegraded)
            // The subscription was renewed on its own: a publish through Redis arrives again.
            #expect(
                await eventually {
                    await pubsub.publish(channel: prefix + "c", message: [6])
                    return received.withLock { $0.contains([6]) } && !pubsub.notice.isDegraded
                })
        }
    }
}
