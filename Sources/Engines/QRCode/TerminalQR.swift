/// Draws a `QRCode` as text, for printing the pairing code in a terminal or log.
///
/// The default packs two module rows into each line with the Unicode half blocks `▀ ▄ █`, so the symbol
/// stays roughly square (a character cell is about twice as tall as it is wide) and small enough to fit an
/// 80x24 window for the versions a pairing string needs. The glyphs are the terminal's foreground colour,
/// so "ink" is dark on a dark-on-light terminal; `inverted` draws the light modules instead, for
/// light-on-dark terminals, where the quiet zone then comes out as solid blocks.
package enum TerminalQR {
    /// How modules become characters.
    package enum Style: Sendable {
        /// Two module rows per line with `▀ ▄ █` and space.
        case halfBlocks
        /// One module row per line, each module two characters wide: `##` or two spaces. For terminals or
        /// fonts without the block elements.
        case ascii
    }

    /// The text rendering of `code` with a quiet zone of `margin` modules on every side; lines end in `\n`.
    package static func render(
        _ code: QRCode, style: Style = .halfBlocks, margin: Int = 4, inverted: Bool = false
    ) -> String {
        precondition(margin >= 0, "terminal QR margin must not be negative")
        let range = -margin..<(code.size + margin)
        func ink(_ x: Int, _ y: Int) -> Bool {
            // Outside the symbol, `isDark` is false: the quiet zone is light like the background.
            code.isDark(x: x, y: y) != inverted
        }

        var text = ""
        switch style {
        case .halfBlocks:
            for top in stride(from: range.lowerBound, to: range.upperBound, by: 2) {
                // With an odd number of rows the last line's lower half lies past the quiet zone; it is
                // drawn as background, which is what a light quiet zone looks like anyway.
                let hasBottom = top + 1 < range.upperBound
                for x in range {
                    let upper = ink(x, top)
                    let lower = hasBottom ? ink(x, top + 1) : inverted
                    text += upper ? (lower ? "█" : "▀") : (lower ? "▄" : " ")
                }
                text += "\n"
            }
        case .ascii:
            for y in range {
                for x in range { text += ink(x, y) ? "##" : "  " }
                text += "\n"
            }
        }
        return text
    }
}
