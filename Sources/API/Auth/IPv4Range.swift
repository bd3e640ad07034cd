import Reactor
import Foundation
/// An IPv4 address or CIDR block, as accepted in `allowedIps` and `TRUSTED_PROXIES`.
package struct IPv4Range: Sendable, Equatable {
    package let network: UInt32
    package let prefixLength: Int

    /// Parses `a.b.c.d` or `a.b.c.d/n` (0 <= n <= 32); nil for anything else.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPv4Range.parseAddress(String(parts[0])) else { return nil }
        var length = 32
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...32).contains(parsed), parts[1].allSatisfy(\.isASCII) else { return nil }
            length = parsed
        }
        self.prefixLength = length
        self.network = address & IPv4Range.mask(length)
    }

    /// True when `address` (IPv4 text, or IPv4-mapped IPv6 `::ffff:a.b.c.d`) lies in this range.
    package func contains(_ address: String) -> Bool {
        var text = address
        if text.lowercased().hasPrefix("::ffff:") { text = String(text.dropFirst(7)) }
        guard let value = IPv4Range.parseAddress(text) else { return false }
        return value & IPv4Range.mask(prefixLength) == network
    }

    private static func mask(_ length: Int) -> UInt32 {
        length == 0 ? 0 : UInt32.max << UInt32(32 - length)
    }

    /// Strict dotted quad: four decimal octets, no leading zeros (they read as octal elsewhere).
    package static func parseAddress(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                octet.count == 1 || octet.first != "0", let number = UInt32(octet), number <= 255
            else { return nil }
            value = value << 8 | number
        }
        return value
    }
}

/// Which address a request comes from: the socket peer, or the nearest untrusted hop of
/// `X-Forwarded-For` when the peer is a trusted proxy.
package struct ClientAddressResolver: Sendable {
    private let trustedProxies: [IPv4Range]

    package init(trustedProxies: [IPv4Range]) {
        self.trustedProxies = trustedProxies
    }

    package func clientIP(peer: String, forwardedFor: String?) -> String {
        guard isTrusted(peer), let forwardedFor else { return peer }
        // Walk from the right: each hop appended by a trusted proxy is skipped; the first
        // untrusted one is the client as far as we can know.
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !isTrusted(hop) { return hop }
        return hops.first ?? peer
    }

    private func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
