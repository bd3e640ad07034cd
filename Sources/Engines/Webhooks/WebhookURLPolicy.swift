import Foundation
import Reactor

/// Which webhook URLs may be called (reference 4.6, 5.5): http or https, at most 2048
/// characters, no embedded credentials, and, while SSRF protection is on, no address in
/// loopback, private, link-local, CGNAT, multicast or metadata ranges unless the host is on
/// the allow list. Names are resolved on a worker (DNS blocks) and every address must pass.
package struct WebhookURLPolicy: Sendable {
    package var protect: Bool
    /// `SSRF_ALLOWED_HOSTS`: names or addresses always allowed.
    package var allowedHosts: Set<String>

    /// Resolves a name to numeric addresses; blocking, so it is called on a worker.
    /// `Socket.resolve` (getaddrinfo) unless a test stands in for DNS.
    package var resolve: @Sendable (_ host: String, _ port: Int) throws -> [String]

    package init(
        protect: Bool = true, allowedHosts: Set<String> = [],
        resolve: @escaping @Sendable (_ host: String, _ port: Int) throws -> [String] = { host, port in
            try Socket.resolve(host: host, port: port).map(\.description)
        }
    ) {
        self.protect = protect
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.resolve = resolve
    }

    /// A webhook destination split for our HTTP client.
    package struct Target: Sendable, Equatable {
        package var host: String
        package var port: Int
        package var target: String
        package var isSecure: Bool
    }

    /// Parses `url` into a target; throws the validation message OpenWA gives.
    package static func parse(_ url: String) throws(EngineError) -> Target {
        guard url.count <= 2_048 else { throw .invalid("url must be shorter than or equal to 2048 characters") }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { throw .invalid("url must be a URL address with http or https protocol") }
        guard components.user == nil, components.password == nil else { throw .invalid("url must not contain credentials") }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let query = components.percentEncodedQuery.map { "?" + $0 } ?? ""
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return Target(
            host: bare.lowercased(), port: components.port ?? (scheme == "https" ? 443 : 80), target: path + query,
            isSecure: scheme == "https")
    }

    /// Checks the target's addresses (`resolve` runs on a worker lane for names) and returns
    /// them, so the caller can connect to what was checked rather than resolve the name again
    /// (a DNS rebind could answer with a private address the second time). Empty when nothing
    /// was checked: protection is off or the host is on the allow list.
    @discardableResult
    package func check(_ target: Target, workers: WorkerPool) async throws(EngineError) -> [String] {
        guard protect, !allowedHosts.contains(target.host) else { return [] }
        let addresses: [String]
        if let numeric = try? Socket.resolve(host: target.host, port: target.port, numericOnly: true) {
            addresses = numeric.map(\.description)
        } else {
            let (host, port, resolve) = (target.host, target.port, self.resolve)
            let resolved: [String]? = await withCheckedContinuation { continuation in
                workers.anyLane().submit({ try resolve(host, port) }) {
                    continuation.resume(returning: try? $0.get())
                }
            }
            guard let resolved, !resolved.isEmpty else { throw .invalid("url host \(target.host) could not be resolved") }
            addresses = resolved
        }
        if let blocked = addresses.first(where: { Self.isInternal($0) && !allowedHosts.contains($0) }) {
            throw .invalid("url resolves to a private or reserved address (\(blocked)); refused by SSRF protection")
        }
        return addresses
    }

    /// Loopback, private, link-local, CGNAT, multicast, unspecified and metadata addresses.
    static func isInternal(_ address: String) -> Bool {
        if address.contains(":") {
            let lower = address.lowercased()
            if lower == "::1" || lower == "::" { return true }
            if lower.hasPrefix("::ffff:") { return isInternal(String(lower.dropFirst(7))) }
            return lower.hasPrefix("fc") || lower.hasPrefix("fd") || lower.hasPrefix("fe8") || lower.hasPrefix("fe9")
                || lower.hasPrefix("fea") || lower.hasPrefix("feb") || lower.hasPrefix("ff")
        }
        let octets = address.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return true }
        switch (octets[0], octets[1]) {
        case (0, _), (10, _), (127, _), (169, 254), (192, 168): return true
        case (172, 16...31), (100, 64...127), (198, 18...19): return true
        case (224...255, _): return true
        default: return false
        }
    }
}
