/// Format and version information (clauses 7.9 and 7.10, Annexes C and D): the BCH-coded words and where
/// they go in the symbol.
extension QRMatrix {
    /// Generator of the (15,5) format code: x^10 + x^8 + x^5 + x^4 + x^2 + x + 1.
    private static let formatGenerator = 0b101_0011_0111
    /// Generator of the (18,6) version code: x^12 + x^11 + x^10 + x^9 + x^8 + x^5 + x^2 + 1.
    private static let versionGenerator = 0b1_1111_0010_0101
    /// XORed into the format word so that no level and mask combination yields all zeros.
    private static let formatMask = 0b101_0100_0001_0010

    /// The 15-bit format word for a level and mask: 5 data bits, 10 BCH bits, then the 0x5412 mask.
    static func formatBits(errorCorrection: QRCode.ErrorCorrection, mask: Int) -> Int {
        let data = errorCorrection.formatBits << 3 | mask
        return (data << 10 | remainder(of: data << 10, generator: formatGenerator)) ^ formatMask
    }

    /// The 18-bit version word: 6 version bits, then 12 BCH bits. Only versions 7 and up carry one.
    static func versionBits(version: Int) -> Int {
        version << 12 | remainder(of: version << 12, generator: versionGenerator)
    }

    /// The remainder of polynomial division over GF(2), with bit n standing for x^n.
    private static func remainder(of dividend: Int, generator: Int) -> Int {
        let degree = Int.bitWidth - 1 - generator.leadingZeroBitCount
        var value = dividend
        var top = Int.bitWidth - 1 - value.leadingZeroBitCount
        while value != 0 && top >= degree {
            value ^= generator << (top - degree)
            top = Int.bitWidth - 1 - value.leadingZeroBitCount
        }
        return value
    }

    /// Writes the 15 format bits (already BCH-coded and masked; see `formatBits`) in both copies, plus the
    /// dark module that sits beside the lower-left copy (clause 7.9.1, Figure 25).
    ///
    /// Bit 14 is the most significant. Copy one runs along row 8 from the left edge (bits 14-9, then 8 past
    /// the timing column) and up column 8 (bit 7 on the corner, 6 past the timing row, then 5-0 to the top).
    /// Copy two puts bits 0-7 along row 8 from the right edge inwards and bits 8-14 down column 8 to the
    /// bottom edge.
    mutating func drawFormat(bits: Int) {
        func bit(_ index: Int) -> Bool { bits >> index & 1 == 1 }
        for index in 9...14 { setFunction(x: 14 - index, y: 8, dark: bit(index)) }
        setFunction(x: 7, y: 8, dark: bit(8))
        setFunction(x: 8, y: 8, dark: bit(7))
        setFunction(x: 8, y: 7, dark: bit(6))
        for index in 0...5 { setFunction(x: 8, y: index, dark: bit(index)) }

        for index in 0...7 { setFunction(x: size - 1 - index, y: 8, dark: bit(index)) }
        for index in 8...14 { setFunction(x: 8, y: size - 15 + index, dark: bit(index)) }
        setFunction(x: 8, y: size - 8, dark: true)
    }

    /// Writes the 18 version bits in the 6x3 block above the lower-left finder and its transpose left of
    /// the upper-right finder (clause 7.10, Figure 27). Bit 0 is in each block's corner nearest the
    /// origin, and bits advance across the block's short side first.
    mutating func drawVersion() {
        let bits = Self.versionBits(version: version)
        for index in 0..<18 {
            let dark = bits >> index & 1 == 1
            let along = index / 3
            let across = size - 11 + index % 3
            setFunction(x: along, y: across, dark: dark)
            setFunction(x: across, y: along, dark: dark)
        }
    }
}
