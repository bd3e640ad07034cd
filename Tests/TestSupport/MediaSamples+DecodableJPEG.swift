/// A JPEG any decoder opens: baseline, grayscale, every 8 × 8 block one flat shade. Only the
/// blocks' DC coefficients are coded (the AC table has just end-of-block), which makes the
/// encoder a few lines of Huffman coding rather than a DCT.
extension MediaSamples {
    /// `shade(x, y)` is sampled at the centre of each block; `orientation` adds an EXIF tag.
    package static func decodableJPEG(
        width: Int, height: Int, orientation: Int? = nil, shade: (Int, Int) -> UInt8
    ) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        if let orientation { bytes += exifSegment(orientation: orientation, bigEndian: true) }
        bytes += segment(0xDB, [0] + [UInt8](repeating: 1, count: 64))  // every coefficient quantised by 1
        bytes += segment(0xC0, [8] + be16(height) + be16(width) + [1, 1, 0x11, 0])
        // The standard luminance DC table (categories 0 to 11), and an AC table of end-of-block alone.
        let dcCounts: [UInt8] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
        bytes += segment(0xC4, [0x00] + dcCounts + Array(0...11))
        bytes += segment(0xC4, [0x10] + [1] + [UInt8](repeating: 0, count: 15) + [0x00])
        bytes += segment(0xDA, [1, 1, 0x00, 0, 63, 0])
        let dcCodes = canonicalCodes(dcCounts)
        var writer = BitWriter()
        var previous = 0
        for blockY in 0..<((height + 7) / 8) {
            for blockX in 0..<((width + 7) / 8) {
                let pixel = Int(shade(min(width - 1, blockX * 8 + 4), min(height - 1, blockY * 8 + 4)))
                // A flat block of level p has DC coefficient 8 × (p − 128).
                let dc = 8 * (max(1, pixel) - 128)
                let difference = dc - previous
                previous = dc
                let category = difference == 0 ? 0 : Int.bitWidth - abs(difference).leadingZeroBitCount
                writer.write(dcCodes[category].code, count: dcCodes[category].length)
                let bits = difference >= 0 ? difference : difference + (1 << category) - 1
                writer.write(bits, count: category)
                writer.write(0, count: 1)  // end of block
            }
        }
        return bytes + writer.finished() + [0xFF, 0xD9]
    }

    /// Huffman codes from a DHT's counts per length, in symbol order.
    private static func canonicalCodes(_ counts: [UInt8]) -> [(code: Int, length: Int)] {
        var codes: [(code: Int, length: Int)] = []
        var code = 0
        for (index, count) in counts.enumerated() {
            for _ in 0..<Int(count) {
                codes.append((code, index + 1))
                code += 1
            }
            code <<= 1
        }
        return codes
    }

    /// Entropy-coded bytes: most significant bit first, 0xFF followed by a stuffed 0x00, the
    /// last byte padded with ones.
    private struct BitWriter {
        var bytes: [UInt8] = []
        var current = 0
        var used = 0

        mutating func write(_ value: Int, count: Int) {
            for shift in stride(from: count - 1, through: 0, by: -1) {
                current = current << 1 | (value >> shift & 1)
                used += 1
                if used == 8 { flush() }
            }
        }

        private mutating func flush() {
            bytes.append(UInt8(current))
            if current == 0xFF { bytes.append(0) }
            current = 0
            used = 0
        }

        mutating func finished() -> [UInt8] {
            while used != 0 { write(1, count: 1) }
            return bytes
        }
    }
}
