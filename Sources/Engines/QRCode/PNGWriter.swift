/// Draws a `QRCode` as a PNG: 1-bit greyscale, one row of bytes per pixel row, held in a zlib stream of
/// stored (uncompressed) deflate blocks.
///
/// Stored blocks keep the module free of C libraries; a pairing QR image is a few tens of kilobytes
/// uncompressed, which is small enough not to be worth a compressor.
package enum PNGWriter {
    /// The eight-byte PNG file signature.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// Stored deflate blocks carry at most 65 535 bytes each (a 16-bit LEN field).
    static let maxStoredBlock = 65_535

    /// The PNG bytes for `code`, with `scale` pixels per module and a light border of `margin` modules on
    /// every side (the standard asks for a quiet zone of at least 4).
    package static func png(for code: QRCode, scale: Int = 8, margin: Int = 4) -> [UInt8] {
        precondition(scale >= 1, "PNG scale must be at least 1 pixel per module")
        precondition(margin >= 0, "PNG margin must not be negative")
        let modulesAcross = code.size + 2 * margin
        let pixels = modulesAcross * scale

        var out = signature
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(pixels))
        header.appendBigEndian(UInt32(pixels))
        // Bit depth 1, colour type 0 (greyscale), deflate, adaptive filtering, no interlace.
        header += [1, 0, 0, 0, 0]
        appendChunk("IHDR", header, to: &out)
        appendChunk("IDAT", zlibStored(scanlines(for: code, scale: scale, margin: margin)), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// The PNG for `code` as a `data:image/png;base64,…` URL, the shape the QR endpoint returns.
    package static func dataURL(for code: QRCode, scale: Int = 8, margin: Int = 4) -> String {
        "data:image/png;base64," + base64(png(for: code, scale: scale, margin: margin))
    }

    /// The filtered image data: each pixel row is a filter-type byte (0, none) then the pixels packed
    /// eight to a byte, leftmost in the high bit, 1 for white. Rows repeat `scale` times per module row.
    static func scanlines(for code: QRCode, scale: Int, margin: Int) -> [UInt8] {
        let pixels = (code.size + 2 * margin) * scale
        let rowBytes = (pixels + 7) / 8
        var image: [UInt8] = []
        image.reserveCapacity((rowBytes + 1) * pixels)
        var row = [UInt8](repeating: 0, count: rowBytes + 1)
        for moduleY in -margin..<(code.size + margin) {
            for index in row.indices { row[index] = 0 }
            for pixel in 0..<pixels where !code.isDark(x: pixel / scale - margin, y: moduleY) {
                row[1 + pixel / 8] |= 0x80 >> UInt8(pixel % 8)
            }
            for _ in 0..<scale { image += row }
        }
        return image
    }

    /// `data` as a zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4).
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        // CMF 0x78: deflate with a 32 KiB window; FLG 0x01 makes CMF·256 + FLG a multiple of 31 and
        // declares the fastest level, which is honest for no compression.
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let end = min(start + maxStoredBlock, data.count)
            let isFinal = end == data.count
            // BFINAL in bit 0, BTYPE 00 in bits 1-2; a stored block then skips to the byte boundary.
            out.append(isFinal ? 1 : 0)
            let length = UInt16(end - start)
            out.appendLittleEndian(length)
            out.appendLittleEndian(~length)
            out += data[start..<end]
            start = end
        } while start < data.count
        out.appendBigEndian(Adler32.checksum(data))
        return out
    }

    /// A chunk: big-endian length, four-letter type, data, and the CRC-32 of type and data.
    private static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        out.appendBigEndian(UInt32(data.count))
        let typed = Array(type.utf8) + data
        out += typed
        out.appendBigEndian(CRC32.checksum(typed))
    }
}

// MARK: - Base64

extension PNGWriter {
    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard padded base64 (RFC 4648 §4); written here because Engines does not import Foundation.
    static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let count = min(3, bytes.count - start)
            var group: UInt32 = 0
            for offset in 0..<3 {
                group = group << 8 | UInt32(offset < count ? bytes[start + offset] : 0)
            }
            // Four sextets from the 24-bit group; those past the input become '=' padding.
            for sextet in 0..<4 {
                let value = Int(group >> UInt32(18 - 6 * sextet) & 0x3F)
                out.append(sextet <= count ? base64Alphabet[value] : UInt8(ascii: "="))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

private extension [UInt8] {
    mutating func appendBigEndian(_ value: UInt32) {
        for shift: UInt32 in [24, 16, 8, 0] { append(UInt8(value >> shift & 0xFF)) }
    }

    mutating func appendLittleEndian(_ value: UInt16) {
        append(contentsOf: [UInt8(value & 0xFF), UInt8(value >> 8)])
    }
}
