import Foundation
import Testing
import TestSupport

/// The real binary configured through OpenWA's variables: throttlers, metrics and audit.
@Suite(.timeLimit(.minutes(2))) struct GatewayLimitsTests {
    @Test func rateLimitsMetricsAndAuditFromTheEnvironment() async throws {
        let key = "master-key-for-the-limits-test-00000"
        let gateway = try GatewayProcess(environment: [
            "API_MASTER_KEY": key, "METRICS_TOKEN": "scrape-token", "RATE_LIMIT_SHORT_LIMIT": "2",
            "RATE_LIMIT_SHORT_TTL": "60000", "AUDIT_RETENTION_DAYS": "30",
        ])
        defer { gateway.cleanUp() }
        let port = try await gateway.waitForPort()

        let first = try #require(try await gateway.request("GET", "/api/sessions", port: port, key: key))
        #expect(first.status == 200)
        #expect(first.header("X-RateLimit-Limit-short") == "2")
        #expect(first.header("X-RateLimit-Limit-medium") == "100000")
        #expect(try await gateway.request("GET", "/api/sessions", port: port, key: key)?.status == 200)
        let refused = try #require(try await gateway.request("GET", "/api/sessions", port: port, key: key))
        #expect(refused.status == 429)
        #expect(refused.header("Retry-After-short") != nil && refused.header("Retry-After") != nil)

        let bearer = [("Authorization", "Bearer scrape-token")]
        #expect(try await gateway.request("GET", "/api/metrics", port: port)?.status == 401)
        let metrics = try #require(try await gateway.request("GET", "/api/metrics", port: port, headers: bearer))
        #expect(metrics.status == 200)
        #expect(metrics.text.contains(#"http_requests_total{method="GET",route="/api/sessions",status="429"} 1"#))
        #expect(metrics.text.contains("openwa_event_loop_delay_p99_seconds "))
        #expect(metrics.text.contains("openwa_worker_queue_depth "))

        // The audit row is written in the background; a short bounded wait for it.
        var total: Int?
        for _ in 0..<100 where total != 1 {
            let audit = try await gateway.request("GET", "/api/audit?action=rate_limit_exceeded", port: port, key: key)
            total = audit?.object["total"] as? Int
            if total != 1 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(total == 1)

        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(seconds: 30) == 0)
    }

    @Test func metricsAreOffWithoutAToken() async throws {
        let gateway = try GatewayProcess(environment: [:])
        defer { gateway.cleanUp() }
        let port = try await gateway.waitForPort()
        #expect(try await gateway.request("GET", "/api/metrics", port: port)?.status == 404)
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit(seconds: 30) == 0)
    }
}
