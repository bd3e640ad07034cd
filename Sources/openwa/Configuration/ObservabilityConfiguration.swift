import API

/// Rate limits (reference 1.4 and 4.7), metrics (8.4) and audit retention (7.4).
struct ObservabilityConfiguration: Sendable {
    /// `RATE_LIMIT_{SHORT,MEDIUM,LONG}_{TTL,LIMIT}`: the throttler windows, in that order.
    var rateLimits = RateLimitWindow.defaults
    /// `METRICS_TOKEN`: the bearer token of `GET /api/metrics`; nil (unset) disables it.
    var metricsToken: String?
    /// `AUDIT_RETENTION_DAYS` (90); 0 or less keeps audit rows forever.
    var auditRetentionDays = 90
    /// `STATS_CACHE_TTL_MS` (30000): how long database-derived metrics are reused.
    var statsCacheMilliseconds = 30_000

    static func load(_ read: ConfigurationReader) throws -> ObservabilityConfiguration {
        var configuration = ObservabilityConfiguration()
        // OpenWA has no switch to turn the throttlers off; very large limits do it in effect.
        configuration.rateLimits = try RateLimitWindow.defaults.map { window in
            let prefix = "RATE_LIMIT_\(window.name.uppercased())"
            return RateLimitWindow(
                name: window.name,
                ttlMilliseconds: try read.integer("\(prefix)_TTL", default: window.ttlMilliseconds, range: 1...604_800_000),
                limit: try read.integer("\(prefix)_LIMIT", default: window.limit, range: 1...1_000_000_000))
        }
        configuration.metricsToken = read.optionalString("METRICS_TOKEN").flatMap { $0.isEmpty ? nil : $0 }
        // "≤0 disables": a negative value is accepted as a way of saying "off".
        if let days = read.optionalString("AUDIT_RETENTION_DAYS"), days.hasPrefix("-"), Int(days) != nil {
            configuration.auditRetentionDays = 0
        } else {
            configuration.auditRetentionDays = try read.integer("AUDIT_RETENTION_DAYS", default: 90, range: 0...36_500)
        }
        configuration.statsCacheMilliseconds = try read.integer("STATS_CACHE_TTL_MS", default: 30_000, range: 0...86_400_000)
        return configuration
    }
}
