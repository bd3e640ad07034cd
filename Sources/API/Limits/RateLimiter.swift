import Reactor

/// One named throttler window (reference 1.4): at most `limit` requests per `ttlMilliseconds`.
package struct RateLimitWindow: Sendable, Equatable {
    package var name: String
    package var ttlMilliseconds: Int
    package var limit: Int

    package init(name: String, ttlMilliseconds: Int, limit: Int) {
        self.name = name
        self.ttlMilliseconds = ttlMilliseconds
        self.limit = limit
    }

    /// OpenWA's defaults: `short` 10/1 s, `medium` 100/60 s, `long` 1000/1 h.
    package static let defaults = [
        RateLimitWindow(name: "short", ttlMilliseconds: 1_000, limit: 10),
        RateLimitWindow(name: "medium", ttlMilliseconds: 60_000, limit: 100),
        RateLimitWindow(name: "long", ttlMilliseconds: 3_600_000, limit: 1_000),
    ]
}

/// A counter's answer: the hits in the current window (this one included) and when it resets,
/// in milliseconds on the limiter's clock.
package struct RateLimitCount: Sendable {
    package var count: Int
    package var resetAtMilliseconds: Int64

    package init(count: Int, resetAtMilliseconds: Int64) {
        self.count = count
        self.resetAtMilliseconds = resetAtMilliseconds
    }
}

/// Where the counts live. In memory the count is a synchronous update, so the request is
/// answered in the same reactor tick; shared (Redis) counts are awaited, their I/O being on the
/// reactor like everything else, so the check never blocks the loop.
package enum RateLimitStorage: Sendable {
    case local(@Sendable (_ key: String, _ windowMilliseconds: Int) -> RateLimitCount)
    case shared(@Sendable (_ key: String, _ windowMilliseconds: Int) async -> RateLimitCount)
}

/// What the throttlers decided for one request: headers for the response and, when a window is
/// exceeded, the window that refused it.
package struct RateLimitVerdict: Sendable {
    package var headers: [(String, String)] = []
    package var exceeded: RateLimitWindow?
    package var retryAfterSeconds = 0
}

/// OpenWA's throttler guard: every window counts each request per route and client address;
/// the first window over its limit refuses the request with 429 (later windows are then not
/// counted, as in NestJS's guard).
package struct RateLimiter: Sendable {
    package let windows: [RateLimitWindow]
    private let storage: RateLimitStorage
    private let clock: @Sendable () -> Int64
    /// Each window's header names and counter-key prefix, built once: every request of the API
    /// goes through here on the reactor thread, so it builds no string it can avoid.
    private let names: [WindowNames]

    private struct WindowNames: Sendable {
        let counterPrefix, limit, remaining, reset, retryAfter: String

        init(_ window: RateLimitWindow) {
            counterPrefix = window.name + "|"
            limit = "X-RateLimit-Limit-" + window.name
            remaining = "X-RateLimit-Remaining-" + window.name
            reset = "X-RateLimit-Reset-" + window.name
            retryAfter = "Retry-After-" + window.name
        }
    }

    /// - Parameter clock: milliseconds on the same clock as the storage's reset times.
    package init(windows: [RateLimitWindow], storage: RateLimitStorage, clock: @escaping @Sendable () -> Int64) {
        self.windows = windows
        self.storage = storage
        self.clock = clock
        self.names = windows.map(WindowNames.init)
    }

    /// Health probes and the metrics scrape are never throttled (reference 1.4).
    package static func isExempt(_ route: Route) -> Bool {
        route.pattern == "/api/metrics" || route.pattern == "/api/health" || route.pattern.hasPrefix("/api/health/")
    }

    /// The counter key: the route handler and the client, IPv6 clients by their /64.
    package static func key(route: Route, clientIP: String) -> String {
        "\(route.method) \(route.pattern)|\(ClientNetwork.throttleKey(clientIP))"
    }

    /// The verdict without suspending, or nil when the storage must be awaited.
    package func checkNow(key: String) -> RateLimitVerdict? {
        guard case .local(let increment) = storage else { return nil }
        var verdict = RateLimitVerdict()
        verdict.headers.reserveCapacity(3 * windows.count + 2)
        let now = clock()
        for (index, window) in windows.enumerated() {
            let hit = increment(names[index].counterPrefix + key, window.ttlMilliseconds)
            if apply(hit, index, now: now, to: &verdict) { break }
        }
        return verdict
    }

    /// The verdict, awaiting the storage when it is shared.
    package func check(key: String) async -> RateLimitVerdict {
        switch storage {
        case .local:
            return checkNow(key: key) ?? RateLimitVerdict()
        case .shared(let increment):
            var verdict = RateLimitVerdict()
            for (index, window) in windows.enumerated() {
                let hit = await increment(names[index].counterPrefix + key, window.ttlMilliseconds)
                if apply(hit, index, now: clock(), to: &verdict) { break }
            }
            return verdict
        }
    }

    /// Adds the headers of window `index` (each throttler counts apart under its own name, even
    /// when two have the same length); true when it refuses the request. Reset and Retry-After
    /// are whole seconds, rounded up (NestJS's throttler).
    private func apply(_ hit: RateLimitCount, _ index: Int, now: Int64, to verdict: inout RateLimitVerdict) -> Bool {
        let (window, names) = (windows[index], names[index])
        let untilReset = max(0, hit.resetAtMilliseconds - now)
        let seconds = Int((untilReset + 999) / 1_000)
        verdict.headers.append((names.limit, String(window.limit)))
        verdict.headers.append((names.remaining, String(max(0, window.limit - hit.count))))
        verdict.headers.append((names.reset, String(seconds)))
        guard hit.count > window.limit else { return false }
        verdict.headers.append((names.retryAfter, String(seconds)))
        verdict.headers.append(("Retry-After", String(seconds)))
        verdict.exceeded = window
        verdict.retryAfterSeconds = seconds
        return true
    }
}

/// Client addresses as throttling and audit sampling see them.
package enum ClientNetwork {
    /// IPv4 addresses as they are; IPv6 addresses by their /64 (one subscriber usually holds a
    /// whole /64, so counting single addresses would let it rotate past the limit).
    package static func throttleKey(_ address: String) -> String {
        guard address.contains(":") else { return address }
        if address.lowercased().hasPrefix("::ffff:"), address.contains(".") { return String(address.dropFirst(7)) }
        let halves = address.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        let head = halves[0].split(separator: ":").map(String.init)
        let tail = halves.count > 1 ? halves[1].split(separator: ":").map(String.init) : []
        let zeros = Array(repeating: "0", count: max(0, 8 - head.count - tail.count))
        let groups = head + zeros + tail
        let prefix = groups.prefix(4).map { group -> String in
            let trimmed = group.drop { $0 == "0" }
            return trimmed.isEmpty ? "0" : trimmed.lowercased()
        }
        return prefix.joined(separator: ":") + "::/64"
    }
}
