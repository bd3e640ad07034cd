/// Finds the route for a method and path; tells 404 (no such path) from 405 (path exists,
/// method does not).
package struct Router: Sendable {
    package enum Outcome {
        case matched(Route, [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private var routes: [Route] = []
    /// Routes without parameters by method and exact path: the common case costs one lookup.
    private var exact: [String: [String: Route]] = [:]

    package init() {}

    package mutating func add(_ route: Route) {
        routes.append(route)
        if !route.segments.contains(where: { $0.first == ":" }) {
            exact["/" + route.segments.joined(separator: "/"), default: [:]][route.method] = route
        }
    }

    package mutating func add(contentsOf more: [Route]) {
        for route in more { add(route) }
    }

    package func resolve(method: String, path: String) -> Outcome {
        if let byMethod = exact[path], let route = byMethod[method] ?? (method == "HEAD" ? byMethod["GET"] : nil) {
            return .matched(route, [:])
        }
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
