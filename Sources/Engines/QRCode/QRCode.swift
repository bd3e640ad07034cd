/// A QR code symbol (ISO/IEC 18004:2015, model 2), encoded from text as one segment.
///
/// The pairing screen needs one string drawn as a PNG (`PNGWriter`) or in a terminal (`TerminalQR`); this
/// type does the encoding and nothing else. The whole text goes into a single segment in the densest mode it
/// fits: numeric, alphanumeric, or byte (UTF-8, without an ECI header, which is what phone scanners expect).
package struct QRCode: Sendable {
    /// The four error-correction levels, in increasing order of redundancy (about 7, 15, 25 and 30 %).
    package enum ErrorCorrection: Sendable, CaseIterable {
        case low
        case medium
        case quartile
        case high

        /// The two-bit level indicator of the format information (Table 12): note the order is not monotone.
        var formatBits: Int {
            switch self {
            case .low: 0b01
            case .medium: 0b00
            case .quartile: 0b11
            case .high: 0b10
            }
        }

        /// Row index into the per-level tables of `QRSpec`.
        var tableIndex: Int {
            switch self {
            case .low: 0
            case .medium: 1
            case .quartile: 2
            case .high: 3
            }
        }
    }

    /// The symbol version, 1 through 40; the symbol is `17 + 4 * version` modules wide.
    package let version: Int
    /// Modules per side, without any quiet zone.
    package let size: Int
    /// The level the symbol was encoded at.
    package let errorCorrection: ErrorCorrection
    /// The data mask pattern (0-7) applied, recorded in the format information.
    package let mask: Int
    /// The mode the text was encoded in.
    package let mode: Mode
    /// Row-major, `true` for dark.
    private let modules: [Bool]

    /// Whether the module at column `x`, row `y` is dark. Coordinates outside the symbol are light, so a
    /// renderer can walk a range that includes the quiet zone without special cases.
    package func isDark(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }

    /// Encodes `text` in the smallest version that holds it at `errorCorrection`, with the mask of lowest
    /// penalty.
    ///
    /// - Throws: `QRCodeError.textTooLong` when even version 40 cannot hold the text at this level.
    package static func encode(
        _ text: String, errorCorrection: ErrorCorrection = .medium
    ) throws(QRCodeError) -> QRCode {
        try encode(text, errorCorrection: errorCorrection, version: nil, mask: nil)
    }

    /// Encodes `text` with the version and/or mask pinned instead of chosen.
    ///
    /// Pinning exists so tests can compare matrices with another encoder module for module; a pinned
    /// version that is too small for the text throws like an over-long text does.
    package static func encode(
        _ text: String, errorCorrection: ErrorCorrection, version: Int?, mask: Int?
    ) throws(QRCodeError) -> QRCode {
        if let version { precondition((1...40).contains(version), "QR version \(version) is not in 1...40") }
        if let mask { precondition((0...7).contains(mask), "QR mask \(mask) is not in 0...7") }

        let segment = QRSegment(text)
        let chosen = try chooseVersion(for: segment, errorCorrection: errorCorrection, pinned: version)
        let data = segment.dataCodewords(
            version: chosen, capacity: QRSpec.dataCodewords(version: chosen, errorCorrection: errorCorrection))
        let codewords = QRCodewords.interleaved(data: data, version: chosen, errorCorrection: errorCorrection)

        var matrix = QRMatrix(version: chosen)
        matrix.placeData(codewords)
        let (masked, chosenMask) = matrix.bestMasked(errorCorrection: errorCorrection, pinned: mask)
        return QRCode(
            version: chosen, size: masked.size, errorCorrection: errorCorrection, mask: chosenMask,
            mode: segment.mode, modules: masked.modules)
    }

    /// The smallest version whose data capacity holds the segment, or the pinned one if it does.
    private static func chooseVersion(
        for segment: QRSegment, errorCorrection: ErrorCorrection, pinned: Int?
    ) throws(QRCodeError) -> Int {
        let candidates = pinned.map { $0...$0 } ?? 1...40
        for version in candidates where segment.fits(version: version, errorCorrection: errorCorrection) {
            return version
        }
        let last = candidates.upperBound
        throw QRCodeError.textTooLong(
            characters: segment.characterCount, mode: segment.mode,
            capacity: QRSpec.characterCapacity(version: last, errorCorrection: errorCorrection, mode: segment.mode),
            version: last, errorCorrection: errorCorrection)
    }

    private init(
        version: Int, size: Int, errorCorrection: ErrorCorrection, mask: Int, mode: Mode, modules: [Bool]
    ) {
        self.version = version
        self.size = size
        self.errorCorrection = errorCorrection
        self.mask = mask
        self.mode = mode
        self.modules = modules
    }
}

/// Why a text could not be made into a QR code.
///
/// Shaped like `EngineError` (a kind plus a message) so the API layer can map it to a 400 without
/// knowing QR details; the context fields say how far over the limit the text was.
package struct QRCodeError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The text needs more data capacity than the largest allowed version offers at the chosen level.
        case textTooLong
    }

    package let kind: Kind
    /// Characters in the text, counted as the chosen mode counts them (bytes in byte mode).
    package let characters: Int
    /// The most characters of that mode the limiting version holds at the chosen level.
    package let capacity: Int
    package let message: String

    /// The text has `characters` characters of `mode`, but `version` holds only `capacity` at this level.
    package static func textTooLong(
        characters: Int, mode: QRCode.Mode, capacity: Int, version: Int,
        errorCorrection: QRCode.ErrorCorrection
    ) -> QRCodeError {
        QRCodeError(
            kind: .textTooLong, characters: characters, capacity: capacity,
            message:
                "text of \(characters) \(mode) characters exceeds the \(capacity) that QR version \(version) "
                + "holds at error-correction level \(errorCorrection)")
    }

    package var description: String { message }
}
