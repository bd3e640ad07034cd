import Testing

@testable import Engines

/// Known answers from ISO/IEC 18004:2015 itself: the Annex I worked example, the format and version
/// information tables (Annexes C and D), the generator polynomials (Annex A) and the capacity table.
struct QRKnownAnswerTests {
    /// Figure I.2 of Annex I: "01234567" as a 1-M symbol with data mask 010. Transcribed from the standard
    /// (the same transcription is in segno's tests/ref_matrix/iso-i2.txt); "1" is dark.
    static let annexIMatrix = [
        "111111100101101111111",
        "100000100111101000001",
        "101110101000001011101",
        "101110101100001011101",
        "101110101011101011101",
        "100000101000101000001",
        "111111101010101111111",
        "000000001001100000000",
        "101111100100101111100",
        "000101011010100101100",
        "001000110101010011111",
        "000010000100000111100",
        "000111111001010010000",
        "000000001011111001100",
        "111111100110101100000",
        "100000101011111000101",
        "101110101000100101100",
        "101110101100100100000",
        "101110101011010010100",
        "100000100000000110110",
        "111111101111010010100",
    ]

    /// Annex I: the 16 data codewords of "01234567" at 1-M (numeric mode, count 8, three digit groups,
    /// terminator, padding) and the 10 error-correction codewords the standard derives from them.
    static let annexIData: [UInt8] = [
        0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11,
    ]
    static let annexIErrorCorrection: [UInt8] = [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55]

    @Test func annexIMatrixWithMask2() throws {
        let code = try QRCode.encode("01234567", errorCorrection: .medium, version: nil, mask: 2)
        #expect(code.version == 1)
        #expect(code.size == 21)
        #expect(code.mode == .numeric)
        #expect(QRTestSupport.rows(code) == Self.annexIMatrix)
    }

    @Test func annexIDataCodewords() {
        let segment = QRSegment("01234567")
        #expect(segment.mode == .numeric)
        #expect(segment.dataCodewords(version: 1, capacity: 16) == Self.annexIData)
    }

    @Test func annexIErrorCorrectionCodewords() {
        let generator = ReedSolomon.generator(degree: 10)
        #expect(ReedSolomon.remainder(of: Self.annexIData, generator: generator) == Self.annexIErrorCorrection)
        // One block at 1-M, so the interleaved sequence is simply data then error correction.
        let all = QRCodewords.interleaved(data: Self.annexIData, version: 1, errorCorrection: .medium)
        #expect(all == Self.annexIData + Self.annexIErrorCorrection)
    }

    /// "HELLO WORLD" at 1-Q: alphanumeric, 13 data codewords, 13 error-correction codewords; the values
    /// are the widely published worked example, derived by hand from the standard's procedure.
    @Test func helloWorldQuartileCodewords() {
        let segment = QRSegment("HELLO WORLD")
        #expect(segment.mode == .alphanumeric)
        let data = segment.dataCodewords(version: 1, capacity: 13)
        #expect(data == [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236])
        let ec = ReedSolomon.remainder(of: data, generator: ReedSolomon.generator(degree: 13))
        #expect(ec == [168, 72, 22, 82, 217, 54, 156, 0, 46, 15, 180, 122, 16])
    }

    /// Annex A lists generator polynomials as powers of α; the leading coefficient is α^0.
    @Test(arguments: [
        (7, [0, 87, 229, 146, 149, 238, 102, 21]),
        (10, [0, 251, 67, 46, 61, 118, 70, 64, 94, 32, 45]),
        (13, [0, 74, 152, 176, 100, 86, 100, 106, 104, 130, 218, 206, 140, 78]),
    ])
    func generatorPolynomials(degree: Int, exponents: [Int]) {
        #expect(ReedSolomon.generator(degree: degree).map(ReedSolomon.log) == exponents)
    }

