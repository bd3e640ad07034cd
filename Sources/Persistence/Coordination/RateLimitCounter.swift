import Logging
import Synchronization

/// One hit on a fixed window: how many hits the window has seen (this one included) and when
/// it resets (milliseconds on the counter's clock).
package struct RateLimitHit: Sendable, Equatable {
    package var count: Int
    package var resetAtMilliseconds: Int64

    package init(count: Int, resetAtMilliseconds: Int64) {
        self.count = count
        self.resetAtMilliseconds = resetAtMilliseconds
    }
}

/// Fixed-window counters for the HTTP throttlers (reference 1.4). Windows are aligned to
/// multiples of their length on the counter's clock, so every node computes the same window.
package protocol RateLimitCounter: Sendable {
    func increment(key: String, windowMilliseconds: Int) async -> RateLimitHit
}

extension RateLimitCounter {
    static func windowStart(now: Int64, windowMilliseconds: Int) -> Int64 {
        let window = Int64(max(1, windowMilliseconds))
        return now - now % window
    }
}

/// The counters of a single process.
package final class InMemoryRateLimitCounter: RateLimitCounter {
    private struct Window {
        var start: Int64
        var count: Int
    }

    /// A key per window length, without building a string for each hit.
    private struct Slot: Hashable {
        let windowMilliseconds: Int
        let key: String
    }

    private let windows = Mutex<[Slot: Window]>([:])
    private let clock: MillisecondClock

    package init(clock: @escaping MillisecondClock = WallClock.milliseconds) {
        self.clock = clock
    }

    package func increment(key: String, windowMilliseconds: Int) async -> RateLimitHit {
        incrementNow(key: key, windowMilliseconds: windowMilliseconds)
    }

    /// `increment` without a suspension point: the in-memory count is one locked dictionary
    /// update, so the HTTP path calls this directly and answers in the same reactor tick.
    package func incrementNow(key: String, windowMilliseconds: Int) -> RateLimitHit {
        let now = clock()
        let start = Self.windowStart(now: now, windowMilliseconds: windowMilliseconds)
        let composite = Slot(windowMilliseconds: windowMilliseconds, key: key)
        let count = windows.withLock { windows -> Int in
            if windows.count >= 100_000 {
                windows = windows.filter { $0.value.start == start }
            }
            var window = windows[composite] ?? Window(start: start, count: 0)
            if window.start != start { window = Window(start: start, count: 0) }
            window.count += 1
            windows[composite] = window
            return window.count
        }
        return RateLimitHit(count: count, resetAtMilliseconds: start + Int64(windowMilliseconds))
    }
}

/// The counters in Redis: one key per window (`INCR`, and `PEXPIRE` on the window's first hit,
/// in one Lua script so a crash between them cannot leave an eternal key). Fail-open as in
/// OpenWA: a Redis error never fails or blocks a request; the hit is counted in memory on this
/// node instead (one warning), and Redis is used again once it answers.
package final class RedisRateLimitCounter: RateLimitCounter {
    private static let script = """
        local c = redis.call('INCR', KEYS[1])
        if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return c
        """
    private let client: RedisClient
    private let prefix: String
    private let clock: MillisecondClock
    private let fallback: InMemoryRateLimitCounter
    package let notice: RedisOutageNotice

    package init(
        client: RedisClient, keyPrefix: String = "openwa:throttle:", clock: @escaping MillisecondClock = WallClock.milliseconds,
        logger: Logger
    ) {
        self.client = client
        self.prefix = keyPrefix
        self.clock = clock
        self.fallback = InMemoryRateLimitCounter(clock: clock)
        self.notice = RedisOutageNotice(service: "the rate limiter", logger: logger)
    }

    package func increment(key: String, windowMilliseconds: Int) async -> RateLimitHit {
        let start = Self.windowStart(now: clock(), windowMilliseconds: windowMilliseconds)
        let reset = start + Int64(windowMilliseconds)
        let redisKey = "\(prefix)\(windowMilliseconds):\(key):\(start)"
        do {
            let value = try await client.command([
                "EVAL", RedisArgument(Self.script), "1", RedisArgument(redisKey), RedisArgument(windowMilliseconds),
            ])
            notice.succeeded()
            return RateLimitHit(count: Int(value.int ?? 1), resetAtMilliseconds: reset)
        } catch {
            notice.failed(error)
            return await fallback.increment(key: key, windowMilliseconds: windowMilliseconds)
        }
    }
}
