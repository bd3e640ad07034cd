import Reactor

/// The order-independent "lattice" hash of an app-state collection (ref part 2 §7.5; whatsmeow
/// `appstate/lthash`): 64 little-endian 16-bit lanes, to which each live record's value MAC contributes
/// `HKDF(valueMAC, "WhatsApp Patch Integrity", 128, no salt)` lane-wise mod 2^16.
///
/// Adding and subtracting commute, so the state depends only on the set of live records, which is what lets
/// a patch be verified against a snapshot MAC without replaying history.
package struct LTHash: Sendable, Equatable {
    /// State size in bytes (64 lanes of 16 bits).
    package static let size = 128
    static let info = Array("WhatsApp Patch Integrity".utf8)

    /// The 128-byte state.
    package private(set) var bytes: [UInt8]

    /// The empty collection's hash: all zeros.
    package init() { bytes = [UInt8](repeating: 0, count: Self.size) }

    /// A stored state.
    package init(bytes: [UInt8]) throws(ProtocolError) {
        guard bytes.count == Self.size else { throw ProtocolError.malformed("LTHash state must be 128 bytes") }
        self.bytes = bytes
    }

    /// Adds the contribution of each value MAC.
    package mutating func add(_ valueMACs: some Sequence<[UInt8]>) {
        for mac in valueMACs { combine(Self.expand(mac), subtract: false) }
    }

    /// Removes the contribution of each value MAC.
    package mutating func subtract(_ valueMACs: some Sequence<[UInt8]>) {
        for mac in valueMACs { combine(Self.expand(mac), subtract: true) }
    }

    /// The patch rule: `hash − Σ H(removed) + Σ H(added)`; the order does not change the result.
    package mutating func apply(subtracting removed: some Sequence<[UInt8]>, adding added: some Sequence<[UInt8]>) {
        subtract(removed)
        add(added)
    }

    /// `H(x)`: the 128 bytes one value MAC contributes.
    package static func expand(_ valueMAC: [UInt8]) -> [UInt8] {
        Crypto.hkdfSHA256(ikm: valueMAC, info: info, count: size)
    }

    private mutating func combine(_ other: [UInt8], subtract: Bool) {
        for lane in stride(from: 0, to: Self.size, by: 2) {
            let current = UInt16(bytes[lane]) | UInt16(bytes[lane + 1]) << 8
            let operand = UInt16(other[lane]) | UInt16(other[lane + 1]) << 8
            let result = subtract ? current &- operand : current &+ operand
            bytes[lane] = UInt8(truncatingIfNeeded: result)
            bytes[lane + 1] = UInt8(truncatingIfNeeded: result >> 8)
        }
    }
}
