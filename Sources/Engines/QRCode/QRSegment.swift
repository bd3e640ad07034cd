extension QRCode {
    /// The data modes this encoder uses (clause 7.4); Kanji and ECI are left out because a pairing string
    /// is ASCII and scanners read unmarked byte mode as UTF-8.
    package enum Mode: Sendable, Equatable, CustomStringConvertible {
        /// Digits 0-9, three per 10 bits.
        case numeric
        /// The 45-character set `0-9 A-Z space $ % * + - . / :`, two per 11 bits.
        case alphanumeric
        /// Arbitrary bytes, here the text's UTF-8, eight bits each.
        case byte

        /// The four-bit mode indicator (Table 2).
        var indicator: Int {
            switch self {
            case .numeric: 0b0001
            case .alphanumeric: 0b0010
            case .byte: 0b0100
            }
        }

        package var description: String {
            switch self {
            case .numeric: "numeric"
            case .alphanumeric: "alphanumeric"
            case .byte: "byte"
            }
        }
    }
}

/// The whole text as one segment: the densest mode every character fits, and the payload bits that follow
/// the segment header.
struct QRSegment {
    /// The alphanumeric character set in code-value order (Table 5): a character's index is its value.
    private static let alphanumericSet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".utf8)

    let mode: QRCode.Mode
    /// Characters in the mode's own sense: digits, alphanumeric characters, or bytes.
    let characterCount: Int
    /// The encoded characters, without mode indicator or count.
    let payload: QRBitBuffer

    init(_ text: String) {
        let bytes = Array(text.utf8)
        var payload = QRBitBuffer()
        if bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            mode = .numeric
            var index = 0
            while index < bytes.count {
                let group = bytes[index..<min(index + 3, bytes.count)]
                let value = group.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                // 1, 2 or 3 digits take 4, 7 or 10 bits: just enough for 9, 99 or 999.
                payload.append(value, bits: [0, 4, 7, 10][group.count])
                index += 3
            }
        } else if let values = Self.alphanumericValues(bytes) {
            mode = .alphanumeric
            var index = 0
            while index + 1 < values.count {
                payload.append(values[index] * 45 + values[index + 1], bits: 11)
                index += 2
            }
            if index < values.count { payload.append(values[index], bits: 6) }
        } else {
            mode = .byte
            for byte in bytes { payload.append(Int(byte), bits: 8) }
        }
        characterCount = bytes.count
        self.payload = payload
    }

    /// Code values for every byte, or nil if any byte is outside the alphanumeric set.
    private static func alphanumericValues(_ bytes: [UInt8]) -> [Int]? {
        var values: [Int] = []
        values.reserveCapacity(bytes.count)
        for byte in bytes {
            guard let value = alphanumericSet.firstIndex(of: byte) else { return nil }
            values.append(value)
        }
        return values
    }

    /// Whether the segment, header included, fits the data capacity of `version` at `errorCorrection`.
    func fits(version: Int, errorCorrection: QRCode.ErrorCorrection) -> Bool {
        let countBits = QRSpec.characterCountBits(mode: mode, version: version)
        guard characterCount < 1 << countBits else { return false }
        let needed = 4 + countBits + payload.count
        return needed <= QRSpec.dataCodewords(version: version, errorCorrection: errorCorrection) * 8
    }

    /// The data codewords for `version` (clause 7.4.10): header, payload, a terminator of up to four zero
    /// bits, zero bits to the byte boundary, then the pad codewords 0xEC and 0x11 in turn up to `capacity`.
    func dataCodewords(version: Int, capacity: Int) -> [UInt8] {
        var bits = QRBitBuffer()
        bits.append(mode.indicator, bits: 4)
        bits.append(characterCount, bits: QRSpec.characterCountBits(mode: mode, version: version))
        bits.append(contentsOf: payload)
        let capacityBits = capacity * 8
        precondition(bits.count <= capacityBits, "segment does not fit the chosen version")
        bits.append(0, bits: min(4, capacityBits - bits.count))
        bits.append(0, bits: (8 - bits.count % 8) % 8)

        var codewords = bits.bytes
        var pad: UInt8 = 0xEC
        while codewords.count < capacity {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }
}

/// A growable string of bits, most significant first within each appended value.
struct QRBitBuffer {
    private(set) var bits: [Bool] = []

    var count: Int { bits.count }

    /// Appends the low `bits` bits of `value`, high bit first.
    mutating func append(_ value: Int, bits width: Int) {
        precondition(width >= 0 && width <= 31 && value >> width == 0, "value does not fit in \(width) bits")
        for shift in stride(from: width - 1, through: 0, by: -1) {
            bits.append(value >> shift & 1 == 1)
        }
    }

    mutating func append(contentsOf other: QRBitBuffer) {
        bits.append(contentsOf: other.bits)
    }

    /// The bits packed eight to a byte, high bit first; a partial last byte is zero-filled.
    var bytes: [UInt8] {
        var result = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (index, bit) in bits.enumerated() where bit {
            result[index / 8] |= 0x80 >> UInt8(index % 8)
        }
        return result
    }
}
