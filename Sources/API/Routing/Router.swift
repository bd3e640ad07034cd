/// Finds the route for a method and path; tells 404 (no such path) from 405 (path exists,
/// method does not).
///
/// Patterns are indexed in a tree of path segments (a literal child per name, one child for any
/// `:parameter`), so a request only tries the routes whose literals fit its path; among those,
/// the first registered that matches wins, as if every route were tried in order.
package struct Router: Sendable {
    package enum Outcome {
        case matched(Route, [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private struct Node: Sendable {
        var literals: [Substring: Int] = [:]
        var parameter: Int?
        /// Routes whose pattern ends here, by registration index.
        var routes: [Int] = []
    }

    private var routes: [Route] = []
    private var nodes = [Node()]
    /// Routes without parameters by method and exact path: the common case costs one lookup.
    private var exact: [String: [String: Route]] = [:]

    package init() {}

    package mutating func add(_ route: Route) {
        let index = routes.count
        routes.append(route)
        var node = 0
        for segment in route.segments {
            if segment.first == ":" {
                if nodes[node].parameter == nil {
                    nodes.append(Node())
                    nodes[node].parameter = nodes.count - 1
                }
                node = nodes[node].parameter!
            } else if let next = nodes[node].literals[segment] {
                node = next
            } else {
                nodes.append(Node())
                nodes[node].literals[segment] = nodes.count - 1
                node = nodes.count - 1
            }
        }
        nodes[node].routes.append(index)
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
        var candidates: [Int] = []
        collect(from: 0, depth: 0, segments, into: &candidates)
        if candidates.count > 1 { candidates.sort() }
        var allowed: [String] = []
        for index in candidates {
            let route = routes[index]
            // The full match still runs: it decodes the parameters and refuses empty or malformed ones.
            guard let parameters = route.match(segments) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .matched(route, parameters)
            }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    private func collect(from node: Int, depth: Int, _ segments: [Substring], into candidates: inout [Int]) {
        guard depth < segments.count else {
            candidates += nodes[node].routes
            return
        }
        if let next = nodes[node].literals[segments[depth]] { collect(from: next, depth: depth + 1, segments, into: &candidates) }
        if let next = nodes[node].parameter { collect(from: next, depth: depth + 1, segments, into: &candidates) }
    }
}
