/// Reed-Solomon error correction over GF(256) as QR uses it (clause 7.5.2 and Annex A): the field is built
/// on the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D) with generator α = 2, and the code's
/// generator polynomial of degree n is (x - α^0)(x - α^1)...(x - α^(n-1)).
enum ReedSolomon {
    /// `exp[i]` is α^i, stored twice over (510 entries) so a product's log sum never needs reducing.
    private static let exp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 510)
        var value = 1
        for power in 0..<255 {
            table[power] = UInt8(value)
            table[power + 255] = UInt8(value)
            value <<= 1
            if value & 0x100 != 0 { value ^= 0x11D }
        }
        return table
    }()

    /// `logTable[v]` is the power of α equal to `v`; entry 0 is unused since 0 is no power of α.
    private static let logTable: [Int] = {
        var table = [Int](repeating: 0, count: 256)
        for power in 0..<255 { table[Int(exp[power])] = power }
        return table
    }()

    /// α^power, for `power` in 0..<255.
    static func antilog(_ power: Int) -> UInt8 { exp[power % 255] }

    /// The power of α that equals the non-zero `value`.
    static func log(_ value: UInt8) -> Int {
        precondition(value != 0, "0 has no logarithm in GF(256)")
        return logTable[Int(value)]
    }

    /// The field product; addition in GF(256) is XOR, so only multiplication needs tables.
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 || b == 0 { return 0 }
        return exp[logTable[Int(a)] + logTable[Int(b)]]
    }

    /// The generator polynomial of the given degree, coefficients highest power first, leading 1 included.
    static func generator(degree: Int) -> [UInt8] {
        var polynomial: [UInt8] = [1]
        for root in 0..<degree {
            // Multiply by (x + α^root); minus is plus in characteristic 2.
            var next = polynomial + [0]
            for (index, coefficient) in polynomial.enumerated() {
                next[index + 1] ^= multiply(coefficient, antilog(root))
            }
            polynomial = next
        }
        return polynomial
    }

    /// The error-correction codewords for one block: the remainder of data(x)·x^n divided by the
    /// generator, where n is `generator.count - 1`.
    static func remainder(of data: [UInt8], generator: [UInt8]) -> [UInt8] {
        let degree = generator.count - 1
        var remainder = [UInt8](repeating: 0, count: degree)
        for byte in data {
            // Long division one coefficient at a time, keeping only the running n-term remainder.
            let factor = byte ^ remainder[0]
            remainder.removeFirst()
            remainder.append(0)
            for index in 0..<degree {
                remainder[index] ^= multiply(generator[index + 1], factor)
            }
        }
        return remainder
    }
}

/// Splits data codewords into the version's error-correction blocks, appends each block's Reed-Solomon
/// codewords, and interleaves the result into the final codeword sequence (clause 7.6).
enum QRCodewords {
    static func interleaved(data: [UInt8], version: Int, errorCorrection: QRCode.ErrorCorrection) -> [UInt8] {
        let level = errorCorrection.tableIndex
        let blockCount = QRSpec.blockCount[level][version]
        let ecLength = QRSpec.ecCodewordsPerBlock[level][version]
        let total = QRSpec.totalCodewords(version: version)
        precondition(data.count == total - blockCount * ecLength, "data length does not match the version")

        // Group 1 blocks come first and hold one data codeword fewer than group 2 blocks (Table 9).
        let shortLength = total / blockCount - ecLength
        let longBlocks = total % blockCount
        let generator = ReedSolomon.generator(degree: ecLength)

        var dataBlocks: [[UInt8]] = []
        var ecBlocks: [[UInt8]] = []
        var start = 0
        for block in 0..<blockCount {
            let length = shortLength + (block >= blockCount - longBlocks ? 1 : 0)
            let blockData = Array(data[start..<start + length])
            dataBlocks.append(blockData)
            ecBlocks.append(ReedSolomon.remainder(of: blockData, generator: generator))
            start += length
        }

        // Column by column across blocks; short blocks simply have no entry in the last data column.
        var result: [UInt8] = []
        result.reserveCapacity(total)
        for column in 0...shortLength {
            for block in dataBlocks where column < block.count { result.append(block[column]) }
        }
        for column in 0..<ecLength {
            for block in ecBlocks { result.append(block[column]) }
        }
        return result
    }
}
