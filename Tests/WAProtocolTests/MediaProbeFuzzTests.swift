import Testing
import TestSupport
import WAProtocol

/// The media probe on broken files: every prefix and thousands of random mutations of each
/// sample. It must return (a trap fails the run, a loop the time limit), and a cut file may
/// lose facts but never invents them.
@Suite(.timeLimit(.minutes(2))) struct MediaProbeFuzzTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        /// Whether a prefix may report a shorter duration: one read from the last page, or an
        /// MP3 that, cut before its frame count, is judged by its remaining bytes.
        var durationMayShrink = false
        var testDescription: String { name }
    }

    static let samples: [Sample] = [
        Sample(name: "jpeg", bytes: MediaSamples.jpeg(width: 640, height: 480, orientation: 6)),
        Sample(name: "jpeg-ii", bytes: MediaSamples.jpeg(width: 64, height: 48, orientation: 8, bigEndianExif: false, progressive: true)),
        Sample(name: "png", bytes: MediaSamples.png(width: 20, height: 10)),
        Sample(name: "gif", bytes: MediaSamples.gif(width: 320, height: 200)),
        Sample(name: "webp-vp8", bytes: MediaSamples.webp(width: 512, height: 400, .lossy)),
        Sample(name: "webp-vp8l", bytes: MediaSamples.webp(width: 512, height: 400, .lossless)),
        Sample(name: "webp-vp8x", bytes: MediaSamples.webp(width: 512, height: 400, .extended)),
        Sample(name: "webp-animated", bytes: MediaSamples.webp(width: 512, height: 400, .animated)),
        Sample(name: "mp4", bytes: MediaSamples.mp4(milliseconds: 9_000, width: 640, height: 360)),
        Sample(name: "mp4-moov-last", bytes: MediaSamples.mp4(milliseconds: 9_000, width: 640, height: 360, moov: .last, version1: true, largeMediaData: true)),
        Sample(name: "opus", bytes: MediaSamples.oggOpus(milliseconds: 3_000), durationMayShrink: true),
        Sample(name: "mp3-info", bytes: MediaSamples.mp3(frames: 40, header: .info), durationMayShrink: true),
        Sample(name: "mp3-vbri", bytes: MediaSamples.mp3(frames: 40, header: .vbri), durationMayShrink: true),
        Sample(name: "mp3-cbr", bytes: MediaSamples.mp3(frames: 40, header: .none), durationMayShrink: true),
    ]

    @Test(arguments: samples)
    func everyPrefixYieldsTheFileFactsOrLess(_ sample: Sample) {
        let whole = MediaProbe.facts(of: sample.bytes)
        #expect(whole != MediaFacts(), "\(sample.name) has facts to lose")
        let cuts = sample.bytes.count <= 3_000 ? Array(0..<sample.bytes.count) : Array(stride(from: 0, to: sample.bytes.count, by: 7))
        for length in cuts {
            let cut = MediaProbe.facts(of: Array(sample.bytes[..<length]))
            if cut.width != nil || cut.height != nil {
                #expect(cut.width == whole.width && cut.height == whole.height, "\(sample.name) cut at \(length): \(cut)")
            }
            if let seconds = cut.seconds {
                if sample.durationMayShrink {
                    #expect(seconds <= whole.seconds ?? 0, "\(sample.name) cut at \(length): \(cut)")
                } else {
                    #expect(seconds == whole.seconds, "\(sample.name) cut at \(length): \(cut)")
                }
            }
        }
    }

    @Test(arguments: samples)
    func randomMutationsNeverTrapOrHang(_ sample: Sample) {
        var random = SeededRandom(seed: UInt64(sample.name.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        // Values that stress length fields: zero, one, the sign bits and all ones.
        let extremes: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]
        for _ in 0..<2_000 {
            var bytes = sample.bytes
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] = Bool.random(using: &random) ? extremes.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            }
            if Int.random(in: 0..<4, using: &random) == 0 {
                bytes.removeLast(Int.random(in: 0..<bytes.count, using: &random))
            }
            let facts = MediaProbe.facts(of: bytes)
            // Width and height are found together or not at all.
            #expect((facts.width == nil) == (facts.height == nil), "\(sample.name): \(facts)")
        }
    }
}
