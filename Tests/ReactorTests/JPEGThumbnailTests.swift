import Testing
import TestSupport

@testable import Reactor

/// The media preview made with libjpeg-turbo: at most 100 pixels on the long side, turned as
/// the EXIF orientation says, decodable again, and nil rather than an error for what is not
/// a JPEG it can open.
@Suite struct JPEGThumbnailTests {
    /// White on the left half, black on the right, as stored.
    private static func halves(width: Int, height: Int, orientation: Int? = nil) -> [UInt8] {
        MediaSamples.decodableJPEG(width: width, height: height, orientation: orientation) { x, _ in x < width / 2 ? 255 : 0 }
    }

    /// The preview decoded again, with the mean brightness of its four sides.
    private func opened(_ thumbnail: [UInt8]) throws -> (width: Int, height: Int, left: Int, right: Int, top: Int, bottom: Int) {
        let pixels = try #require(JPEGThumbnail.decode(thumbnail, atLeast: .max))
        func mean(_ xs: Range<Int>, _ ys: Range<Int>) -> Int {
            var sum = 0
            for y in ys { for x in xs { sum += Int(pixels.rgb[(y * pixels.width + x) * 3]) } }
            return sum / (xs.count * ys.count)
        }
        let (w, h) = (pixels.width, pixels.height)
        return (
            w, h, mean(0..<(w / 4), 0..<h), mean((w - w / 4)..<w, 0..<h), mean(0..<w, 0..<(h / 4)), mean(0..<w, (h - h / 4)..<h)
        )
    }

    @Test func aPhotoShrinksToAHundredPixelsOnItsLongSide() throws {
        let thumbnail = try #require(JPEGThumbnail.make(from: Self.halves(width: 1600, height: 1200)))
        #expect(thumbnail.starts(with: [0xFF, 0xD8, 0xFF]))
        #expect(thumbnail.count < 4_000, "\(thumbnail.count) bytes")
        let view = try opened(thumbnail)
        #expect(view.width == 100 && view.height == 75)
        #expect(view.left > 200 && view.right < 55, "\(view)")
    }

    @Test func theOrientationTurnsThePreviewAsPhonesShowThePhoto() throws {
        // 6: turned a quarter clockwise, so the stored left half is on top.
        let clockwise = try opened(try #require(JPEGThumbnail.make(from: Self.halves(width: 800, height: 600), orientation: 6)))
        #expect(clockwise.width == 75 && clockwise.height == 100)
        #expect(clockwise.top > 200 && clockwise.bottom < 55, "\(clockwise)")
        // 8: a quarter anticlockwise, the left half at the bottom.
        let anticlockwise = try opened(try #require(JPEGThumbnail.make(from: Self.halves(width: 800, height: 600), orientation: 8)))
        #expect(anticlockwise.width == 75 && anticlockwise.height == 100)
        #expect(anticlockwise.bottom > 200 && anticlockwise.top < 55, "\(anticlockwise)")
        // 3: half a turn, the left half on the right.
        let upsideDown = try opened(try #require(JPEGThumbnail.make(from: Self.halves(width: 800, height: 600), orientation: 3)))
        #expect(upsideDown.width == 100 && upsideDown.right > 200 && upsideDown.left < 55, "\(upsideDown)")
    }

    @Test func aSmallPictureIsNotEnlarged() throws {
        let view = try opened(try #require(JPEGThumbnail.make(from: Self.halves(width: 40, height: 24))))
        #expect(view.width == 40 && view.height == 24)
    }

    @Test func aPhotoOverFiftyMegapixelsGetsNoPreview() throws {
        let flat: (Int, Int) -> UInt8 = { _, _ in 90 }
        let accepted = try #require(JPEGThumbnail.make(from: MediaSamples.decodableJPEG(width: 8_000, height: 6_000, shade: flat)))
        #expect(try opened(accepted).width == 100)
        #expect(JPEGThumbnail.make(from: MediaSamples.decodableJPEG(width: 8_000, height: 6_400, shade: flat)) == nil)
    }

    @Test func whatCannotBeOpenedHasNoPreview() {
        #expect(JPEGThumbnail.make(from: []) == nil)
        #expect(JPEGThumbnail.make(from: Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 64)) == nil)
        #expect(JPEGThumbnail.make(from: MediaSamples.png(width: 16, height: 16)) == nil)
        // Headers only: no Huffman table for the scan.
        #expect(JPEGThumbnail.make(from: MediaSamples.jpeg(width: 640, height: 480)) == nil)
        let whole = Self.halves(width: 320, height: 240)
        for length in stride(from: 0, to: 150, by: 3) { #expect(JPEGThumbnail.make(from: Array(whole.prefix(length))) == nil) }
        // A cut scan may still decode (libjpeg fills the rest in); it must not trap either way.
        for length in stride(from: 150, to: whole.count, by: 97) { _ = JPEGThumbnail.make(from: Array(whole.prefix(length))) }
    }
}
