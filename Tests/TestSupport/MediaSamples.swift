/// Small media files written byte by byte, so the media tests need no encoder: each has the
/// structure its format requires (signatures, chunk and box layout, checksums where a reader
/// would verify them) around as little content as possible.
package enum MediaSamples {
    /// A grayscale PNG, IHDR to IEND, its pixels in stored (uncompressed) deflate blocks.
    package static func png(width: Int, height: Int) -> [UInt8] {
        var header = be32(width) + be32(height)
        header += [8, 0, 0, 0, 0]  // 8-bit gray, deflate, adaptive filter, no interlace
        let row = [UInt8(0)] + [UInt8](repeating: 0x80, count: width)
        let raw = (0..<height).flatMap { _ in row }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + pngChunk("IHDR", header)
            + pngChunk("IDAT", storedZlib(raw)) + pngChunk("IEND", [])
    }

    /// A GIF89a with its logical screen, one 1 × 1 image in its corner and the trailer.
    package static func gif(width: Int, height: Int) -> [UInt8] {
        var bytes = Array("GIF89a".utf8) + le16(width) + le16(height)
        bytes += [0x80, 0, 0] + [0, 0, 0, 0xFF, 0xFF, 0xFF]  // a two-colour global table
        bytes += [0x2C] + le16(0) + le16(0) + le16(1) + le16(1) + [0]
        bytes += [2, 2, 0x44, 0x01, 0]  // LZW, 3-bit codes: clear, index 0, end
        return bytes + [0x3B]
    }

    package enum WebPFlavour: Sendable, CaseIterable { case lossy, lossless, extended, animated }

    /// A WebP with the first chunk of `flavour` (the frame data after the size fields is filler).
    package static func webp(width: Int, height: Int, _ flavour: WebPFlavour) -> [UInt8] {
        let chunk: [UInt8]
        switch flavour {
        case .lossy:
            let tag: [UInt8] = [0x10, 0x02, 0x00]  // key frame, version 0, shown
            chunk = riffChunk("VP8 ", tag + [0x9D, 0x01, 0x2A] + le16(width) + le16(height) + [UInt8](repeating: 0, count: 10))
        case .lossless:
            let packed = UInt32(width - 1) | UInt32(height - 1) << 14 | 1 << 28
            chunk = riffChunk("VP8L", [0x2F] + le32(packed) + [UInt8](repeating: 0, count: 6))
        case .extended:
            let canvas = Array(le32(UInt32(width - 1)).prefix(3)) + Array(le32(UInt32(height - 1)).prefix(3))
            chunk = riffChunk("VP8X", [0x10, 0, 0, 0] + canvas) + riffChunk("ALPH", [0])
        case .animated:
            // Alpha and animation flags, then the `ANIM` chunk (background colour, loop count).
            let canvas = Array(le32(UInt32(width - 1)).prefix(3)) + Array(le32(UInt32(height - 1)).prefix(3))
            chunk = riffChunk("VP8X", [0x12, 0, 0, 0] + canvas) + riffChunk("ANIM", [0, 0, 0, 0, 0, 0])
        }
        return Array("RIFF".utf8) + le32(UInt32(4 + chunk.count)) + Array("WEBP".utf8) + chunk
    }

    /// A baseline JPEG's segments: JFIF, an optional EXIF orientation (in either byte order), a
    /// quantisation table, the frame header, Huffman tables and a scan of filler.
    package static func jpeg(
        width: Int, height: Int, orientation: Int? = nil, bigEndianExif: Bool = true, progressive: Bool = false
    ) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        bytes += segment(0xE0, Array("JFIF".utf8) + [0, 1, 1, 0] + be16(1) + be16(1) + [0, 0])
        if let orientation { bytes += exifSegment(orientation: orientation, bigEndian: bigEndianExif) }
        bytes += segment(0xDB, [0] + [UInt8](repeating: 1, count: 64))
        bytes += [0xFF, 0xFF]  // a fill byte, which readers must skip
        bytes += segment(progressive ? 0xC2 : 0xC0, [8] + be16(height) + be16(width) + [1, 1, 0x11, 0])
        bytes += segment(0xC4, [0] + [1] + [UInt8](repeating: 0, count: 15) + [0])
        bytes += segment(0xDA, [1, 1, 0, 0, 63, 0])
        bytes += [0x12, 0x34, 0xFF, 0x00, 0x56]  // entropy-coded data with a stuffed 0xFF
        return bytes + [0xFF, 0xD9]
    }

    /// Big-endian helpers shared with the container builders.
    package static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    package static func be32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(value >> (24 - 8 * $0) & 0xFF) } }
    package static func be64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(value >> (56 - 8 * UInt64($0)) & 0xFF) } }
    package static func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
    package static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(value >> (8 * UInt32($0)) & 0xFF) } }
    package static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(value >> (8 * UInt64($0)) & 0xFF) } }

    static func segment(_ marker: UInt8, _ body: [UInt8]) -> [UInt8] { [0xFF, marker] + be16(body.count + 2) + body }

    /// An APP1 segment whose EXIF IFD0 holds a camera make and `orientation`.
    static func exifSegment(orientation: Int, bigEndian big: Bool) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] { big ? be16(value) : Array(be16(value).reversed()) }
        func u32(_ value: Int) -> [UInt8] { big ? be32(value) : Array(be32(value).reversed()) }
        var tiff: [UInt8] = big ? [0x4D, 0x4D] : [0x49, 0x49]
        tiff += u16(42) + u32(8) + u16(2)
        tiff += u16(0x010F) + u16(2) + u32(4) + Array("Cam\0".utf8)  // Make, inline
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + [0, 0]
        tiff += u32(0)
        return segment(0xE1, Array("Exif".utf8) + [0, 0] + tiff)
    }

    private static func riffChunk(_ fourCC: String, _ body: [UInt8]) -> [UInt8] {
        Array(fourCC.utf8) + le32(UInt32(body.count)) + body + (body.count % 2 == 1 ? [0] : [])
    }

    private static func pngChunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(body.count) + typed + be32(Int(crc32(typed)))
    }

    /// zlib around stored deflate blocks (at most 65,535 bytes each), with its Adler-32.
    private static func storedZlib(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let last: UInt8 = offset + length == data.count ? 1 : 0
            out += [last] + le16(length) + le16(~length & 0xFFFF) + data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return out + be32(Int(b << 16 | a))
    }

    /// CRC-32 as PNG and zlib use it (reflected, polynomial 0xEDB88320).
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? crc >> 1 ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
