/// Audio durations: Ogg (Opus voice notes, Vorbis) from the last page's granule position, MP3
/// from a Xing/Info or VBRI frame count, or from the first frame's bitrate when it has neither.
extension MediaProbe {
    /// Ogg pages start `OggS`; the granule position (byte 6, 64-bit little endian) of the last
    /// page of the stream is its length in samples. Opus counts at 48 kHz whatever the input
    /// rate and includes the encoder's pre-skip (OpusHead byte 10), which is not heard; Vorbis
    /// counts at the rate its identification header gives.
    static func ogg(_ bytes: ProbeBytes) -> MediaFacts? {
        guard let serial = bytes.le32(14), let segments = bytes.u8(26) else { return nil }
        let packet = 27 + Int(segments)
        let rate: UInt64
        let preSkip: UInt64
        if bytes.matches(ascii: "OpusHead", at: packet) {
            guard let skip = bytes.le16(packet + 10) else { return nil }
            rate = 48_000
            preSkip = UInt64(skip)
        } else if bytes.matches([0x01], at: packet), bytes.matches(ascii: "vorbis", at: packet + 1) {
            guard let sampleRate = bytes.le32(packet + 12) else { return nil }
            rate = UInt64(sampleRate)
            preSkip = 0
        } else {
            return nil
        }
        guard let granule = lastGranule(bytes, serial: serial), granule >= preSkip else { return nil }
        return seconds(granule - preSkip, perSecond: rate).map { MediaFacts(seconds: $0) }
    }

    /// The granule of the last complete page header of `serial`, searching back from the end;
    /// pages that finish no packet carry -1 and are passed over. A page is at most 65,307 bytes,
    /// so the search stops after 256 KiB: enough for the last pages of a cut file, and a file
    /// ending in that much of something else is not an Ogg stream this can time.
    private static func lastGranule(_ bytes: ProbeBytes, serial: UInt32) -> UInt64? {
        let capture: [UInt8] = Array("OggS".utf8)
        var offset = bytes.count - 27
        let stop = max(0, bytes.count - 256 * 1_024)
        while offset >= stop {
            if bytes.u8(offset) == 0x4F, bytes.matches(capture, at: offset), bytes.u8(offset + 4) == 0, bytes.le32(offset + 14) == serial,
                let granule = bytes.le64(offset + 6), granule != .max
            {
                return granule
            }
            offset -= 1
        }
        return nil
    }

    /// The first MPEG audio frame after any ID3v2 tag. A Xing/Info header (LAME and most
    /// encoders write one, VBR or not) or a VBRI header counts the frames exactly; without one
    /// the file is taken as constant bitrate and its audio bytes divided by the first frame's
    /// bitrate, which misjudges a VBR file that lacks both headers.
    static func mp3(_ bytes: ProbeBytes) -> MediaFacts? {
        var start = 0
        if bytes.matches(ascii: "ID3", at: 0) {
            guard let flags = bytes.u8(5), let size = syncSafe(bytes, at: 6) else { return nil }
            start = 10 + size + (flags & 0x10 != 0 ? 10 : 0)
        }
        // Some taggers pad after the tag; look a little further for a frame that is followed by
        // another (or by the end of the file), so stray 0xFF bytes are not taken for one.
        let searchEnd = min(bytes.count - 4, start + 65_536)
        var offset = start
        var found: MPEGAudioHeader?
        while offset <= searchEnd, found == nil {
            if let header = mpegAudioHeader(bytes, at: offset) {
                let next = offset + header.frameLength
                if next + 4 > bytes.count || mpegAudioHeader(bytes, at: next) != nil { found = header; break }
            }
            offset += 1
        }
        guard let frame = found else { return nil }
        let samples = UInt64(frame.samplesPerFrame)
        let rate = UInt64(frame.sampleRate)
        for tag in ["Xing", "Info"] where bytes.matches(ascii: tag, at: offset + 4 + frame.sideInfoLength) {
            let xing = offset + 4 + frame.sideInfoLength
            guard let flags = bytes.be32(xing + 4), flags & 1 != 0, let frames = bytes.be32(xing + 8) else { return nil }
            return seconds(UInt64(frames) * samples, perSecond: rate).map { MediaFacts(seconds: $0) }
        }
        if bytes.matches(ascii: "VBRI", at: offset + 36) {
            guard let frames = bytes.be32(offset + 36 + 14) else { return nil }
            return seconds(UInt64(frames) * samples, perSecond: rate).map { MediaFacts(seconds: $0) }
        }
        let trailingTag = bytes.count >= 128 && bytes.matches(ascii: "TAG", at: bytes.count - 128) ? 128 : 0
        let audioBytes = UInt64(max(0, bytes.count - trailingTag - offset))
        return seconds(audioBytes * 8, perSecond: UInt64(frame.bitrate)).map { MediaFacts(seconds: $0) }
    }

