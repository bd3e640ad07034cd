// libFuzzer entry point for the media probe. Not part of the SwiftPM package: scripts/fuzz.sh
// compiles it into one module with Sources/Engines/WAProtocol/Media/MediaProbe*.swift and the
// sample builders of Tests/TestSupport/MediaSamples*.swift (which give the seeds), so it needs
// no imports of the project's modules.
//
// Besides "never crash" (and, through libFuzzer's -timeout, "never hang"), it checks what the
// probe promises its callers: a width comes with a height, and neither is zero.

import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let facts = MediaProbe.facts(of: Array(UnsafeBufferPointer(start: data, count: size)))
    guard (facts.width == nil) == (facts.height == nil) else { fatalError("a width without a height or the reverse: \(facts)") }
    if facts.width == 0 || facts.height == 0 { fatalError("a zero dimension: \(facts)") }
    return 0
}

/// With `MEDIA_FUZZ_SEEDS=<dir>` set, writes one small file of every format the probe reads
/// into `<dir>` before libFuzzer reads it.
@_cdecl("LLVMFuzzerInitialize")
func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?)
    -> CInt
{
    guard let directory = ProcessInfo.processInfo.environment["MEDIA_FUZZ_SEEDS"] else { return 0 }
    let seeds: [(String, [UInt8])] = [
        ("jpeg", MediaSamples.jpeg(width: 640, height: 480, orientation: 6)),
        ("jpeg-ii", MediaSamples.jpeg(width: 64, height: 48, orientation: 8, bigEndianExif: false, progressive: true)),
        ("png", MediaSamples.png(width: 20, height: 10)),
        ("gif", MediaSamples.gif(width: 320, height: 200)),
        ("webp-vp8", MediaSamples.webp(width: 512, height: 400, .lossy)),
        ("webp-vp8l", MediaSamples.webp(width: 512, height: 400, .lossless)),
        ("webp-vp8x", MediaSamples.webp(width: 512, height: 400, .extended)),
        ("mp4", MediaSamples.mp4(milliseconds: 9_000, width: 640, height: 360, rotated: true)),
        ("mp4-moov-last", MediaSamples.mp4(milliseconds: 9_000, width: 640, height: 360, moov: .last, version1: true, largeMediaData: true)),
        ("opus", MediaSamples.oggOpus(milliseconds: 300)),
        ("mp3-info", MediaSamples.mp3(frames: 6, header: .info)),
        ("mp3-vbri", MediaSamples.mp3(frames: 6, header: .vbri)),
        ("mp3-cbr", MediaSamples.mp3(frames: 6, header: .none)),
    ]
    for (name, bytes) in seeds {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("seed-\(name)")
        do { try Data(bytes).write(to: path) } catch { fatalError("cannot write \(path.path): \(error)") }
    }
    return 0
}
