/// Audio and video containers for the media tests: MP4 box trees, Ogg Opus pages and MPEG
/// audio frames, with the headers players read the duration from and filler for the media.
extension MediaSamples {
    /// Where an MP4's movie box goes: before the media data (written for streaming) or after it.
    package enum MovieBoxPlace: Sendable, CaseIterable { case first, last }

    /// An MP4 of `milliseconds` with a video track of `width` × `height` (none for an M4A) and
    /// a sound track. `version1` writes 64-bit times; `rotated` turns the picture a quarter in
    /// the track matrix, as phones record portrait video; `largeMediaData` gives `mdat` a 64-bit size.
    package static func mp4(
        milliseconds: Int, width: Int? = nil, height: Int? = nil, moov: MovieBoxPlace = .first, version1: Bool = false,
        rotated: Bool = false, largeMediaData: Bool = false, brand: String = "isom"
    ) -> [UInt8] {
        let timescale = 600
        let duration = milliseconds * timescale / 1000
        let ftyp = box("ftyp", Array(brand.utf8) + be32(0x200) + Array(brand.utf8) + Array("mp41".utf8))
        let filler = [UInt8](repeating: 0xA5, count: 777)
        let mdat =
            largeMediaData
            ? be32(1) + Array("mdat".utf8) + be64(UInt64(16 + filler.count)) + filler : box("mdat", filler)
        var mvhd: [UInt8] = [version1 ? 1 : 0, 0, 0, 0]
        mvhd += version1 ? be64(0) + be64(0) + be32(timescale) + be64(UInt64(duration)) : be32(0) + be32(0) + be32(timescale) + be32(duration)
        mvhd += be32(0x0001_0000) + be16(0x0100) + [UInt8](repeating: 0, count: 10) + matrix(rotated: false)
        mvhd += [UInt8](repeating: 0, count: 24) + be32(3)
        var tracks: [UInt8] = []
        if let width, let height {
            tracks += track(1, handler: "vide", width: width, height: height, duration: duration, version1: version1, rotated: rotated)
        }
        tracks += track(2, handler: "soun", width: 0, height: 0, duration: duration, version1: version1, rotated: false)
        let moovBox = box("moov", box("mvhd", mvhd) + tracks)
        return moov == .first ? ftyp + moovBox + mdat : ftyp + mdat + moovBox
    }

    private static func track(
        _ id: Int, handler: String, width: Int, height: Int, duration: Int, version1: Bool, rotated: Bool
    ) -> [UInt8] {
        var tkhd: [UInt8] = [version1 ? 1 : 0, 0, 0, 3]
        tkhd += version1 ? be64(0) + be64(0) + be32(id) + be32(0) + be64(UInt64(duration)) : be32(0) + be32(0) + be32(id) + be32(0) + be32(duration)
        tkhd += [UInt8](repeating: 0, count: 8) + be16(0) + be16(0) + be16(handler == "soun" ? 0x0100 : 0) + be16(0)
        tkhd += matrix(rotated: rotated) + be32(width << 16) + be32(height << 16)
        let hdlr = box("hdlr", [0, 0, 0, 0] + be32(0) + Array(handler.utf8) + [UInt8](repeating: 0, count: 12) + [0])
        return box("trak", box("tkhd", tkhd) + box("mdia", box("mdhd", [UInt8](repeating: 0, count: 24)) + hdlr))
    }

    /// The 3 × 3 display matrix (16.16, with 2.30 for the last column): identity or a quarter turn.
    private static func matrix(rotated: Bool) -> [UInt8] {
        let one = 0x0001_0000
        let minusOne = 0xFFFF_0000
        let (a, b, c, d) = rotated ? (0, one, minusOne, 0) : (one, 0, 0, one)
        return be32(a) + be32(b) + be32(0) + be32(c) + be32(d) + be32(0) + be32(0) + be32(0) + be32(0x4000_0000)
    }

    package static func box(_ type: String, _ body: [UInt8]) -> [UInt8] { be32(8 + body.count) + Array(type.utf8) + body }

