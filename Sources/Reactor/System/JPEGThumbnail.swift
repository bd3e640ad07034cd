internal import CTurboJPEG

/// The small preview a media message carries (`jpegThumbnail`), which phones show blurred until
/// the download: a JPEG of at most `maxSide` pixels on its long side, made with libjpeg-turbo.
///
/// The decoder scales by a power-of-two fraction while decoding, so a 12-megapixel photo is
/// decoded at an eighth of its size, never in full; an area average brings that to the final
/// size. Blocking CPU work: callers run it on the worker pool. Any failure (not a JPEG, a
/// corrupt or absurdly large one, a library error) is nil, never an error, since a message is
/// sent just as well without a preview.
package enum JPEGThumbnail {
    /// Photos above 50 megapixels get no preview: a progressive JPEG keeps every coefficient of
    /// the full-size picture while it decodes (about 3 bytes a pixel) whatever the scale, so the
    /// worker's memory is bounded by the source, not by the preview. Phone cameras' 48 MP pass.
    private static let maxSourcePixels = 50_000_000
    /// And no decode to more than 2048 × 2048 pixels, whatever the scaling factors on offer.
    private static let maxDecodedPixels = 2_048 * 2_048

    /// `orientation` is the EXIF orientation (1 to 8) of `jpeg`: the preview is turned to match
    /// what phones display, since it carries no EXIF of its own.
    package static func make(from jpeg: [UInt8], orientation: Int = 1, maxSide: Int = 100, quality: Int = 50) -> [UInt8]? {
        guard !jpeg.isEmpty, maxSide > 0, let decoded = decode(jpeg, atLeast: maxSide) else { return nil }
        let reduced = Pixels.areaAverage(decoded, maxSide: maxSide)
        return encode(reduced.oriented(orientation), quality: quality)
    }

    /// Decodes at the smallest scaling factor that still gives `atLeast` pixels on the long side
    /// (or the full size of a smaller picture).
    static func decode(_ jpeg: [UInt8], atLeast target: Int) -> Pixels? {
        guard let handle = tjInitDecompress() else { return nil }
        defer { tjDestroy(handle) }
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let header = jpeg.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(jpeg.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0, width > 0, height > 0, Int(width) * Int(height) <= maxSourcePixels else { return nil }
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count), count > 0 else { return nil }
        var best: (width: Int32, height: Int32)?
        for index in 0..<Int(count) {
            let factor = factors[index]
            guard factor.num <= factor.denom else { continue }  // never enlarge
            let scaled = (CTurboJPEG_scaled(width, factor), CTurboJPEG_scaled(height, factor))
            let long = Int(max(scaled.0, scaled.1))
            guard long >= min(target, Int(max(width, height))) else { continue }
            if best == nil || Int(scaled.0) * Int(scaled.1) < Int(best!.width) * Int(best!.height) { best = scaled }
        }
        guard let size = best, Int(size.width) * Int(size.height) <= maxDecodedPixels else { return nil }
        var rgb = [UInt8](repeating: 0, count: Int(size.width) * Int(size.height) * 3)
        let flags = TJFLAG_FASTDCT | TJFLAG_LIMITSCANS
        let status = jpeg.withUnsafeBufferPointer { source in
            rgb.withUnsafeMutableBufferPointer { target in
                tjDecompress2(
                    handle, source.baseAddress, UInt(jpeg.count), target.baseAddress, size.width, 0, size.height,
                    Int32(TJPF_RGB.rawValue), flags)
            }
        }
        guard status == 0 else { return nil }
        return Pixels(width: Int(size.width), height: Int(size.height), rgb: rgb)
    }

    private static func encode(_ pixels: Pixels, quality: Int) -> [UInt8]? {
        guard let handle = tjInitCompress() else { return nil }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var length: UInt = 0
        let status = pixels.rgb.withUnsafeBufferPointer {
            tjCompress2(
                handle, $0.baseAddress, Int32(pixels.width), 0, Int32(pixels.height), Int32(TJPF_RGB.rawValue), &output,
                &length, Int32(TJSAMP_420.rawValue), Int32(min(100, max(1, quality))), TJFLAG_FASTDCT)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output, length > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }
}

/// Packed RGB pixels, row by row.
struct Pixels {
    var width: Int
    var height: Int
    var rgb: [UInt8]

    /// Shrinks to at most `maxSide` on the long side by averaging the source pixels that fall in
    /// each target pixel (a box filter: smooth enough for a preview shown blurred).
    static func areaAverage(_ source: Pixels, maxSide: Int) -> Pixels {
        let long = max(source.width, source.height)
        guard long > maxSide else { return source }
        let width = max(1, source.width * maxSide / long)
        let height = max(1, source.height * maxSide / long)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let top = y * source.height / height
            let bottom = max(top + 1, (y + 1) * source.height / height)
            for x in 0..<width {
                let left = x * source.width / width
                let right = max(left + 1, (x + 1) * source.width / width)
                var sums = (0, 0, 0)
                for sy in top..<bottom {
                    var at = (sy * source.width + left) * 3
                    for _ in left..<right {
                        sums = (sums.0 + Int(source.rgb[at]), sums.1 + Int(source.rgb[at + 1]), sums.2 + Int(source.rgb[at + 2]))
                        at += 3
                    }
                }
                let area = (bottom - top) * (right - left)
                let out = (y * width + x) * 3
                rgb[out] = UInt8(sums.0 / area)
                rgb[out + 1] = UInt8(sums.1 / area)
                rgb[out + 2] = UInt8(sums.2 / area)
            }
        }
        return Pixels(width: width, height: height, rgb: rgb)
    }

    /// The picture as EXIF `orientation` says to display it: 2 to 4 mirror or turn it half,
    /// 5 to 8 transpose it (and so swap its sides), 1 or anything else leaves it.
    func oriented(_ orientation: Int) -> Pixels {
        guard (2...8).contains(orientation) else { return self }
        let swaps = orientation >= 5
        let outWidth = swaps ? height : width
        let outHeight = swaps ? width : height
        var out = [UInt8](repeating: 0, count: rgb.count)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                // The stored pixel shown at (x, y).
                let (sx, sy): (Int, Int)
                switch orientation {
                case 2: (sx, sy) = (width - 1 - x, y)
                case 3: (sx, sy) = (width - 1 - x, height - 1 - y)
                case 4: (sx, sy) = (x, height - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, height - 1 - x)
                case 7: (sx, sy) = (width - 1 - y, height - 1 - x)
                default: (sx, sy) = (width - 1 - y, x)
                }
                let from = (sy * width + sx) * 3
                let to = (y * outWidth + x) * 3
                out[to] = rgb[from]
                out[to + 1] = rgb[from + 1]
                out[to + 2] = rgb[from + 2]
            }
        }
        return Pixels(width: outWidth, height: outHeight, rgb: out)
    }
}
