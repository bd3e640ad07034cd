import Reactor

/// Hex helpers for the known-answer tests; namespaced so they cannot collide with other suites' helpers.
enum CryptoVectors {
    /// Bytes of a lowercase/uppercase hex string; whitespace is ignored so long vectors can wrap.
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = hex.unicodeScalars.filter { !$0.properties.isWhitespace }.map { Character($0) }
        precondition(digits.count % 2 == 0, "odd hex length")
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            out.append(UInt8(String(digits[index...index + 1]), radix: 16)!)
            index += 2
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String { Crypto.hex(bytes) }

    /// A deterministic pseudo-random buffer (xorshift), for round-trip inputs.
    static func pseudoRandom(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        var out = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            out[index] = UInt8(truncatingIfNeeded: state)
        }
        return out
    }

    /// `bytes` with bit `bit` (0 = lowest of byte 0) flipped.
    static func flipping(_ bytes: [UInt8], bit: Int) -> [UInt8] {
        var copy = bytes
        copy[bit / 8] ^= 1 << UInt8(bit % 8)
        return copy
    }
}
