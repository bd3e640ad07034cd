/// What a media message can say about its file besides the bytes (reference part 2, section 4.3):
/// the dimensions phones lay the bubble out with and the duration shown on videos and voice
/// notes. Nil where the file does not say or could not be read.
package struct MediaFacts: Sendable, Equatable {
    /// Displayed pixels: a JPEG's EXIF orientation or a video track's rotation that turns the
    /// picture on its side is already applied, so a portrait photo is taller than wide.
    package var width: UInt32?
    package var height: UInt32?
    /// Whole seconds, rounded to the nearest.
    package var seconds: UInt32?
    /// A WebP with the animation flag of its extended header (animated stickers); nil for
    /// formats where the probe does not tell.
    package var isAnimated: Bool?

    package init(width: UInt32? = nil, height: UInt32? = nil, seconds: UInt32? = nil, isAnimated: Bool? = nil) {
        self.width = width
        self.height = height
        self.seconds = seconds
        self.isAnimated = isAnimated
    }
}

/// Reads `MediaFacts` from a file's own headers, in Swift and without decoding a pixel or a
/// sample: JPEG, PNG, GIF and WebP dimensions; MP4/MOV/3GP/M4A duration and video size; Ogg
/// (Opus, Vorbis) and MP3 duration. The format is recognised by its leading bytes, never by
/// the mimetype a caller claims. Every read is bounds-checked and every walk advances, so
/// truncated or hostile input yields empty facts rather than a crash or a loop.
package enum MediaProbe {
    package static func facts(of file: [UInt8]) -> MediaFacts {
        let bytes = ProbeBytes(file)
        if bytes.matches([0xFF, 0xD8, 0xFF], at: 0) { return jpeg(bytes) ?? MediaFacts() }
        if bytes.matches([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], at: 0) { return png(bytes) ?? MediaFacts() }
        if bytes.matches(ascii: "GIF87a", at: 0) || bytes.matches(ascii: "GIF89a", at: 0) { return gif(bytes) ?? MediaFacts() }
        if bytes.matches(ascii: "RIFF", at: 0), bytes.matches(ascii: "WEBP", at: 8) { return webp(bytes) ?? MediaFacts() }
        if bytes.matches(ascii: "OggS", at: 0) { return ogg(bytes) ?? MediaFacts() }
        if isoMediaFirstBoxes.contains(where: { bytes.matches(ascii: $0, at: 4) }) { return isoMedia(bytes) ?? MediaFacts() }
        if bytes.matches(ascii: "ID3", at: 0) || mpegAudioHeader(bytes, at: 0) != nil { return mp3(bytes) ?? MediaFacts() }
        return MediaFacts()
    }

    /// Box types an MP4, QuickTime or 3GP file starts with (`ftyp` in nearly all of them; old
    /// QuickTime files open with the movie or data box directly).
    private static let isoMediaFirstBoxes = ["ftyp", "moov", "mdat", "free", "skip", "wide", "pnot"]

    /// `units` of `perSecond` as whole seconds; nil for a zero rate or a value out of range.
    static func seconds(_ units: UInt64, perSecond: UInt64) -> UInt32? {
        guard perSecond > 0 else { return nil }
        let value = (Double(units) / Double(perSecond)).rounded()
        guard value.isFinite, value >= 0, value <= Double(UInt32.max) else { return nil }
        return UInt32(value)
    }

    /// Width and height as facts, both or neither; zero is no answer.
    static func dimensions(_ width: UInt32, _ height: UInt32, swapped: Bool = false) -> MediaFacts? {
        guard width > 0, height > 0 else { return nil }
        return swapped ? MediaFacts(width: height, height: width) : MediaFacts(width: width, height: height)
    }
}

/// Bounds-checked reads of a file's bytes: every accessor answers nil past the end instead of
/// trapping, which is what lets the format walkers treat truncation like any other bad input.
struct ProbeBytes {
    let storage: [UInt8]

    init(_ storage: [UInt8]) { self.storage = storage }

    var count: Int { storage.count }

    func has(_ length: Int, at offset: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= storage.count && length <= storage.count - offset
    }

    func u8(_ offset: Int) -> UInt8? { has(1, at: offset) ? storage[offset] : nil }

    func be16(_ offset: Int) -> UInt16? { unsigned(offset, 2, bigEndian: true).map { UInt16($0) } }
    func be32(_ offset: Int) -> UInt32? { unsigned(offset, 4, bigEndian: true).map { UInt32($0) } }
    func be64(_ offset: Int) -> UInt64? { unsigned(offset, 8, bigEndian: true) }
    func le16(_ offset: Int) -> UInt16? { unsigned(offset, 2, bigEndian: false).map { UInt16($0) } }
    func le24(_ offset: Int) -> UInt32? { unsigned(offset, 3, bigEndian: false).map { UInt32($0) } }
    func le32(_ offset: Int) -> UInt32? { unsigned(offset, 4, bigEndian: false).map { UInt32($0) } }
    func le64(_ offset: Int) -> UInt64? { unsigned(offset, 8, bigEndian: false) }

    /// A 16- or 32-bit value in the byte order a TIFF header named.
    func u16(_ offset: Int, bigEndian: Bool) -> UInt16? { bigEndian ? be16(offset) : le16(offset) }
    func u32(_ offset: Int, bigEndian: Bool) -> UInt32? { bigEndian ? be32(offset) : le32(offset) }

    func matches(_ expected: [UInt8], at offset: Int) -> Bool {
        guard has(expected.count, at: offset) else { return false }
        for (index, byte) in expected.enumerated() where storage[offset + index] != byte { return false }
        return true
    }

    func matches(ascii text: String, at offset: Int) -> Bool {
        let utf8 = text.utf8
        guard has(utf8.count, at: offset) else { return false }
        var index = offset
        for byte in utf8 {
            guard storage[index] == byte else { return false }
            index += 1
        }
        return true
    }

    private func unsigned(_ offset: Int, _ width: Int, bigEndian: Bool) -> UInt64? {
        guard has(width, at: offset) else { return nil }
        var value: UInt64 = 0
        for index in 0..<width {
            let byte = UInt64(storage[offset + (bigEndian ? index : width - 1 - index)])
            value = value << 8 | byte
        }
        return value
    }
}