    /// ID3v2 sizes: four bytes of seven bits each.
    private static func syncSafe(_ bytes: ProbeBytes, at offset: Int) -> Int? {
        guard let packed = bytes.be32(offset), packed & 0x8080_8080 == 0 else { return nil }
        return Int((packed >> 24) << 21 | (packed >> 16 & 0x7F) << 14 | (packed >> 8 & 0x7F) << 7 | (packed & 0x7F))
    }

    struct MPEGAudioHeader {
        var bitrate: Int
        var sampleRate: Int
        var samplesPerFrame: Int
        var frameLength: Int
        /// Bytes between the 4-byte header and a Xing/Info tag.
        var sideInfoLength: Int
    }

    /// kbit/s by [MPEG-1 ? 0 : 1][layer I, II, III][index].
    private static let bitrates: [[[Int]]] = [
        [
            [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
            [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
            [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
        ],
        [
            [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
            [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
            [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
        ],
    ]

    /// The frame header at `offset` (11 sync bits, version, layer, bitrate, rate, padding),
    /// or nil when those bits name no valid frame (free-format bitrate included).
    static func mpegAudioHeader(_ bytes: ProbeBytes, at offset: Int) -> MPEGAudioHeader? {
        guard let b0 = bytes.u8(offset), let b1 = bytes.u8(offset + 1), let b2 = bytes.u8(offset + 2),
            let b3 = bytes.u8(offset + 3), b0 == 0xFF, b1 & 0xE0 == 0xE0
        else { return nil }
        let version = Int(b1 >> 3 & 3)  // 0 MPEG-2.5, 2 MPEG-2, 3 MPEG-1
        let layerBits = Int(b1 >> 1 & 3)  // 1 layer III, 2 layer II, 3 layer I
        let bitrateIndex = Int(b2 >> 4)
        let rateIndex = Int(b2 >> 2 & 3)
        guard version != 1, layerBits != 0, (1...14).contains(bitrateIndex), rateIndex != 3 else { return nil }
        let mpeg1 = version == 3
        let layer = 4 - layerBits  // 1, 2 or 3
        let bitrate = bitrates[mpeg1 ? 0 : 1][layer - 1][bitrateIndex] * 1000
        let sampleRate = [44_100, 48_000, 32_000][rateIndex] >> (mpeg1 ? 0 : version == 2 ? 1 : 2)
        let padding = Int(b2 >> 1 & 1)
        let samplesPerFrame = layer == 1 ? 384 : (layer == 3 && !mpeg1 ? 576 : 1152)
        let frameLength =
            layer == 1
            ? (12 * bitrate / sampleRate + padding) * 4
            : samplesPerFrame / 8 * bitrate / sampleRate + padding
        let mono = b3 >> 6 == 3
        let sideInfoLength = mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17)
        guard frameLength >= 4 else { return nil }
        return MPEGAudioHeader(
            bitrate: bitrate, sampleRate: sampleRate, samplesPerFrame: samplesPerFrame, frameLength: frameLength,
            sideInfoLength: sideInfoLength)
    }
}
