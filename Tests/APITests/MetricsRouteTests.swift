import API
import Engines
import Foundation
import Reactor
import Testing
import TestSupport

/// `GET /api/metrics` through real sockets (reference 2.1 and 8.4).
@Suite(.timeLimit(.minutes(1))) struct MetricsRouteTests {
    private let bearer = [("Authorization", "Bearer scrape-token")]

    @Test func withoutATokenTheEndpointDoesNotExist() async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("GET", "/api/metrics", key: nil, headers: bearer)
        #expect(response.status == 404)
        #expect(response.object["message"] as? String == "Metrics endpoint is disabled (set METRICS_TOKEN to enable)")
        await gateway.stop()
    }

    @Test func aWrongOrMissingTokenIs401AndTenFailuresA429() async throws {
        let gateway = try await TestGateway.start(limits: TestLimits(metricsToken: "scrape-token"))
        let missing = try await gateway.request("GET", "/api/metrics", key: nil)
        #expect(missing.status == 401)
        #expect(missing.object["message"] as? String == "Invalid metrics token")
        // An API key is not a metrics token, even the admin's.
        #expect(try await gateway.request("GET", "/api/metrics").status == 401)
        for _ in 0..<8 {
            let wrong = try await gateway.request("GET", "/api/metrics", key: nil, headers: [("Authorization", "Bearer scrape-tokem")])
            #expect(wrong.status == 401)
        }
        let blocked = try await gateway.request("GET", "/api/metrics", key: nil, headers: bearer)
        #expect(blocked.status == 429, "ten failures in a minute lock the client out, right token or not")
        await gateway.stop()
    }

    @Test func exposesOpenWANamesAndOursAndTheyMove() async throws {
        let gateway = try await TestGateway.start(limits: TestLimits(metricsToken: "scrape-token"))
        _ = try await gateway.request("GET", "/api/sessions")
        _ = try await gateway.request("GET", "/api/sessions")
        _ = try await gateway.request("GET", "/api/nowhere")
        let first = try await gateway.request("GET", "/api/metrics", key: nil, headers: bearer)
        #expect(first.status == 200)
        #expect(first.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(first.header("Cache-Control") == "no-store")
        let text = first.text
        for name in [
            "openwa_up", "openwa_process_uptime_seconds", "openwa_process_resident_memory_bytes",
            "openwa_event_loop_delay_p99_seconds", "openwa_event_loop_delay_max_seconds", "openwa_reactor_loop_lag_seconds",
            "openwa_worker_threads", "openwa_worker_queue_depth", "openwa_live_links", "openwa_stats_available",
            "openwa_sessions_total", "openwa_sessions_active", "openwa_sessions", "http_requests_total",
            "http_request_duration_seconds",
        ] {
            #expect(text.contains("# TYPE \(name) "), "\(name) missing")
        }
        #expect(sample(text, "openwa_up") == 1)
        #expect(sample(text, "openwa_worker_threads") == 2)
        #expect(sample(text, "openwa_sessions_total") == 0)
        #expect(sample(text, #"http_requests_total{method="GET",route="/api/sessions",status="200"}"#) == 2)
        #expect(sample(text, #"http_requests_total{method="GET",route="unmatched",status="404"}"#) == 1)
        #expect(sample(text, #"http_request_duration_seconds_count{method="GET",route="/api/sessions"}"#) == 2)
        #expect(sample(text, #"http_request_duration_seconds_bucket{method="GET",route="/api/sessions",le="+Inf"}"#) == 2)
        #expect((sample(text, "openwa_process_resident_memory_bytes") ?? 0) > 1_000_000)

        _ = try await gateway.request("POST", "/api/sessions", body: #"{"name":"metered"}"#)
        _ = try await gateway.request("GET", "/api/sessions")
        let second = try await gateway.request("GET", "/api/metrics", key: nil, headers: bearer).text
        #expect(sample(second, #"http_requests_total{method="GET",route="/api/sessions",status="200"}"#) == 3)
        #expect(sample(second, #"http_requests_total{method="POST",route="/api/sessions",status="201"}"#) == 1)
        #expect(sample(second, #"http_requests_total{method="GET",route="/api/metrics",status="200"}"#) == 1)
        #expect(sample(second, "openwa_sessions_total") == 1)
        #expect(sample(second, #"openwa_sessions{status="created"}"#) == 1)
        #expect(sample(second, "openwa_live_links") == 0)
        await gateway.stop()
    }

    @Test func theLoopLagProbeSamplesWhileMetricsAreOn() async throws {
        let gateway = try await TestGateway.start(limits: TestLimits(metricsToken: "scrape-token", loopLagIntervalMilliseconds: 5))
        let samples = try await eventually({ gateway.loopLag.samples }, until: { $0 >= 3 })
        #expect(samples >= 3)
        #expect(gateway.loopLag.maxSeconds >= gateway.loopLag.p99Seconds)
        await gateway.stop()
    }

    @Test func otherFeaturesRegisterTheirOwnSeries() async throws {
        let gateway = try await TestGateway.start(limits: TestLimits(metricsToken: "scrape-token"))
        let depth = gateway.registry.gauge("openwa_webhook_outbox_depth", help: "Outbox rows waiting.")
        let latency = gateway.registry.histogram(
            "openwa_webhook_delivery_seconds", help: "Delivery latency.", labelNames: ["outcome"], bounds: [0.1, 1])
        depth.set(7)
        latency.labels("delivered").observe(0.05)
        latency.labels("delivered").observe(0.5)
        let text = try await gateway.request("GET", "/api/metrics", key: nil, headers: bearer).text
        #expect(sample(text, "openwa_webhook_outbox_depth") == 7)
        #expect(sample(text, #"openwa_webhook_delivery_seconds_bucket{outcome="delivered",le="0.1"}"#) == 1)
        #expect(sample(text, #"openwa_webhook_delivery_seconds_bucket{outcome="delivered",le="1"}"#) == 2)
        #expect(sample(text, #"openwa_webhook_delivery_seconds_sum{outcome="delivered"}"#) == 0.55)
        await gateway.stop()
    }

    /// The value of the sample line that starts with `series` (name plus labels, exactly).
    private func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
