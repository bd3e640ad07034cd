import Testing
@testable import API
import Reactor

/// The router's segment tree against the rule it stands for: routes tried in registration order,
/// the first whose pattern and method match wins; a path some route fits but no method does is a
/// 405 listing those methods, in order.
struct RouterTests {
    private static let patterns: [(String, String)] = [
        ("GET", "/api/health"), ("GET", "/api/sessions"), ("POST", "/api/sessions"), ("GET", "/api/sessions/stats"),
        ("GET", "/api/sessions/:id"), ("DELETE", "/api/sessions/:id"), ("POST", "/api/sessions/:id/start"),
        ("GET", "/api/sessions/:sessionId/messages"), ("POST", "/api/sessions/:sessionId/messages/send-text"),
        ("GET", "/api/sessions/:sessionId/messages/:chatId/:messageId/media"),
        ("GET", "/api/sessions/:sessionId/messages/:chatId/history"), ("GET", "/api/sessions/:sessionId/chats/:chatId"),
        ("PUT", "/api/sessions/:sessionId/chats/archived"), ("GET", "/api/:anything/chats/:chatId"),
        ("GET", "/api/webhooks/delivery-failures"), ("GET", "/api/webhooks/:id"), ("PATCH", "/api/webhooks/:id"),
    ]

    private static func router() -> (Router, [Route]) {
        var router = Router()
        let routes = patterns.map { method, pattern in
            Route(method, pattern, access: .open, handler: .immediate { _ in throw APIError(status: 500, message: .string(pattern)) })
        }
        router.add(contentsOf: routes)
        return (router, routes)
    }

    /// Every route tried in order, as the router promises to behave.
    private static func linear(_ routes: [Route], method: String, path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        for route in routes {
            guard let parameters = route.match(segments) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return "\(route.method) \(route.pattern) \(parameters.sorted { $0.key < $1.key })"
            }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? "404" : "405 \(allowed)"
    }

    private static func describe(_ outcome: Router.Outcome) -> String {
        switch outcome {
        case .matched(let route, let parameters): return "\(route.method) \(route.pattern) \(parameters.sorted { $0.key < $1.key })"
        case .methodNotAllowed(let allowed): return "405 \(allowed)"
        case .notFound: return "404"
        }
    }

    @Test func agreesWithTryingEveryRouteInOrder() {
        let (router, routes) = Self.router()
        let pieces = ["api", "sessions", "stats", "s1", "messages", "send-text", "chats", "archived", "c%40us", "m1", "media",
                      "history", "webhooks", "delivery-failures", "start", "%zz", "%00", ""]
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        for _ in 0..<5_000 {
            let count = Int.random(in: 1...6, using: &generator)
            var path = "/api"
            for _ in 1..<count { path += "/" + pieces.randomElement(using: &generator)! }
            for method in ["GET", "POST", "HEAD", "DELETE", "PUT", "PATCH"] {
                #expect(Self.describe(router.resolve(method: method, path: path)) == Self.linear(routes, method: method, path: path), "\(method) \(path)")
                checked += 1
            }
        }
        #expect(checked == 30_000)
    }

    @Test func literalsParametersAndMethods() {
        let (router, _) = Self.router()
        #expect(Self.describe(router.resolve(method: "GET", path: "/api/sessions/stats")) == "GET /api/sessions/stats []")
        #expect(Self.describe(router.resolve(method: "DELETE", path: "/api/sessions/stats")) == #"DELETE /api/sessions/:id [(key: "id", value: "stats")]"#)
        #expect(Self.describe(router.resolve(method: "GET", path: "/api/sessions/s1/chats/archived")) == #"GET /api/sessions/:sessionId/chats/:chatId [(key: "chatId", value: "archived"), (key: "sessionId", value: "s1")]"#)
        #expect(Self.describe(router.resolve(method: "POST", path: "/api/sessions/s1")) == #"405 ["GET", "DELETE"]"#)
        #expect(Self.describe(router.resolve(method: "GET", path: "/api/sessions/%00")) == "404")
        #expect(Self.describe(router.resolve(method: "HEAD", path: "/api/webhooks/w1")) == #"GET /api/webhooks/:id [(key: "id", value: "w1")]"#)
        #expect(Self.describe(router.resolve(method: "GET", path: "/api/nowhere")) == "404")
    }
}
