/// The per-version facts of ISO/IEC 18004:2015 that the encoder looks up rather than derives: error
/// correction block structure (Table 9), alignment pattern centres (Annex E) and character count widths
/// (Table 3).
enum QRSpec {
    /// Error-correction codewords per block, by level (L, M, Q, H) then version; index 0 is unused.
    static let ecCodewordsPerBlock: [[Int]] = [
        [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
         28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
         26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
        [0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
         28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
         30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    ]

    /// Number of error-correction blocks (both groups together), by level then version; index 0 is unused.
    static let blockCount: [[Int]] = [
        [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
         8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
        [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
         17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
        [0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
         23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
        [0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
         25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
    ]

    /// Row/column coordinates of alignment pattern centres, by version; every pairing is a centre except
    /// the three that would overlap a finder pattern.
    static let alignmentCenters: [[Int]] = [
        [], [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
        [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50], [6, 30, 54], [6, 32, 58], [6, 34, 62],
        [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78], [6, 30, 56, 82], [6, 30, 58, 86],
        [6, 34, 62, 90],
        [6, 28, 50, 72, 94], [6, 26, 50, 74, 98], [6, 30, 54, 78, 102], [6, 28, 54, 80, 106],
        [6, 32, 58, 84, 110], [6, 30, 58, 86, 114], [6, 34, 62, 90, 118],
        [6, 26, 50, 74, 98, 122], [6, 30, 54, 78, 102, 126], [6, 26, 52, 78, 104, 130],
        [6, 30, 56, 82, 108, 134], [6, 34, 60, 86, 112, 138], [6, 30, 58, 86, 114, 142],
        [6, 34, 62, 90, 118, 146],
        [6, 30, 54, 78, 102, 126, 150], [6, 24, 50, 76, 102, 128, 154], [6, 28, 54, 80, 106, 132, 158],
        [6, 32, 58, 84, 110, 136, 162], [6, 26, 54, 82, 110, 138, 166], [6, 30, 58, 86, 114, 142, 170],
    ]

    /// Modules per side of a version's symbol.
    static func size(version: Int) -> Int { 17 + 4 * version }

    /// Modules left for codewords once every function pattern is drawn (clause 7.1's accounting).
    ///
    /// Counted rather than tabulated: the three finders with separators take 8x8 each, format information
    /// 2x15 plus the dark module, timing the two lines between separators, each alignment pattern 25 less
    /// the 5 it shares with a timing line, and version information 2x18 from version 7.
    static func rawDataModules(version: Int) -> Int {
        let size = size(version: version)
        var modules = size * size - 3 * 64 - (2 * 15 + 1) - 2 * (size - 16)
        let perAxis = alignmentCenters[version].count
        if perAxis > 0 {
            modules -= 25 * (perAxis * perAxis - 3) - 5 * 2 * (perAxis - 2)
        }
        if version >= 7 { modules -= 2 * 18 }
        return modules
    }

    /// Codewords the symbol holds, data and error correction together; leftover modules are remainder bits.
    static func totalCodewords(version: Int) -> Int { rawDataModules(version: version) / 8 }

    /// Data codewords at the given level: the total less every block's error-correction codewords.
    static func dataCodewords(version: Int, errorCorrection: QRCode.ErrorCorrection) -> Int {
        let level = errorCorrection.tableIndex
        return totalCodewords(version: version) - ecCodewordsPerBlock[level][version] * blockCount[level][version]
    }

    /// Width of the character count indicator (Table 3), which grows at versions 10 and 27.
    static func characterCountBits(mode: QRCode.Mode, version: Int) -> Int {
        let band = version <= 9 ? 0 : version <= 26 ? 1 : 2
        switch mode {
        case .numeric: return [10, 12, 14][band]
        case .alphanumeric: return [9, 11, 13][band]
        case .byte: return [8, 16, 16][band]
        }
    }

    /// The most characters of `mode` that fit in one segment (the capacities of Table 7).
    static func characterCapacity(version: Int, errorCorrection: QRCode.ErrorCorrection, mode: QRCode.Mode) -> Int {
        let countBits = characterCountBits(mode: mode, version: version)
        let bits = dataCodewords(version: version, errorCorrection: errorCorrection) * 8 - 4 - countBits
        let characters: Int
        switch mode {
        case .numeric:
            // Three digits per 10 bits; a trailing pair takes 7 bits and a single digit 4.
            let rest = bits % 10
            characters = bits / 10 * 3 + (rest >= 7 ? 2 : rest >= 4 ? 1 : 0)
        case .alphanumeric:
            // Two characters per 11 bits; a trailing one takes 6.
            characters = bits / 11 * 2 + (bits % 11 >= 6 ? 1 : 0)
        case .byte:
            characters = bits / 8
        }
        return min(characters, (1 << countBits) - 1)
    }
}
