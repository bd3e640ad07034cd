/// An element of GF(2^255 − 19), the field under both Curve25519 and Edwards25519.
///
/// libsodium offers Edwards point and scalar operations but no way to turn a Montgomery u-coordinate into an
/// Edwards y-coordinate, which XEdDSA verification needs: y = (u − 1) / (u + 1). That takes one inversion
/// and a few multiplications, so this is the minimum for that: radix-2^51 limbs with 128-bit products (the
/// "donna 64-bit" representation), no constant-time claims beyond what the callers need. Both callers work
/// on public keys only, so timing here leaks nothing secret.
struct Field25519: Equatable {
    private static let mask: UInt64 = (1 << 51) - 1

    // Limbs little-endian: value = l0 + l1·2^51 + l2·2^102 + l3·2^153 + l4·2^204, each limb kept below ~2^52.
    private var l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64, l4: UInt64

    static let zero = Field25519(0, 0, 0, 0, 0)
    static let one = Field25519(1, 0, 0, 0, 0)

    private init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64, _ l4: UInt64) {
        (self.l0, self.l1, self.l2, self.l3, self.l4) = (l0, l1, l2, l3, l4)
    }

    /// Reads 32 little-endian bytes, ignoring bit 255 as RFC 7748 requires; values ≥ p are taken mod p.
    init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        func word(_ index: Int) -> UInt64 {
            var value: UInt64 = 0
            for offset in (0..<8).reversed() { value = value << 8 | UInt64(bytes[index * 8 + offset]) }
            return value
        }
        let (w0, w1, w2, w3) = (word(0), word(1), word(2), word(3))
        self.init(
            w0 & Self.mask, (w0 >> 51 | w1 << 13) & Self.mask, (w1 >> 38 | w2 << 26) & Self.mask,
            (w2 >> 25 | w3 << 39) & Self.mask, (w3 >> 12) & Self.mask)
    }

    /// The canonical (fully reduced, < p) 32-byte little-endian encoding.
    var bytes: [UInt8] {
        var h = self.carried()
        // h < 2^255 + small here; subtract p once if h ≥ p. q = 1 exactly when h + 19 overflows 2^255.
        var q = (h.l0 + 19) >> 51
        q = (h.l1 + q) >> 51
        q = (h.l2 + q) >> 51
        q = (h.l3 + q) >> 51
        q = (h.l4 + q) >> 51
        h.l0 += 19 * q
        h.l1 += h.l0 >> 51
        h.l0 &= Self.mask
        h.l2 += h.l1 >> 51
        h.l1 &= Self.mask
        h.l3 += h.l2 >> 51
        h.l2 &= Self.mask
        h.l4 += h.l3 >> 51
        h.l3 &= Self.mask
        h.l4 &= Self.mask  // drops the 2^255 that the +19q carried out, i.e. subtracts p
        let words = [h.l0 | h.l1 << 51, h.l1 >> 13 | h.l2 << 38, h.l2 >> 26 | h.l3 << 25, h.l3 >> 39 | h.l4 << 12]
        var out = [UInt8](repeating: 0, count: 32)
        for (index, word) in words.enumerated() {
            for offset in 0..<8 { out[index * 8 + offset] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(offset))) }
        }
        return out
    }

    // MARK: - Arithmetic

    static func + (a: Field25519, b: Field25519) -> Field25519 {
        Field25519(a.l0 + b.l0, a.l1 + b.l1, a.l2 + b.l2, a.l3 + b.l3, a.l4 + b.l4).carried()
    }

    static func - (a: Field25519, b: Field25519) -> Field25519 {
        // Adds 2p first so no limb underflows; both inputs are carried, so every limb is below 2^52 − 38.
        let a = a.carried()
        let b = b.carried()
        return Field25519(
            a.l0 + 0xF_FFFF_FFFF_FFDA - b.l0, a.l1 + 0xF_FFFF_FFFF_FFFE - b.l1, a.l2 + 0xF_FFFF_FFFF_FFFE - b.l2,
            a.l3 + 0xF_FFFF_FFFF_FFFE - b.l3, a.l4 + 0xF_FFFF_FFFF_FFFE - b.l4
        ).carried()
    }

    static func * (a: Field25519, b: Field25519) -> Field25519 {
        let (a0, a1, a2, a3, a4) = (UInt128(a.l0), UInt128(a.l1), UInt128(a.l2), UInt128(a.l3), UInt128(a.l4))
        let (b0, b1, b2, b3, b4) = (UInt128(b.l0), UInt128(b.l1), UInt128(b.l2), UInt128(b.l3), UInt128(b.l4))
        // 2^255 ≡ 19, so limb products that land at 2^255 and above fold back multiplied by 19.
        let (c1, c2, c3, c4) = (b1 * 19, b2 * 19, b3 * 19, b4 * 19)
        var r0 = a0 * b0 + a1 * c4 + a2 * c3 + a3 * c2 + a4 * c1
        var r1 = a0 * b1 + a1 * b0 + a2 * c4 + a3 * c3 + a4 * c2
        var r2 = a0 * b2 + a1 * b1 + a2 * b0 + a3 * c4 + a4 * c3
        var r3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0 + a4 * c4
        var r4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0
        let wideMask = UInt128(mask)
        r1 += r0 >> 51
        r0 &= wideMask
        r2 += r1 >> 51
        r1 &= wideMask
        r3 += r2 >> 51
        r2 &= wideMask
        r4 += r3 >> 51
        r3 &= wideMask
        r0 += (r4 >> 51) * 19
        r4 &= wideMask
        r1 += r0 >> 51
        r0 &= wideMask
        return Field25519(UInt64(r0), UInt64(r1), UInt64(r2), UInt64(r3), UInt64(r4))
    }

    /// self^(2^count), by repeated squaring.
    private func squared(times count: Int) -> Field25519 {
        var result = self
        for _ in 0..<count { result = result * result }
        return result
    }

    /// The multiplicative inverse, as self^(p − 2) (Fermat); zero maps to zero.
    ///
    /// p − 2 = 2^255 − 21; the addition chain is the classic one from the ref10 code (254 squarings,
    /// 11 multiplications).
    var inverse: Field25519 {
        let z = self
        let z2 = z * z
        let z9 = z2.squared(times: 2) * z
        let z11 = z9 * z2
        let z2_5_0 = (z11 * z11) * z9
        let z2_10_0 = z2_5_0.squared(times: 5) * z2_5_0
        let z2_20_0 = z2_10_0.squared(times: 10) * z2_10_0
        let z2_40_0 = z2_20_0.squared(times: 20) * z2_20_0
        let z2_50_0 = z2_40_0.squared(times: 10) * z2_10_0
        let z2_100_0 = z2_50_0.squared(times: 50) * z2_50_0
        let z2_200_0 = z2_100_0.squared(times: 100) * z2_100_0
        let z2_250_0 = z2_200_0.squared(times: 50) * z2_50_0
        return z2_250_0.squared(times: 5) * z11
    }

    /// Whether the element is zero mod p.
    var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    static func == (a: Field25519, b: Field25519) -> Bool { a.bytes == b.bytes }

    /// Propagates carries so every limb is below 2^51 (plus a tiny excess in l0 from the 19·carry fold).
    private func carried() -> Field25519 {
        var h = self
        h.l1 += h.l0 >> 51
        h.l0 &= Self.mask
        h.l2 += h.l1 >> 51
        h.l1 &= Self.mask
        h.l3 += h.l2 >> 51
        h.l2 &= Self.mask
        h.l4 += h.l3 >> 51
        h.l3 &= Self.mask
        h.l0 += (h.l4 >> 51) * 19
        h.l4 &= Self.mask
        h.l1 += h.l0 >> 51
        h.l0 &= Self.mask
        return h
    }
}
