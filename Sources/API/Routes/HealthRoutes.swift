import Reactor
import Engines
import Foundation
import Synchronization

/// `/api/health`, `/api/health/live`, `/api/health/ready` (reference sections 2.1 and 8).
package enum HealthRoutes {
    package static func routes(readiness: ReadinessService) -> [Route] {
        let timestamps = TimestampCache()
        return [
            Route(
                "GET", "/api/health", access: .openWithOptionalKey,
                handler: .immediate { context in
                    var body: [(String, JSONValue)] = [("status", "ok"), ("timestamp", .string(timestamps.now()))]
                    // The version helps attackers pick exploits, so only key holders see it.
                    if context.apiKey != nil { body.append(("version", .string(GatewayInfo.version))) }
                    return .json(.object(body))
                }),
            Route("GET", "/api/health/live", access: .open, handler: .immediate { _ in .json(["status": "ok"]) }),
            Route(
                "GET", "/api/health/ready", access: .open,
                handler: .task { _ in
                    let verdict = await readiness.check()
                    return readinessResponse(verdict)
                }),
        ]
    }

    /// The raw Terminus-style body (no error wrapper), 503 unless everything is up.
    static func readinessResponse(_ verdict: Readiness) -> APIResponse {
        func state(_ up: Bool) -> JSONValue { ["status": .string(up ? "up" : "down")] }
        switch verdict {
        case .ready:
            return .json(["status": "ok", "details": ["mainDatabase": state(true), "dataDatabase": state(true)]])
        case .degraded(let mainUp, let dataUp):
            return .json(
                ["status": "error", "details": ["mainDatabase": state(mainUp), "dataDatabase": state(dataUp)]], status: 503)
        case .draining:
            return .json(["status": "error", "details": ["shutdown": ["status": "draining"]]], status: 503)
        }
    }
}

/// The current time in ISO form, formatted at most once per millisecond: probes hammer the
/// health route, and formatting a date costs more than the rest of the response.
final class TimestampCache: Sendable {
    private let last = Mutex<(milliseconds: Int64, text: String)>((-1, ""))

    func now() -> String {
        let date = Date()
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        if let cached = last.withLock({ $0.milliseconds == milliseconds ? $0.text : nil }) { return cached }
        let text = ISODate.format(date)
        last.withLock { $0 = (milliseconds, text) }
        return text
    }
}
