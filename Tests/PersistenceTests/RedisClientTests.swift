import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport

/// Records a failure when the run promised its services but Redis is not configured.
@Suite("Redis test service")
struct RedisServiceCheck {
    @Test func redisIsConfiguredWhenServicesAreRequired() {
        guard !RedisTestEnvironment.isAvailable else { return }
        print(RedisTestEnvironment.missingMessage)
        if PostgresTestEnvironment.servicesRequired {
            Issue.record("OPENWA_TEST_SERVICES=1 but Redis is not configured: \(RedisTestEnvironment.missingMessage)")
        }
    }
}

/// The hiredis driver against the real test server: every reply type, binary safety, errors,
/// pipelining, pub/sub, timeouts and unreachable servers.
@Suite("Redis client", .enabled(if: RedisTestEnvironment.isAvailable), .timeLimit(.minutes(1)))
struct RedisClientTests {
    @Test func statusBulkIntegerNullAndArrayReplies() async throws {
        try await withRedis { redis, _ in
            let key = uniquePrefix() + "k"
            #expect(try await redis.command("SET", RedisArgument(key), "value") == .simple("OK"))
            #expect(try await redis.command("GET", RedisArgument(key)) == .bulk(Array("value".utf8)))
            #expect(try await redis.command("GET", RedisArgument(key + ":missing")) == .null)
            #expect(try await redis.command("INCRBY", RedisArgument(key + ":n"), "41") == .integer(41))
            #expect(try await redis.command("INCR", RedisArgument(key + ":n")).int == 42)
            _ = try await redis.command("RPUSH", RedisArgument(key + ":l"), "a", "b", "c")
            let list = try await redis.command("LRANGE", RedisArgument(key + ":l"), "0", "-1")
            #expect(list == .array([.bulk([97]), .bulk([98]), .bulk([99])]))
            #expect(try await redis.command("PING") == .simple("PONG"))
            #expect(try await redis.command("DEL", RedisArgument(key), RedisArgument(key + ":n"), RedisArgument(key + ":l")) == .integer(3))
        }
    }

    @Test func argumentsAndValuesAreBinarySafe() async throws {
        try await withRedis { redis, _ in
            let key = Array((uniquePrefix() + "bin\r\n ").utf8) + [0, 255]
            let value: [UInt8] = [0, 13, 10, 0x24, 0x2A, 255, 0, 1] + Array(repeating: 7, count: 1 << 20)
            _ = try await redis.command(["SET", RedisArgument(key), RedisArgument(value)])
            #expect(try await redis.command(["GET", RedisArgument(key)]).bytes == value)
            #expect(try await redis.command(["STRLEN", RedisArgument(key)]) == .integer(Int64(value.count)))
            _ = try await redis.command(["DEL", RedisArgument(key)])
        }
    }

    @Test func errorRepliesThrowAndNestedErrorsStayValues() async throws {
        try await withRedis { redis, _ in
            let key = uniquePrefix() + "list"
            _ = try await redis.command("LPUSH", RedisArgument(key), "x")
            let error = await #expect(throws: PersistenceError.self) { _ = try await redis.command("INCR", RedisArgument(key)) }
            #expect(error?.isRedisError == true)
            #expect(error?.message.hasPrefix("WRONGTYPE") == true)
            let unknown = await #expect(throws: PersistenceError.self) { _ = try await redis.command("NOSUCHCOMMAND") }
            #expect(unknown?.isRedisError == true)
            // A transaction's array carries the failing command's error in place.
            _ = try await redis.command("MULTI")
            _ = try await redis.command("INCR", RedisArgument(key))
            _ = try await redis.command("LLEN", RedisArgument(key))
            let replies = try await redis.command("EXEC").array
            #expect(replies?.count == 2)
            if case .error(let message) = replies?.first { #expect(message.hasPrefix("WRONGTYPE")) } else {
                Issue.record("expected an error element, got \(String(describing: replies))")
            }
            #expect(replies?.last == .integer(1))
            // The connection stays usable after errors.
            #expect(try await redis.command("DEL", RedisArgument(key)) == .integer(1))
        }
    }