    /// Annex C, Table C.1: the 15-bit format information after masking with 101010000010010, by level and
    /// mask pattern 0-7.
    @Test(arguments: [
        (QRCode.ErrorCorrection.low, [0x77C4, 0x72F3, 0x7DAA, 0x789D, 0x662F, 0x6318, 0x6C41, 0x6976]),
        (.medium, [0x5412, 0x5125, 0x5E7C, 0x5B4B, 0x45F9, 0x40CE, 0x4F97, 0x4AA0]),
        (.quartile, [0x355F, 0x3068, 0x3F31, 0x3A06, 0x24B4, 0x2183, 0x2EDA, 0x2BED]),
        (.high, [0x1689, 0x13BE, 0x1CE7, 0x19D0, 0x0762, 0x0255, 0x0D0C, 0x083B]),
    ])
    func formatInformation(level: QRCode.ErrorCorrection, expected: [Int]) {
        #expect((0...7).map { QRMatrix.formatBits(errorCorrection: level, mask: $0) } == expected)
    }

    /// Annex D, Table D.1: the 18-bit version information for versions 7 to 40.
    @Test func versionInformation() {
        let table = [
            0x07C94, 0x085BC, 0x09A99, 0x0A4D3, 0x0BBF6, 0x0C762, 0x0D847, 0x0E60D, 0x0F928, 0x10B78,
            0x1145D, 0x12A17, 0x13532, 0x149A6, 0x15683, 0x168C9, 0x177EC, 0x18EC4, 0x191E1, 0x1AFAB,
            0x1B08E, 0x1CC1A, 0x1D33F, 0x1ED75, 0x1F250, 0x209D5, 0x216F0, 0x228BA, 0x2379F, 0x24B0B,
            0x2542E, 0x26A64, 0x27541, 0x28C69,
        ]
        #expect((7...40).map { QRMatrix.versionBits(version: $0) } == table)
    }

    /// The version information drawn in the symbol reads back as the table value from both blocks.
    @Test(arguments: [7, 21, 40])
    func versionInformationPlacement(version: Int) {
        let matrix = QRMatrix(version: version)
        var lowerLeft = 0
        var upperRight = 0
        for index in 0..<18 {
            if matrix[index / 3, matrix.size - 11 + index % 3] { lowerLeft |= 1 << index }
            if matrix[matrix.size - 11 + index % 3, index / 3] { upperRight |= 1 << index }
        }
        #expect(lowerLeft == QRMatrix.versionBits(version: version))
        #expect(upperRight == lowerLeft)
    }

    /// Table 1 totals and Table 7 capacities at both ends of the range.
    @Test func capacities() {
        #expect(QRSpec.totalCodewords(version: 1) == 26)
        #expect(QRSpec.totalCodewords(version: 2) == 44)
        #expect(QRSpec.totalCodewords(version: 7) == 196)
        #expect(QRSpec.totalCodewords(version: 40) == 3706)
        #expect(QRSpec.rawDataModules(version: 2) % 8 == 7)
        #expect(QRSpec.dataCodewords(version: 40, errorCorrection: .low) == 2956)
        #expect(QRSpec.dataCodewords(version: 40, errorCorrection: .high) == 1276)

        func capacity(_ version: Int, _ level: QRCode.ErrorCorrection) -> [Int] {
            [QRCode.Mode.numeric, .alphanumeric, .byte].map {
                QRSpec.characterCapacity(version: version, errorCorrection: level, mode: $0)
            }
        }
        #expect(capacity(1, .low) == [41, 25, 17])
        #expect(capacity(1, .medium) == [34, 20, 14])
        #expect(capacity(1, .high) == [17, 10, 7])
        #expect(capacity(10, .medium) == [513, 311, 213])
        #expect(capacity(40, .low) == [7089, 4296, 2953])
        #expect(capacity(40, .medium) == [5596, 3391, 2331])
        #expect(capacity(40, .quartile) == [3993, 2420, 1663])
        #expect(capacity(40, .high) == [3057, 1852, 1273])
    }

    /// The closed-form module count agrees with the function patterns actually drawn, for every version.
    @Test func rawModulesMatchDrawnFunctionPatterns() {
        for version in 1...40 {
            let matrix = QRMatrix(version: version)
            var free = 0
            for y in 0..<matrix.size {
                for x in 0..<matrix.size where !matrix.isReserved(x: x, y: y) { free += 1 }
            }
            #expect(free == QRSpec.rawDataModules(version: version), "version \(version)")
        }
    }
}
