import Testing

@testable import Engines

/// Mode and version selection, the text-too-long error, and the mask penalty rules.
struct QREncoderTests {
    @Test(arguments: [
        ("0123456789", QRCode.Mode.numeric), ("", .numeric), ("HELLO WORLD $%*+-./:", .alphanumeric),
        ("Hello", .byte), ("2@ABC,DEF", .byte), ("١٢٣", .byte), ("ABC\n", .byte),
    ])
    func modeIsTheDensestThatFitsTheWholeText(text: String, mode: QRCode.Mode) throws {
        #expect(try QRCode.encode(text).mode == mode)
    }

    /// The chosen version is the smallest: pinning the one below it must fail.
    @Test func versionIsTheSmallestThatFits() throws {
        for seed: UInt64 in 0..<12 {
            let text = QRTestSupport.pairingLikeString(seed: seed, refLength: Int(seed) * 9)
            for level in QRCode.ErrorCorrection.allCases {
                let code = try QRCode.encode(text, errorCorrection: level)
                #expect(code.size == 17 + 4 * code.version)
                if code.version > 1 {
                    #expect(throws: QRCodeError.self) {
                        try QRCode.encode(text, errorCorrection: level, version: code.version - 1, mask: nil)
                    }
                }
            }
        }
    }

    @Test func textTooLongForVersion40Throws() throws {
        let fits = QRTestSupport.filler(count: 2953, mode: .byte, seed: 1)
        #expect(try QRCode.encode(fits, errorCorrection: .low).version == 40)
        do {
            _ = try QRCode.encode(fits + "x", errorCorrection: .low)
            Issue.record("2954 bytes at level L should not fit")
        } catch {
            #expect(error.kind == .textTooLong)
            #expect(error.characters == 2954)
            #expect(error.capacity == 2953)
        }
        #expect(throws: QRCodeError.self) { try QRCode.encode(fits, errorCorrection: .medium) }
        #expect(throws: QRCodeError.self) {
            try QRCode.encode(String(repeating: "7", count: 7090), errorCorrection: .low)
        }
        #expect(throws: QRCodeError.self) {
            try QRCode.encode(String(repeating: "é", count: 1000), errorCorrection: .high)
        }
    }

    /// When segment and terminator end exactly on a byte boundary, no padding bits are added and the pad
    /// codewords follow at once (clause 7.4.10). "known" at 1-L: 4 + 8 + 40 + 4 = 56 bits, seven codewords.
    @Test func padCodewordsFollowAlignedData() {
        let data = QRSegment("known").dataCodewords(version: 1, capacity: 19)
        #expect(data.count == 19)
        #expect(Array(data.prefix(7)) == [0x40, 0x56, 0xB6, 0xE6, 0xF7, 0x76, 0xE0])
        #expect(Array(data.suffix(12)) == Array(repeating: [0xEC, 0x11], count: 6).flatMap { $0 })
    }

    @Test func outsideTheSymbolIsLight() throws {
        let code = try QRCode.encode("x")
        #expect(code.isDark(x: 0, y: 0))
        #expect(!code.isDark(x: -1, y: 0) && !code.isDark(x: 0, y: -1))
        #expect(!code.isDark(x: code.size, y: 0) && !code.isDark(x: 0, y: code.size))
    }

    /// Without a pinned mask the encoder ships the mask of lowest total penalty.
    @Test func automaticMaskHasTheLowestPenalty() throws {
        for seed: UInt64 in 0..<6 {
            let text = QRTestSupport.pairingLikeString(seed: 500 + seed, refLength: 20 * Int(seed))
            let chosen = try QRCode.encode(text)
            var matrix = QRMatrix(version: chosen.version)
            let data = QRSegment(text).dataCodewords(
                version: chosen.version,
                capacity: QRSpec.dataCodewords(version: chosen.version, errorCorrection: .medium))
            matrix.placeData(QRCodewords.interleaved(data: data, version: chosen.version, errorCorrection: .medium))
            let penalties = (0...7).map { matrix.masked($0, errorCorrection: .medium).penalty() }
            #expect(penalties[chosen.mask] == penalties.min())
            #expect(penalties.firstIndex(of: penalties.min()!) == chosen.mask)
        }
    }

    /// Rules 1 and 3 on hand-made lines (Table 11).
    @Test func linePenaltyRules() {
        func line(_ pattern: String) -> [Bool] { pattern.map { $0 == "1" } }
        #expect(QRMatrix.linePenalty(line("1010")) == 0)
        #expect(QRMatrix.linePenalty(line("11111")) == 3)
        #expect(QRMatrix.linePenalty(line("0111111101")) == 5)
        // A finder-like run with light modules past the edge on both sides counts once.
        #expect(QRMatrix.linePenalty(line("1011101")) == 40)
        // Four light modules after it (plus a run of four, which is under five).
        #expect(QRMatrix.linePenalty(line("110111010000")) == 40)
        // Dark on both sides within four modules: no finder penalty.
        #expect(QRMatrix.linePenalty(line("1010111010010")) == 0)
    }
}
