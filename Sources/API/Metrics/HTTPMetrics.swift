import Reactor

/// `http_requests_total{method,route,status}` and `http_request_duration_seconds{method,route}`.
///
/// Responses finish on the reactor thread, so the per-label-set handles are cached in a table
/// only that thread touches: the hot path is a dictionary lookup and two atomic adds, with no
/// lock. A response finished elsewhere (nothing does today) goes through the families' own
/// locked lookup instead.
package final class HTTPMetrics: @unchecked Sendable {
    // `requestCache` and `durationCache` are read and written only on the reactor thread of
    // `handle` (checked by `handle.inReactorThread` before each use); everything else is
    // immutable or Sendable.
    private let handle: ReactorHandle
    private let requests: MetricFamily<Counter>
    private let durations: MetricFamily<Histogram>
    private var requestCache: [RequestLabels: Counter] = [:]
    private var durationCache: [RouteLabels: Histogram] = [:]

    private struct RouteLabels: Hashable {
        var method: String
        var route: String
    }

    private struct RequestLabels: Hashable {
        var route: RouteLabels
        var status: Int
    }

    /// The route label of requests that matched no route (their paths are unbounded, so they
    /// must not become label values).
    package static let unmatchedRoute = "unmatched"

    package init(registry: MetricsRegistry, handle: ReactorHandle) {
        self.handle = handle
        requests = registry.counter(
            "http_requests_total", help: "HTTP requests answered, by method, route pattern and status.",
            labelNames: ["method", "route", "status"])
        durations = registry.histogram(
            "http_request_duration_seconds", help: "Time from request to response, by method and route pattern.",
            labelNames: ["method", "route"])
    }

    /// Records one answered request.
    package func observe(method: String, route: String, status: Int, seconds: Double) {
        let labels = RouteLabels(method: method, route: route)
        guard handle.inReactorThread else {
            requests.labels(method, route, String(status)).increment()
            durations.labels(method, route).observe(seconds)
            return
        }
        let key = RequestLabels(route: labels, status: status)
        let counter: Counter
        if let cached = requestCache[key] {
            counter = cached
        } else {
            counter = requests.labels(method, route, String(status))
            requestCache[key] = counter
        }
        counter.increment()
        let histogram: Histogram
        if let cached = durationCache[labels] {
            histogram = cached
        } else {
            histogram = durations.labels(method, route)
            durationCache[labels] = histogram
        }
        histogram.observe(seconds)
    }
}
