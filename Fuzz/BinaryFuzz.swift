// libFuzzer entry point for the binary codec. Not part of the SwiftPM package: scripts/fuzz.sh
// compiles it into one module together with Sources/Engines/WAProtocol (which is why it needs
// no import of WAProtocol) and links Reactor's Zlib.swift built as its own module.
//
// Besides "never crash", it checks the invariants the codec promises:
// * a decoded node re-encodes to bytes that decode to the same node;
// * a parsed text node renders to text that parses to the same node.
// A broken invariant traps, which libFuzzer reports as a crash with the input saved.

/// Inflation limit for fuzzing: small, so compressed inputs cannot slow the run down.
private let fuzzInflateLimit = 1 << 20

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkBinary(bytes)
    checkFrames(bytes, expectsIntro: false)
    checkFrames(bytes, expectsIntro: true)
    if size <= 4096 { checkText(String(decoding: bytes, as: UTF8.self)) }
    return 0
}

/// The input as a node body and as a frame plaintext.
private func checkBinary(_ bytes: [UInt8]) {
    if let node = try? NodeDecoder.decode(bytes) { checkReEncoding(node) }
    if let node = try? NodePlaintext.decode(bytes, maxInflatedSize: fuzzInflateLimit) { checkReEncoding(node) }
}

private func checkReEncoding(_ node: BinaryNode) {
    let encoded: [UInt8]
    do {
        encoded = try NodeEncoder.encode(node)
    } catch {
        fatalError("decoded node does not re-encode: \(error)")
    }
    guard let again = try? NodeDecoder.decode(encoded), again == node else {
        fatalError("re-encoded node decodes differently")
    }
    // Rendering must not trap, whatever the strings hold; parsing it back may fail only for
    // JIDs whose users contain JID separators, so only the absence of a crash is checked.
    _ = try? NodeText.parse(NodeText.render(node))
}

/// The input as a byte stream cut into chunks whose size comes from the first byte, so the
/// fuzzer explores reassembly across boundaries too.
private func checkFrames(_ bytes: [UInt8], expectsIntro: Bool) {
    guard let first = bytes.first else { return }
    let chunkSize = Int(first % 17) + 1
    var reader = FrameReader(maxFrameSize: 1 << 16, expectsIntroHeader: expectsIntro)
    var total = 0
    var offset = 1
    while offset < bytes.count {
        let end = min(offset + chunkSize, bytes.count)
        guard let frames = try? reader.frames(in: bytes[offset..<end]) else { return }
        for frame in frames {
            total += frame.count
            _ = try? NodePlaintext.decode(frame, maxInflatedSize: fuzzInflateLimit)
        }
        offset = end
    }
    guard total + reader.bufferedByteCount <= bytes.count else { fatalError("frame reader invented bytes") }
}

private func checkText(_ text: String) {
    guard let node = try? NodeText.parse(text) else { return }
    let rendered = NodeText.render(node)
    guard let again = try? NodeText.parse(rendered), again == node else {
        fatalError("rendered text parses differently: \(rendered)")
    }
    _ = try? NodeEncoder.encode(node)
}