    /// An Ogg Opus stream of `milliseconds` at 48 kHz after `preSkip` samples: OpusHead, OpusTags
    /// and audio pages (a granule every 20 ms packet page, the last marked end of stream), with
    /// Ogg's CRC on every page.
    package static func oggOpus(milliseconds: Int, preSkip: Int = 312, serial: UInt32 = 0x0A0B_0C0D) -> [UInt8] {
        let head = Array("OpusHead".utf8) + [1, 1] + le16(preSkip) + le32(48_000) + le16(0) + [0]
        let tags = Array("OpusTags".utf8) + le32(6) + Array("openwa".utf8) + le32(0)
        var bytes = oggPage(head, granule: 0, serial: serial, sequence: 0, flags: 0x02)
        bytes += oggPage(tags, granule: 0, serial: serial, sequence: 1, flags: 0)
        let total = milliseconds * 48 + preSkip
        let packets = max(1, milliseconds / 20)
        for index in 0..<packets {
            let granule = index == packets - 1 ? total : min(total, preSkip + (index + 1) * 960)
            let packet: [UInt8] = [0xFC] + [UInt8](repeating: UInt8(index & 0xFF), count: 20)
            bytes += oggPage(packet, granule: UInt64(granule), serial: serial, sequence: UInt32(index + 2), flags: index == packets - 1 ? 0x04 : 0)
        }
        return bytes
    }

    private static func oggPage(_ packet: [UInt8], granule: UInt64, serial: UInt32, sequence: UInt32, flags: UInt8) -> [UInt8] {
        var lacing = [UInt8](repeating: 255, count: packet.count / 255)
        lacing.append(UInt8(packet.count % 255))
        var page = Array("OggS".utf8) + [0, flags] + le64(granule) + le32(serial) + le32(sequence) + le32(0)
        page += [UInt8(lacing.count)] + lacing + packet
        let crc = oggCRC(page)
        page.replaceSubrange(22..<26, with: le32(crc))
        return page
    }

    /// Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, zero start.
    private static func oggCRC(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0
        for byte in data {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? crc << 1 ^ 0x04C1_1DB7 : crc << 1 }
        }
        return crc
    }

    /// How an MP3 says its length: a LAME `Info` frame counting the frames, a Fraunhofer `VBRI`
    /// header, or nothing (constant bitrate, judged from the size).
    package enum MP3Header: Sendable, CaseIterable { case info, vbri, none }

    /// `frames` MPEG-1 layer III frames at 128 kbit/s and 44.1 kHz (1,152 samples, 417 bytes
    /// each), after an ID3v2 tag and, when asked, before an ID3v1 tag.
    package static func mp3(frames: Int, header: MP3Header, id3v1: Bool = true) -> [UInt8] {
        let frameHeader: [UInt8] = [0xFF, 0xFB, 0x90, 0x64]  // joint stereo
        func frame(_ fill: UInt8) -> [UInt8] { frameHeader + [UInt8](repeating: fill, count: 413) }
        let title = Array("TIT2".utf8) + be32(6) + [0, 0] + [0] + Array("tone".utf8)
        var bytes = Array("ID3".utf8) + [4, 0, 0] + [0, 0, 0, UInt8(title.count)] + title
        switch header {
        case .info:
            var first = frame(0)
            let tag = 4 + 32
            first.replaceSubrange(tag..<(tag + 12), with: Array("Info".utf8) + be32(1) + be32(frames))
            bytes += first
        case .vbri:
            var first = frame(0)
            first.replaceSubrange(36..<54, with: Array("VBRI".utf8) + be16(1) + be16(0) + be16(75) + be32(frames * 417) + be32(frames))
            bytes += first
        case .none:
            break
        }
        for index in 0..<frames { bytes += frame(UInt8(0x11 &+ index & 0x7F)) }
        if id3v1 { bytes += Array("TAG".utf8) + [UInt8](repeating: 0x20, count: 125) }
        return bytes
    }
}