    @Test func manyConcurrentCommandsShareOneConnection() async throws {
        try await withRedis { redis, _ in
            let prefix = uniquePrefix()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let key = RedisArgument(prefix + "\(index)")
                        _ = try await redis.command("SET", key, RedisArgument(index))
                        #expect(try await redis.command("GET", key).int == Int64(index))
                    }
                }
                try await group.waitForAll()
            }
            #expect(await redis.isConnected())
        }
    }

    @Test func subscribersReceivePublishedMessages() async throws {
        try await withRedis { redis, _ in
            let channel = uniquePrefix() + "events"
            let received = Mutex<[[UInt8]]>([])
            try await redis.subscribe(channel: channel) { payload in received.withLock { $0.append(payload) } }
            try await redis.subscribe(channel: channel) { payload in received.withLock { $0.append(payload + [1]) } }
            let payload: [UInt8] = [0, 1, 2, 13, 10, 255]
            #expect(try await redis.publish(channel: channel, message: payload) == 1)
            #expect(await eventually { received.withLock { $0.count } == 2 })
            #expect(received.withLock { Set($0) } == [payload, payload + [1]])
            // Ordinary commands keep working beside the subscriber connection.
            #expect(try await redis.command("PING") == .simple("PONG"))
        }
    }

    @Test func aRefusedConnectionFailsFastAsUnavailable() async throws {
        let port = try closedPort()
        try await withRedis(port: port) { redis, _ in
            let started = Date()
            let error = await #expect(throws: PersistenceError.self) { _ = try await redis.command("PING") }
            #expect(error?.isUnavailable == true)
            #expect(error?.message.contains("127.0.0.1:\(port)") == true, "\(String(describing: error))")
            // During the backoff the next command fails at once without a new attempt.
            let again = await #expect(throws: PersistenceError.self) { _ = try await redis.command("PING") }
            #expect(again?.isUnavailable == true)
            #expect(Date().timeIntervalSince(started) < 8, "fails fast, not after a timeout (bounds are loose: the suites share two cores)")
            #expect(again?.message.contains("timed out") == false)
        }
    }

    @Test func aSilentServerTimesCommandsOut() async throws {
        let silent = try SilentRedisListener()
        try await withRedis(port: silent.port, commandTimeout: 200) { redis, _ in
            let started = Date()
            let error = await #expect(throws: PersistenceError.self) { _ = try await redis.command("PING") }
            #expect(error?.isUnavailable == true)
            #expect(error?.message.contains("no reply within 200 ms") == true, "\(String(describing: error))")
            #expect(Date().timeIntervalSince(started) < 8)
        }
        withExtendedLifetime(silent) {}
    }

    @Test func anUnreachableHostFailsWithinTheConnectTimeout() async throws {
        let environment = try #require(RedisTestEnvironment.current)
        try await withReactor { handle in
            var configuration = environment.configuration()
            configuration.host = "10.255.255.1"  // not routed: the connect never completes
            configuration.connectTimeoutMilliseconds = 200
            let redis = RedisClient(configuration: configuration, handle: handle, logger: quietLogger)
            let started = Date()
            let error = await #expect(throws: PersistenceError.self) { _ = try await redis.command("PING") }
            #expect(error?.isUnavailable == true)
            #expect(Date().timeIntervalSince(started) < 8)
            await redis.close()
        }
    }

    @Test func closingFailsLaterCommands() async throws {
        try await withRedis { redis, _ in
            _ = try await redis.command("PING")
            await redis.close()
            let error = await #expect(throws: PersistenceError.self) { _ = try await redis.command("PING") }
            #expect(error?.isUnavailable == true)
        }
    }
}
