import Engines
import Foundation
import Reactor
import Synchronization

/// `GET /api/metrics` (reference 2.1 and 8.4): Prometheus text behind its own bearer token
/// (`METRICS_TOKEN`), outside API-key authentication and rate limiting.
package enum MetricsRoutes {
    /// - Parameter token: nil disables the endpoint (404).
    package static func routes(registry: MetricsRegistry, token: String?) -> [Route] {
        let failures = FailedAttempts(limit: 10, windowSeconds: 60)
        return [
            Route(
                "GET", "/api/metrics", access: .open,
                handler: .task { context in
                    guard let token else {
                        throw APIError.notFound("Metrics endpoint is disabled (set METRICS_TOKEN to enable)")
                    }
                    if failures.isBlocked(context.clientIP) {
                        throw APIError(status: 429, message: "Too many invalid metrics tokens; try again later")
                    }
                    guard let presented = bearerToken(context.request.head.headers),
                        constantTimeEqual(presented, token)
                    else {
                        failures.record(context.clientIP)
                        throw APIError.unauthorized("Invalid metrics token")
                    }
                    var response = APIResponse.bytes(
                        Array(await registry.render().utf8), contentType: PrometheusText.contentType)
                    response.headers.add("cache-control", "no-store")
                    return response
                }),
        ]
    }

    private static func bearerToken(_ headers: HTTPHeaders) -> String? {
        guard let authorization = headers["authorization"] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    /// Compares every byte whatever the first difference, so response time does not tell an
    /// attacker how much of a guess was right. (The length still shows; it is not the secret.)
    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }
}

/// Failed attempts per client in fixed windows: after `limit` failures the client
/// is refused until the window ends (OpenWA: 429 after 10 bad metrics tokens a minute).
final class FailedAttempts: Sendable {
    private struct Window {
        var start: Date
        var failures: Int
    }

    private let limit: Int
    private let windowSeconds: TimeInterval
    private let windows = Mutex<[String: Window]>([:])

    init(limit: Int, windowSeconds: TimeInterval) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    func isBlocked(_ client: String) -> Bool {
        let now = Date()
        return windows.withLock { windows in
            guard let window = windows[client], now.timeIntervalSince(window.start) < windowSeconds else { return false }
            return window.failures >= limit
        }
    }

    func record(_ client: String) {
        let now = Date()
        windows.withLock { windows in
            if windows.count >= 10_000 { windows = windows.filter { now.timeIntervalSince($0.value.start) < windowSeconds } }
            var window = windows[client] ?? Window(start: now, failures: 0)
            if now.timeIntervalSince(window.start) >= windowSeconds { window = Window(start: now, failures: 0) }
            window.failures += 1
            windows[client] = window
        }
    }
}
