import Testing
@testable import Reactor

@Suite struct WebSocketFrameTests {
    @Test func rfc6455Examples() throws {
        // RFC 6455 section 5.7: a single-frame unmasked and masked "Hello".
        #expect(WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)).encoded() == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        let masked = WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)).encoded(maskKey: [0x37, 0xFA, 0x21, 0x3D])
        #expect(masked == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        var reader = WebSocketFrameReader(expectMasked: true, maxFrameBytes: 1 << 20)
        reader.append(masked)
        #expect(try reader.next() == WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)))
        // Section 1.3: the accept value for the sample key.
        #expect(WebSocketHandshake.accept(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test(arguments: [0, 1, 125, 126, 65_535, 65_536, 200_000])
    func lengthFormsRoundTripSplitAtEveryBoundary(length: Int) throws {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let bytes = WebSocketFrame(fin: false, opcode: .binary, payload: payload).encoded(maskKey: [9, 8, 7, 6])
        var reader = WebSocketFrameReader(expectMasked: true, maxFrameBytes: 1 << 20)
        var frames: [WebSocketFrame] = []
        var offset = 0
        let step = max(1, bytes.count / 7)
        while offset < bytes.count {
            reader.append(Array(bytes[offset..<min(bytes.count, offset + step)]))
            offset += step
            while let frame = try reader.next() { frames.append(frame) }
        }
        #expect(frames == [WebSocketFrame(fin: false, opcode: .binary, payload: payload)])
    }

    @Test(arguments: [
        ([0x81, 0x05] + Array("Hello".utf8), 1002),  // unmasked frame from a client
        ([0xC1, 0x80, 1, 2, 3, 4], 1002),  // reserved bit
        ([0x83, 0x80, 1, 2, 3, 4], 1002),  // unknown opcode
        ([0x09, 0x80, 1, 2, 3, 4], 1002),  // fragmented ping
        ([0x89, 0xFE, 0x00, 0x80, 1, 2, 3, 4], 1002),  // control frame over 125 bytes
        ([0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 1, 1, 2, 3, 4], 1009),  // one byte over a 1 MiB limit
    ] as [([UInt8], UInt16)])
    func brokenFramesAreRefusedWithTheRightCloseCode(bytes: [UInt8], code: UInt16) {
        var reader = WebSocketFrameReader(expectMasked: true, maxFrameBytes: 1 << 20)
        reader.append(bytes)
        #expect(throws: WebSocketProtocolError.self) { _ = try reader.next() }
        do { _ = try reader.next() } catch { #expect(error.closeCode == code) }
    }
}
