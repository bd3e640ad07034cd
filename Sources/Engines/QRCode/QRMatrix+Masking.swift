extension QRMatrix {
    /// Whether data mask `mask` flips the module in row `i`, column `j` (clause 7.8.2, Table 10).
    static func maskFlips(_ mask: Int, i: Int, j: Int) -> Bool {
        switch mask {
        case 0: (i + j) % 2 == 0
        case 1: i % 2 == 0
        case 2: j % 3 == 0
        case 3: (i + j) % 3 == 0
        case 4: (i / 2 + j / 3) % 2 == 0
        case 5: (i * j) % 2 + (i * j) % 3 == 0
        case 6: ((i * j) % 2 + (i * j) % 3) % 2 == 0
        case 7: ((i + j) % 2 + (i * j) % 3) % 2 == 0
        default: preconditionFailure("QR mask \(mask) is not in 0...7")
        }
    }

    /// This grid with `mask` applied to the data modules and the matching format information written.
    func masked(_ mask: Int, errorCorrection: QRCode.ErrorCorrection) -> QRMatrix {
        var result = self
        for y in 0..<size {
            for x in 0..<size where !isReserved(x: x, y: y) && Self.maskFlips(mask, i: y, j: x) {
                result.toggle(x: x, y: y)
            }
        }
        result.drawFormat(bits: Self.formatBits(errorCorrection: errorCorrection, mask: mask))
        return result
    }

    /// The masked grid to ship: the pinned mask if given, else the one of lowest penalty, ties going to
    /// the lower mask number.
    ///
    /// Each candidate is scored as the finished symbol, format information for that mask included. The
    /// standard does not pin this detail down and encoders differ on it (segno scores before the format
    /// bits go in), so two encoders may pick different masks for the same text; every mask decodes the
    /// same, so only the penalty margin is at stake.
    func bestMasked(errorCorrection: QRCode.ErrorCorrection, pinned: Int?) -> (QRMatrix, mask: Int) {
        if let pinned { return (masked(pinned, errorCorrection: errorCorrection), pinned) }
        var best: (matrix: QRMatrix, mask: Int, penalty: Int)?
        for mask in 0...7 {
            let candidate = masked(mask, errorCorrection: errorCorrection)
            let penalty = candidate.penalty()
            if best == nil || penalty < best!.penalty { best = (candidate, mask, penalty) }
        }
        return (best!.matrix, best!.mask)
    }

    /// The total penalty of clause 7.8.3.1 (Table 11) over the whole symbol.
    func penalty() -> Int {
        var total = 0
        var line = [Bool](repeating: false, count: size)
        for index in 0..<size {
            for k in 0..<size { line[k] = self[k, index] }
            total += Self.linePenalty(line)
            for k in 0..<size { line[k] = self[index, k] }
            total += Self.linePenalty(line)
        }
        total += blockPenalty() + balancePenalty()
        return total
    }

    /// Rules 1 and 3 for one row or column.
    ///
    /// Rule 1: each run of five or more same-coloured modules scores 3, plus 1 per module beyond five.
    /// Rule 3: each dark-light-dark-dark-dark-light-dark (1:1:3:1:1) run with four light modules on at least
    /// one side scores 40. Modules beyond the edge count as light, because the quiet zone is.
    static func linePenalty(_ line: [Bool]) -> Int {
        var score = 0
        var runStart = 0
        for index in 1...line.count {
            if index == line.count || line[index] != line[runStart] {
                let run = index - runStart
                if run >= 5 { score += 3 + (run - 5) }
                runStart = index
            }
        }

        func isLight(_ index: Int) -> Bool { index < 0 || index >= line.count || !line[index] }
        let finderLike = [true, false, true, true, true, false, true]
        if line.count >= finderLike.count {
            for start in 0...(line.count - finderLike.count)
            where (0..<finderLike.count).allSatisfy({ line[start + $0] == finderLike[$0] }) {
                let lightBefore = (1...4).allSatisfy { isLight(start - $0) }
                let lightAfter = (0..<4).allSatisfy { isLight(start + finderLike.count + $0) }
                if lightBefore || lightAfter { score += 40 }
            }
        }
        return score
    }

    /// Rule 2: every 2x2 block of one colour scores 3; overlapping blocks each count, which is how a larger
    /// m x n area earns 3 (m-1)(n-1).
    private func blockPenalty() -> Int {
        var score = 0
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let colour = self[x, y]
                if self[x + 1, y] == colour && self[x, y + 1] == colour && self[x + 1, y + 1] == colour {
                    score += 3
                }
            }
        }
        return score
    }

    /// Rule 4: 10 points for each full 5 % step that the share of dark modules lies away from 50 %.
    private func balancePenalty() -> Int {
        let dark = modules.reduce(0) { $0 + ($1 ? 1 : 0) }
        let total = size * size
        // |dark/total - 1/2| / 5%  ==  |20 dark - 10 total| / total, kept in integers.
        return abs(20 * dark - 10 * total) / total * 10
    }
}
