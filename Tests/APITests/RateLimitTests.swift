import API
import Engines
import Foundation
import Persistence
import Reactor
import Testing
import TestSupport

/// The HTTP throttlers through real sockets (reference 1.4): headers, 429, reset, exemptions,
/// per-route and per-client counting, Redis storage and its fail-open.
@Suite(.timeLimit(.minutes(1))) struct RateLimitTests {
    /// `short` 3 per second; the other two windows generous enough not to interfere.
    static let windows = [
        RateLimitWindow(name: "short", ttlMilliseconds: 1_000, limit: 3),
        RateLimitWindow(name: "medium", ttlMilliseconds: 60_000, limit: 100),
        RateLimitWindow(name: "long", ttlMilliseconds: 3_600_000, limit: 1_000),
    ]

    @Test func shortWindowRefusesTheFourthRequestAndResetsWithTheWindow() async throws {
        let limits = TestLimits(rateLimits: Self.windows)
        let gateway = try await TestGateway.start(limits: limits)
        try await checkShortWindow(gateway, clock: limits.clock)
        await gateway.stop()
    }

    @Test func exceedingIsAuditedOncePerClientAndMinute() async throws {
        let limits = TestLimits(rateLimits: Self.windows)
        let gateway = try await TestGateway.start(limits: limits)
        for _ in 0..<6 { _ = try await gateway.request("GET", "/api/sessions") }
        let rows = try await eventually({
            try await gateway.audit.list(AuditQuery(action: "rate_limit_exceeded"), limit: 10, offset: 0)
        }, until: { $0.total >= 1 })
        #expect(rows.total == 1, "sampled: three refusals, one row")
        let row = try #require(rows.records.first)
        #expect(row.severity == .warn)
        #expect(row.ipAddress == "127.0.0.1")
        #expect(row.path == "/api/sessions" && row.method == "GET" && row.statusCode == 429)
        #expect(row.metadata?["throttler"] == "short")
        await gateway.stop()
    }

    @Test func healthAndMetricsAreNeverThrottled() async throws {
        let tight = [RateLimitWindow(name: "short", ttlMilliseconds: 1_000, limit: 1)]
        let gateway = try await TestGateway.start(limits: TestLimits(rateLimits: tight, metricsToken: "scrape-token"))
        for path in ["/api/health", "/api/health/live", "/api/health/ready", "/api/metrics"] {
            for _ in 0..<4 {
                let response = try await gateway.request(
                    "GET", path, key: nil, headers: [("Authorization", "Bearer scrape-token")])
                #expect(response.status == 200, "\(path)")
                #expect(response.header("X-RateLimit-Limit-short") == nil, "\(path)")
            }
        }
        // A throttled route next to them still counts.
        #expect(try await gateway.request("GET", "/api/sessions").status == 200)
        #expect(try await gateway.request("GET", "/api/sessions").status == 429)
        await gateway.stop()
    }

    @Test func eachRouteAndEachClientHasItsOwnCount() async throws {
        let gateway = try await TestGateway.start(
            trustedProxies: [try #require(IPv4Range("127.0.0.1"))], limits: TestLimits(rateLimits: Self.windows))
        let alice = [("X-Forwarded-For", "203.0.113.1")]
        let bob = [("X-Forwarded-For", "203.0.113.2")]
        for _ in 0..<3 { #expect(try await gateway.request("GET", "/api/sessions", headers: alice).status == 200) }
        #expect(try await gateway.request("GET", "/api/sessions", headers: alice).status == 429)
        #expect(try await gateway.request("GET", "/api/sessions", headers: bob).status == 200, "another client")
        #expect(try await gateway.request("GET", "/api/auth/api-keys", headers: alice).status == 200, "another route")
        // `/api/sessions/:id` is one route whatever the id.
        for id in ["a", "b", "c"] { _ = try await gateway.request("GET", "/api/sessions/\(id)", headers: bob) }
        #expect(try await gateway.request("GET", "/api/sessions/d", headers: bob).status == 429)
        await gateway.stop()
    }

    @Test func windowsOfTheSameLengthCountApart() async throws {
        let twins = [
            RateLimitWindow(name: "short", ttlMilliseconds: 60_000, limit: 2),
            RateLimitWindow(name: "medium", ttlMilliseconds: 60_000, limit: 5),
        ]
        let gateway = try await TestGateway.start(limits: TestLimits(rateLimits: twins))
        let first = try await gateway.request("GET", "/api/sessions")
        #expect(first.header("X-RateLimit-Remaining-short") == "1")
        #expect(first.header("X-RateLimit-Remaining-medium") == "4")
        #expect(try await gateway.request("GET", "/api/sessions").status == 200)
        #expect(try await gateway.request("GET", "/api/sessions").status == 429)
        await gateway.stop()
    }

    @Test func ipv6ClientsAreCountedByTheirSlash64() {
        #expect(ClientNetwork.throttleKey("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(ClientNetwork.throttleKey("2001:0db8:0001:0002:ffff:0:0:9") == "2001:db8:1:2::/64")
        #expect(ClientNetwork.throttleKey("::1") == "0:0:0:0::/64")
        #expect(ClientNetwork.throttleKey("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(ClientNetwork.throttleKey("192.0.2.7") == "192.0.2.7")
    }

    /// Redis expires a window's key after the window's length in real time, whatever the test's
    /// clock says; minute-long windows keep a slow machine from expiring one mid-test.
    static let redisWindows = [
        RateLimitWindow(name: "short", ttlMilliseconds: 60_000, limit: 3),
        RateLimitWindow(name: "medium", ttlMilliseconds: 600_000, limit: 100),
        RateLimitWindow(name: "long", ttlMilliseconds: 3_600_000, limit: 1_000),
    ]

    @Test(.enabled(if: RedisTestEnvironment.isAvailable)) func redisCountsTheWindowsToo() async throws {
        let environment = try #require(RedisTestEnvironment.current)
        let limits = TestLimits(
            rateLimits: Self.redisWindows,
            // Generous timeouts: on a loaded machine a slow reply would fail open to memory and
            // the counts would restart, which is right for the gateway but not what this checks.
            redis: RedisConfiguration(
                host: environment.host, port: environment.port, connectTimeoutMilliseconds: 20_000,
                commandTimeoutMilliseconds: 20_000))
        let gateway = try await TestGateway.start(limits: limits)
        try await checkShortWindow(gateway, clock: limits.clock, length: 60_000)
        #expect(await gateway.redis?.isConnected() == true, "the counts went through Redis")
        await gateway.stop()
    }

    @Test func redisDownFailsOpenToCountingInMemory() async throws {
        // Nothing listens on port 1: every Redis command fails at once.
        let limits = TestLimits(
            rateLimits: Self.windows,
            redis: RedisConfiguration(host: "127.0.0.1", port: 1, connectTimeoutMilliseconds: 500, commandTimeoutMilliseconds: 500))
        let gateway = try await TestGateway.start(limits: limits)
        try await checkShortWindow(gateway, clock: limits.clock)
        #expect(await gateway.redis?.isConnected() == false)
        await gateway.stop()
    }

    /// Three requests pass with falling `Remaining`, the fourth is refused with OpenWA's headers
    /// and body, and the next window admits again.
    private func checkShortWindow(_ gateway: TestGateway, clock: TestMilliseconds, length: Int64 = 1_000) async throws {
        // What is left of the current short window, and the Reset header for it (rounded up).
        let left = length - clock.now % length
        let reset = "\((left + 999) / 1_000)"
        for remaining in [2, 1, 0] {
            let response = try await gateway.request("GET", "/api/sessions")
            #expect(response.status == 200)
            #expect(response.header("X-RateLimit-Limit-short") == "3")
            #expect(response.header("X-RateLimit-Remaining-short") == "\(remaining)")
            #expect(response.header("X-RateLimit-Reset-short") == reset)
            #expect(response.header("X-RateLimit-Limit-medium") == "100")
            #expect(response.header("X-RateLimit-Remaining-long") == "\(997 + remaining)")
            #expect(response.header("Retry-After") == nil)
        }
        let refused = try await gateway.request("GET", "/api/sessions")
        #expect(refused.status == 429)
        #expect(refused.object["statusCode"] as? Int == 429)
        #expect(refused.object["message"] as? String == "ThrottlerException: Too Many Requests")
        #expect(refused.header("Retry-After-short") == reset)
        #expect(refused.header("Retry-After") == reset)
        #expect(refused.header("X-RateLimit-Remaining-short") == "0")
        #expect(refused.header("x-request-id") != nil)

        clock.advance(left)
        let again = try await gateway.request("GET", "/api/sessions")
        #expect(again.status == 200, "a new short window")
        #expect(again.header("X-RateLimit-Remaining-short") == "2")
        #expect(again.header("X-RateLimit-Reset-short") == "\(length / 1_000)")
        // The refused request was not counted by the later windows (NestJS stops at the first).
        #expect(again.header("X-RateLimit-Remaining-medium") == "96")
    }
}

/// Retries `body` until it returns a value that `done` accepts (default: any), for effects
/// written in the background (audit rows). Bounded; not a timing assumption.
func eventually<T>(
    _ body: () async throws -> T, until done: (T) -> Bool = { _ in true }
) async throws -> T {
    var last = try await body()
    for _ in 0..<400 where !done(last) {
        try await Task.sleep(for: .milliseconds(10))
        last = try await body()
    }
    return last
}
