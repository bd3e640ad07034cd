import Testing

@testable import Engines

/// The terminal renderings are read back into modules and compared with the symbol plus its quiet zone.
struct QRTerminalTests {
    static let margin = 4

    /// The expected picture: symbol and quiet zone, `true` for ink (dark unless inverted).
    static func expected(_ code: QRCode, inverted: Bool) -> [[Bool]] {
        (-margin..<(code.size + margin)).map { y in
            (-margin..<(code.size + margin)).map { x in code.isDark(x: x, y: y) != inverted }
        }
    }

    @Test(arguments: [false, true])
    func halfBlocksReadBack(inverted: Bool) throws {
        let code = try QRCode.encode(QRTestSupport.pairingLikeString(seed: 5))
        let text = TerminalQR.render(code, inverted: inverted)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let side = code.size + 2 * Self.margin
        #expect(text.hasSuffix("\n"))
        #expect(lines.count == (side + 1) / 2)

        var grid: [[Bool]] = []
        for line in lines {
            let glyphs = Array(line)
            #expect(glyphs.count == side)
            grid.append(glyphs.map { $0 == "▀" || $0 == "█" })
            grid.append(glyphs.map { $0 == "▄" || $0 == "█" })
            #expect(glyphs.allSatisfy { " ▀▄█".contains($0) })
        }
        // The last line's lower half lies past the quiet zone, drawn as background.
        let past = grid.removeLast()
        #expect(past.allSatisfy { $0 == inverted })
        #expect(grid == Self.expected(code, inverted: inverted))
    }

    @Test func asciiReadsBack() throws {
        let code = try QRCode.encode("HELLO WORLD", errorCorrection: .high)
        let lines = TerminalQR.render(code, style: .ascii).split(separator: "\n")
        let grid = lines.map { line in
            stride(from: 0, to: line.count, by: 2).map { offset -> Bool in
                let pair = line.dropFirst(offset).prefix(2)
                #expect(pair == "##" || pair == "  ")
                return pair == "##"
            }
        }
        #expect(grid == Self.expected(code, inverted: false))
    }

    /// The quiet zone is blank: four spaces-only rows of modules on a light terminal, two text lines.
    @Test func quietZoneIsBlank() throws {
        let code = try QRCode.encode("x")
        let lines = TerminalQR.render(code).split(separator: "\n")
        #expect(lines.prefix(2).allSatisfy { $0.allSatisfy { $0 == " " } })
        #expect(lines.dropFirst(2).allSatisfy { $0.prefix(4) == "    " && $0.suffix(4) == "    " })
    }
}
