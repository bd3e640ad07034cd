/// The module grid while a symbol is being built: function patterns first, then the codeword bits in the
/// remaining modules, then mask and format information (clause 7.7 onwards).
///
/// Coordinates are `x` (column, left to right) and `y` (row, top to bottom). The standard's mask formulas
/// use i for the row and j for the column; `QRMatrix+Masking.swift` keeps that straight.
struct QRMatrix {
    let version: Int
    let size: Int
    /// Row-major, `true` for dark.
    private(set) var modules: [Bool]
    /// Function modules (finders, separators, timing, alignment, format and version areas, dark module):
    /// data placement skips them and masking leaves them alone.
    private(set) var reserved: [Bool]

    /// A grid for `version` with every function pattern drawn and the format areas reserved (light until
    /// `drawFormat` fills them in).
    init(version: Int) {
        self.version = version
        size = QRSpec.size(version: version)
        modules = Array(repeating: false, count: size * size)
        reserved = Array(repeating: false, count: size * size)

        // Timing first: the alignment patterns that sit on row or column 6 agree with it anyway, since
        // their centres are on even coordinates, exactly where the timing pattern is dark.
        for index in 8..<(size - 8) {
            setFunction(x: 6, y: index, dark: index % 2 == 0)
            setFunction(x: index, y: 6, dark: index % 2 == 0)
        }
        drawFinder(centerX: 3, centerY: 3)
        drawFinder(centerX: size - 4, centerY: 3)
        drawFinder(centerX: 3, centerY: size - 4)

        let centers = QRSpec.alignmentCenters[version]
        for cy in centers {
            for cx in centers {
                // The three corners with a finder pattern get no alignment pattern.
                let nearFinder =
                    (cx == centers.first && cy == centers.first) || (cx == centers.first && cy == centers.last)
                    || (cx == centers.last && cy == centers.first)
                if !nearFinder { drawAlignment(centerX: cx, centerY: cy) }
            }
        }

        drawFormat(bits: 0)
        if version >= 7 { drawVersion() }
    }

    subscript(x: Int, y: Int) -> Bool {
        modules[y * size + x]
    }

    func isReserved(x: Int, y: Int) -> Bool {
        reserved[y * size + x]
    }

    /// Sets a module and marks it as a function module.
    mutating func setFunction(x: Int, y: Int, dark: Bool) {
        modules[y * size + x] = dark
        reserved[y * size + x] = true
    }

    /// Flips a data module; masking is the only caller.
    mutating func toggle(x: Int, y: Int) {
        modules[y * size + x].toggle()
    }

    /// A 7x7 finder pattern plus its one-module light separator, clipped to the symbol.
    private mutating func drawFinder(centerX: Int, centerY: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = centerX + dx
                let y = centerY + dy
                guard x >= 0, y >= 0, x < size, y < size else { continue }
                // Rings by Chebyshev distance: 3x3 core dark, ring 2 light, ring 3 dark, ring 4 separator.
                let ring = max(abs(dx), abs(dy))
                setFunction(x: x, y: y, dark: ring != 2 && ring != 4)
            }
        }
    }

    /// A 5x5 alignment pattern: dark centre, light ring, dark ring.
    private mutating func drawAlignment(centerX: Int, centerY: Int) {
        for dy in -2...2 {
            for dx in -2...2 {
                setFunction(x: centerX + dx, y: centerY + dy, dark: max(abs(dx), abs(dy)) != 1)
            }
        }
    }

    /// Places codeword bits, most significant first, in the zigzag of clause 7.7.3: two-module columns from
    /// the right edge, alternately upwards and downwards, skipping function modules and the whole vertical
    /// timing column. Modules left over after the last codeword are remainder bits and stay light.
    mutating func placeData(_ codewords: [UInt8]) {
        let bitCount = codewords.count * 8
        var bitIndex = 0
        var upward = true
        var right = size - 1
        while right > 0 {
            if right == 6 { right = 5 }
            for step in 0..<size {
                let y = upward ? size - 1 - step : step
                for x in [right, right - 1] where !reserved[y * size + x] {
                    if bitIndex < bitCount {
                        modules[y * size + x] = codewords[bitIndex / 8] >> (7 - bitIndex % 8) & 1 == 1
                    }
                    bitIndex += 1
                }
            }
            upward.toggle()
            right -= 2
        }
    }
}
