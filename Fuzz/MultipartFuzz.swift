// libFuzzer entry point for the incremental multipart/form-data parser. Not part of the SwiftPM
// package: scripts/fuzz.sh compiles it into one module with Sources/Reactor/Codecs/MultipartParser*.swift,
// so it needs no imports of the project's modules.
//
// Besides "never crash" (and, through libFuzzer's -timeout, "never hang"), it checks what the
// parser promises its callers: events come in order (a part's data only inside a part, an end
// only after the last part ended), data events are never empty, and the parts are the same
// whether the body comes whole or cut at a point the input itself picks.

import Foundation

private struct Parsed: Equatable {
    var parts: [(MultipartParser.PartHead, [UInt8])] = []
    var failure: String?
    var ended = false

    static func == (left: Parsed, right: Parsed) -> Bool {
        left.failure == right.failure && left.ended == right.ended && left.parts.count == right.parts.count
            && zip(left.parts, right.parts).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

private func parse(_ pieces: [ArraySlice<UInt8>], boundary: String) -> Parsed {
    var parser = MultipartParser(boundary: boundary)
    var parsed = Parsed()
    var inPart = false
    func drain() {
        while parsed.failure == nil, let event = parser.next() {
            switch event {
            case .partStart(let head):
                if inPart || parsed.ended { fatalError("a part started inside another or after the end") }
                inPart = true
                parsed.parts.append((head, []))
            case .partData(let bytes):
                if !inPart || bytes.isEmpty { fatalError("data outside a part, or empty") }
                parsed.parts[parsed.parts.count - 1].1 += bytes
            case .partEnd:
                if !inPart { fatalError("a part ended that never started") }
                inPart = false
            case .end:
                if inPart || parsed.ended { fatalError("the form ended inside a part or twice") }
                parsed.ended = true
            case .failure(let reason):
                parsed.failure = reason
            }
        }
    }
    for piece in pieces {
        parser.append(piece)
        drain()
    }
    parser.finish()
    drain()
    if parsed.failure == nil, !parsed.ended { fatalError("the body ended without an end or a failure") }
    return parsed
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // The first byte picks a split point, the rest is the body framed by a fixed boundary.
    guard size > 0 else { return 0 }
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let split = body.isEmpty ? 0 : Int(data[0]) * body.count / 255
    let boundary = "fz"
    let whole = parse([body[...]], boundary: boundary)
    let cut = parse([body[..<split], body[split...]], boundary: boundary)
    if whole != cut { fatalError("a split at \(split) changed the outcome") }
    return 0
}

/// With `MULTIPART_FUZZ_SEEDS=<dir>` set, writes a few forms into `<dir>` before libFuzzer reads it.
@_cdecl("LLVMFuzzerInitialize")
func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?)
    -> CInt
{
    guard let directory = ProcessInfo.processInfo.environment["MULTIPART_FUZZ_SEEDS"] else { return 0 }
    let seeds: [(String, String)] = [
        ("form", "--fz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--fz\r\n"
            + "Content-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\nContent-Type: image/png\r\n\r\n"
            + "\r\n--f\r\n\r\n--fz--\r\n"),
        ("preamble", "junk\r\n--fz \t\r\ncontent-disposition: form-data; name=b\r\n\r\n\r\n--fz--epilogue"),
        ("empty", "--fz--"),
    ]
    for (name, text) in seeds {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("seed-\(name)")
        do { try Data([0x80] + Array(text.utf8)).write(to: path) } catch { fatalError("cannot write \(path.path): \(error)") }
    }
    return 0
}
