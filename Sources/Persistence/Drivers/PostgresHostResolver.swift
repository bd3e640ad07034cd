import Glibc

/// Turns `DATABASE_HOST` into an address for libpq's `hostaddr`, so that libpq never resolves
/// a name itself: its lookup is a blocking `getaddrinfo` inside `PQconnectStart`, which would
/// stall the reactor thread.
enum PostgresHostResolver {
    /// False for IP literals and Unix-socket directories (a leading `/`), which need no lookup.
    static func needsLookup(_ host: String) -> Bool {
        !host.hasPrefix("/") && literalAddress(host) == nil
    }

    /// The host itself when it is an IPv4 or IPv6 literal.
    static func literalAddress(_ host: String) -> String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 { return host }
        return nil
    }

    /// The first address `getaddrinfo` gives for `host` (IPv4 preferred, as "localhost" should
    /// reach a server listening on 127.0.0.1). Blocking: call it on a worker lane.
    static func resolve(_ host: String) throws -> String {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let list else {
            throw PersistenceError.unavailable(
                database: "postgres", reason: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var candidates: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let text = numericHost(current.pointee) {
                if current.pointee.ai_family == AF_INET { return text }
                candidates.append(text)
            }
            entry = current.pointee.ai_next
        }
        guard let first = candidates.first else {
            throw PersistenceError.unavailable(database: "postgres", reason: "no address for \(host)")
        }
        return first
    }

    private static func numericHost(_ info: addrinfo) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status = getnameinfo(
            info.ai_addr, info.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
        guard status == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
