import Testing
import TestSupport
import WAProtocol

/// The media probe on files of every format it reads, written byte by byte: the dimensions and
/// durations it finds, and nothing at all from what it cannot read.
@Suite struct MediaProbeTests {
    private func facts(_ bytes: [UInt8]) -> MediaFacts { MediaProbe.facts(of: bytes) }

    // MARK: - Images

    @Test func jpegSizeComesFromTheFrameHeaderPastTheAppSegments() {
        #expect(facts(MediaSamples.jpeg(width: 1280, height: 960)) == MediaFacts(width: 1280, height: 960))
        #expect(facts(MediaSamples.jpeg(width: 77, height: 4001, progressive: true)) == MediaFacts(width: 77, height: 4001))
    }

    @Test(arguments: [true, false])
    func exifOrientationsThatTurnThePictureSwapItsSides(_ bigEndian: Bool) {
        for orientation in 1...4 {
            let jpeg = MediaSamples.jpeg(width: 4032, height: 3024, orientation: orientation, bigEndianExif: bigEndian)
            #expect(facts(jpeg) == MediaFacts(width: 4032, height: 3024), "orientation \(orientation)")
        }
        for orientation in 5...8 {
            let jpeg = MediaSamples.jpeg(width: 4032, height: 3024, orientation: orientation, bigEndianExif: bigEndian)
            #expect(facts(jpeg) == MediaFacts(width: 3024, height: 4032), "orientation \(orientation)")
        }
    }

    @Test func pngGifAndEveryWebPFlavour() {
        #expect(facts(MediaSamples.png(width: 33, height: 17)) == MediaFacts(width: 33, height: 17))
        #expect(facts(MediaSamples.gif(width: 480, height: 270)) == MediaFacts(width: 480, height: 270))
        for flavour in MediaSamples.WebPFlavour.allCases {
            // Only the extended header's animation flag makes a WebP animated.
            let animated = flavour == .animated
            #expect(
                facts(MediaSamples.webp(width: 512, height: 512, flavour)) == MediaFacts(width: 512, height: 512, isAnimated: animated),
                "\(flavour)")
            #expect(
                facts(MediaSamples.webp(width: 300, height: 97, flavour)) == MediaFacts(width: 300, height: 97, isAnimated: animated),
                "\(flavour)")
        }
        // The widest each flavour can say: 14 bits for VP8 and VP8L, 24 bits for VP8X.
        #expect(facts(MediaSamples.webp(width: 16_383, height: 1, .lossy)).width == 16_383)
        #expect(facts(MediaSamples.webp(width: 16_384, height: 16_384, .lossless)).height == 16_384)
        #expect(facts(MediaSamples.webp(width: 1 << 24, height: 2, .extended)).width == 1 << 24)
    }

    // MARK: - Video and MP4 audio

    @Test(arguments: MediaSamples.MovieBoxPlace.allCases)
    func mp4DurationAndVideoSizeWhereverTheMovieBoxSits(_ place: MediaSamples.MovieBoxPlace) {
        let video = MediaSamples.mp4(milliseconds: 12_400, width: 1920, height: 1080, moov: place)
        #expect(facts(video) == MediaFacts(width: 1920, height: 1080, seconds: 12))
        let long = MediaSamples.mp4(milliseconds: 3_600_600, width: 640, height: 360, moov: place, version1: true, largeMediaData: true)
        #expect(facts(long) == MediaFacts(width: 640, height: 360, seconds: 3601))
    }

    @Test func portraitVideoRecordedWithARotationMatrixIsTallerThanWide() {
        let portrait = MediaSamples.mp4(milliseconds: 5_000, width: 1280, height: 720, moov: .last, rotated: true, brand: "qt  ")
        #expect(facts(portrait) == MediaFacts(width: 720, height: 1280, seconds: 5))
    }

    @Test func m4aAudioHasADurationAndNoPictureSize() {
        #expect(facts(MediaSamples.mp4(milliseconds: 61_700, brand: "M4A ")) == MediaFacts(seconds: 62))
        #expect(facts(MediaSamples.mp4(milliseconds: 400, brand: "3gp4")) == MediaFacts(seconds: 0))
    }

    // MARK: - Audio

    @Test func opusDurationIsTheLastGranuleLessThePreSkipAt48kHz() {
        #expect(facts(MediaSamples.oggOpus(milliseconds: 7_000)) == MediaFacts(seconds: 7))
        #expect(facts(MediaSamples.oggOpus(milliseconds: 2_600, preSkip: 3_840)) == MediaFacts(seconds: 3))
        // A granule smaller than the pre-skip is no duration at all.
        var broken = MediaSamples.oggOpus(milliseconds: 20, preSkip: 312)
        // The last page is 27 header bytes, one lacing value and a 21-byte packet.
        broken.replaceSubrange((broken.count - 43)..<(broken.count - 35), with: MediaSamples.le64(5))
        #expect(facts(broken).seconds == nil)
        // The last page is looked for in the last 256 KiB only (a page is at most 64 KiB).
        let stream = MediaSamples.oggOpus(milliseconds: 5_000)
        #expect(facts(stream + [UInt8](repeating: 0x4F, count: 100_000)).seconds == 5)
        #expect(facts(stream + [UInt8](repeating: 0x4F, count: 300_000)).seconds == nil)
    }

    @Test(arguments: MediaSamples.MP3Header.allCases)
    func mp3DurationFromItsFrameCountOrItsBitrate(_ header: MediaSamples.MP3Header) {
        // 383 frames of 1,152 samples at 44.1 kHz are 10.005 s; 383 × 417 bytes at 128 kbit/s 9.98 s.
        #expect(facts(MediaSamples.mp3(frames: 383, header: header)) == MediaFacts(seconds: 10), "\(header)")
        #expect(facts(MediaSamples.mp3(frames: 2_000, header: header, id3v1: false)) == MediaFacts(seconds: 52), "\(header)")
    }

    // MARK: - What it cannot read

    @Test func unknownAndEmptyInputSaysNothing() {
        #expect(facts([]) == MediaFacts())
        #expect(facts(Array("%PDF-1.7\n".utf8)) == MediaFacts())
        #expect(facts([0xFF, 0xD8, 0xFF]) == MediaFacts())
        var generator = SeededRandom(seed: 7)
        for _ in 0..<200 {
            let noise = (0..<Int.random(in: 0...4_096, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = facts(noise)
        }
    }
}
