/// Duration and video size of the ISO base media family (MP4, MOV, 3GP, M4A): the movie header
/// (`moov/mvhd`) gives the duration, the video track's header (`moov/trak/tkhd`, the track whose
/// handler is `vide`) its presentation size. `moov` may sit before or after the media data
/// (files not written for streaming put it last), so the top level is walked to the end.
extension MediaProbe {
    static func isoMedia(_ bytes: ProbeBytes) -> MediaFacts? {
        guard let movie = firstBox("moov", in: 0..<bytes.count, of: bytes) else { return nil }
        var facts = MediaFacts()
        if let header = firstBox("mvhd", in: movie, of: bytes) { facts.seconds = movieSeconds(header, bytes) }
        for track in boxes("trak", in: movie, of: bytes) {
            guard let header = firstBox("tkhd", in: track, of: bytes), let size = trackSize(header, bytes) else { continue }
            let handler = firstBox("mdia", in: track, of: bytes).flatMap { firstBox("hdlr", in: $0, of: bytes) }
            // Sound and text tracks are 0 × 0; a track without a handler box is judged by its size.
            if let handler, !bytes.matches(ascii: "vide", at: handler.lowerBound + 8) { continue }
            facts.width = size.width
            facts.height = size.height
            break
        }
        return facts == MediaFacts() ? nil : facts
    }

    /// `mvhd` version 0 (32-bit times) or 1 (64-bit): duration over timescale. An all-ones
    /// duration means unknown.
    private static func movieSeconds(_ header: Range<Int>, _ bytes: ProbeBytes) -> UInt32? {
        let start = header.lowerBound
        switch bytes.u8(start) {
        case 0:
            guard header.count >= 20, let scale = bytes.be32(start + 12), let duration = bytes.be32(start + 16),
                duration != .max
            else { return nil }
            return seconds(UInt64(duration), perSecond: UInt64(scale))
        case 1:
            guard header.count >= 32, let scale = bytes.be32(start + 20), let duration = bytes.be64(start + 24),
                duration != .max
            else { return nil }
            return seconds(duration, perSecond: UInt64(scale))
        default:
            return nil
        }
    }

    /// `tkhd`'s width and height (16.16 fixed point, integer part), swapped when the matrix
    /// turns the picture a quarter (a = 0, b = ±1: phones record portrait video that way).
    private static func trackSize(_ header: Range<Int>, _ bytes: ProbeBytes) -> (width: UInt32, height: UInt32)? {
        let start = header.lowerBound
        let matrix: Int
        switch bytes.u8(start) {
        case 0: matrix = start + 40
        case 1: matrix = start + 52
        default: return nil
        }
        let size = matrix + 36
        guard size + 8 <= header.upperBound, let a = bytes.be32(matrix), let b = bytes.be32(matrix + 4),
            let width = bytes.be32(size), let height = bytes.be32(size + 4)
        else { return nil }
        guard let facts = dimensions(width >> 16, height >> 16, swapped: a == 0 && b != 0),
            let shownWidth = facts.width, let shownHeight = facts.height
        else { return nil }
        return (shownWidth, shownHeight)
    }

    private static func firstBox(_ type: String, in range: Range<Int>, of bytes: ProbeBytes) -> Range<Int>? {
        var found: Range<Int>?
        walkBoxes(in: range, of: bytes) { boxType, content in
            guard bytes.matches(ascii: type, at: boxType) else { return true }
            found = content
            return false
        }
        return found
    }

    private static func boxes(_ type: String, in range: Range<Int>, of bytes: ProbeBytes) -> [Range<Int>] {
        var found: [Range<Int>] = []
        walkBoxes(in: range, of: bytes) { boxType, content in
            if bytes.matches(ascii: type, at: boxType) { found.append(content) }
            return found.count < 64
        }
        return found
    }

    /// Visits each box in `range` with the offset of its type and its content range; `visit`
    /// answers whether to go on. A size of 1 means a 64-bit size follows, 0 means "to the end";
    /// a box running past the range (a truncated file) is cut at its end. Every step moves on by
    /// at least the 8-byte header, so the walk ends.
    private static func walkBoxes(in range: Range<Int>, of bytes: ProbeBytes, visit: (Int, Range<Int>) -> Bool) {
        var offset = range.lowerBound
        let end = min(range.upperBound, bytes.count)
        while offset <= end - 8, let size32 = bytes.be32(offset) {
            var headerLength = 8
            var size: Int
            switch size32 {
            case 0:
                size = end - offset
            case 1:
                guard let size64 = bytes.be64(offset + 8), size64 <= UInt64(Int.max) else { return }
                size = Int(size64)
                headerLength = 16
            default:
                size = Int(size32)
            }
            guard size >= headerLength, offset + headerLength <= end else { return }
            let contentEnd = size > end - offset ? end : offset + size
            guard visit(offset + 4, (offset + headerLength)..<contentEnd) else { return }
            guard size <= end - offset else { return }
            offset += size
        }
    }
}
