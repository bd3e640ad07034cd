/// Finds the route for a method and path; tells 404 (no such path) from 405 (path exists,
/// method does not).
package struct Router: Sendable {
    package enum Outcome {
        case matched(Route, [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private var routes: [Route] = []

    package init() {}

    package mutating func add(_ route: Route) {
        routes.append(route)
    }

    package mutating func add(contentsOf more: [Route]) {
        routes.append(contentsOf: more)
    }

    package func resolve(method: String, path: String) -> Outcome {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        for route in routes {
            guard let parameters = route.match(segments) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .matched(route, parameters)
            }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }
}
