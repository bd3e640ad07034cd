/// Image dimensions from the header of each format phones send: JPEG's frame header, PNG's
/// IHDR, GIF's logical screen and the three WebP flavours (stickers are WebP).
extension MediaProbe {
    /// Walks the marker segments up to the first start-of-frame. An EXIF orientation of 5 to 8
    /// (the picture stored on its side, as phones' cameras write portraits) swaps the sides:
    /// receiving phones rotate by EXIF before showing it, so the bubble must be laid out with the
    /// displayed width and height, not the stored ones.
    static func jpeg(_ bytes: ProbeBytes) -> MediaFacts? {
        guard let frame = jpegFrame(bytes) else { return nil }
        return dimensions(frame.width, frame.height, swapped: (5...8).contains(frame.orientation))
    }

    /// The EXIF orientation (1 to 8) of a JPEG, 1 when it has none: what a preview made from
    /// the stored pixels must be turned by. Nil for what is not a readable JPEG.
    package static func jpegOrientation(of file: [UInt8]) -> Int? {
        let bytes = ProbeBytes(file)
        guard bytes.matches([0xFF, 0xD8, 0xFF], at: 0) else { return nil }
        return jpegFrame(bytes).map { Int($0.orientation) }
    }

    /// The stored size from the first start-of-frame and the orientation of the EXIF before it.
    private static func jpegFrame(_ bytes: ProbeBytes) -> (width: UInt32, height: UInt32, orientation: UInt16)? {
        var offset = 2
        var orientation: UInt16 = 1
        while let prefix = bytes.u8(offset), let marker = bytes.u8(offset + 1) {
            guard prefix == 0xFF else { return nil }
            switch marker {
            case 0xFF:
                offset += 1  // fill byte before a marker
                continue
            case 0x01, 0xD0...0xD8:
                offset += 2  // markers without a length
                continue
            case 0xD9, 0xDA:
                return nil  // end of image or scan data before any frame header
            default:
                break
            }
            guard let length = bytes.be16(offset + 2), length >= 2 else { return nil }
            let body = offset + 4
            let bodyLength = Int(length) - 2
            if marker == 0xE1, orientation == 1, let found = exifOrientation(bytes, at: body, length: bodyLength) {
                orientation = found
            }
            if isStartOfFrame(marker) {
                guard let height = bytes.be16(body + 1), let width = bytes.be16(body + 3) else { return nil }
                return (UInt32(width), UInt32(height), orientation)
            }
            offset = body + bodyLength
        }
        return nil
    }

    /// SOF0 to SOF15 carry the frame size; C4 (Huffman tables), C8 (reserved) and CC
    /// (arithmetic conditioning) share the range but do not.
    private static func isStartOfFrame(_ marker: UInt8) -> Bool {
        (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
    }

    /// The orientation tag (0x0112) of IFD0 in an APP1 `Exif` segment; nil when there is none.
    private static func exifOrientation(_ bytes: ProbeBytes, at body: Int, length: Int) -> UInt16? {
        guard length >= 14, bytes.matches([0x45, 0x78, 0x69, 0x66, 0, 0], at: body) else { return nil }
        let tiff = body + 6
        let end = min(body + length, bytes.count)
        let bigEndian: Bool
        if bytes.matches([0x4D, 0x4D], at: tiff) {
            bigEndian = true
        } else if bytes.matches([0x49, 0x49], at: tiff) {
            bigEndian = false
        } else {
            return nil
        }
        guard bytes.u16(tiff + 2, bigEndian: bigEndian) == 42, let first = bytes.u32(tiff + 4, bigEndian: bigEndian),
            Int(first) <= end - tiff
        else { return nil }
        let directory = tiff + Int(first)
        guard let entries = bytes.u16(directory, bigEndian: bigEndian) else { return nil }
        for index in 0..<Int(entries) {
            let entry = directory + 2 + 12 * index
            guard entry + 12 <= end, let tag = bytes.u16(entry, bigEndian: bigEndian) else { return nil }
            guard tag == 0x0112 else { continue }
            guard let value = bytes.u16(entry + 8, bigEndian: bigEndian), (1...8).contains(value) else { return nil }
            return value
        }
        return nil
    }

    /// The IHDR chunk, which the format requires to come first.
    static func png(_ bytes: ProbeBytes) -> MediaFacts? {
        guard bytes.matches(ascii: "IHDR", at: 12), let width = bytes.be32(16), let height = bytes.be32(20) else { return nil }
        return dimensions(width, height)
    }

    /// The logical screen size, which every frame is drawn within.
    static func gif(_ bytes: ProbeBytes) -> MediaFacts? {
        guard let width = bytes.le16(6), let height = bytes.le16(8) else { return nil }
        return dimensions(UInt32(width), UInt32(height))
    }

    /// The first chunk after `WEBP`: lossy `VP8 ` (frame header after the 9D 01 2A start code,
    /// 14-bit sizes), lossless `VP8L` (sizes minus one packed after the 0x2F signature) or
    /// extended `VP8X` (24-bit canvas sizes minus one, used by animated stickers; its flags
    /// byte has the animation bit, 0x02). Only `VP8X` can hold frames.
    static func webp(_ bytes: ProbeBytes) -> MediaFacts? {
        let chunk = 20
        if bytes.matches(ascii: "VP8 ", at: 12) {
            guard bytes.matches([0x9D, 0x01, 0x2A], at: chunk + 3), let width = bytes.le16(chunk + 6),
                let height = bytes.le16(chunk + 8)
            else { return nil }
            return still(dimensions(UInt32(width & 0x3FFF), UInt32(height & 0x3FFF)))
        }
        if bytes.matches(ascii: "VP8L", at: 12) {
            guard bytes.u8(chunk) == 0x2F, let packed = bytes.le32(chunk + 1) else { return nil }
            return still(dimensions((packed & 0x3FFF) + 1, (packed >> 14 & 0x3FFF) + 1))
        }
        if bytes.matches(ascii: "VP8X", at: 12) {
            guard let flags = bytes.u8(chunk), let width = bytes.le24(chunk + 4), let height = bytes.le24(chunk + 7),
                var facts = dimensions(width + 1, height + 1)
            else { return nil }
            facts.isAnimated = flags & 0x02 != 0
            return facts
        }
        return nil
    }

    private static func still(_ facts: MediaFacts?) -> MediaFacts? {
        guard var facts else { return nil }
        facts.isAnimated = false
        return facts
    }
}
