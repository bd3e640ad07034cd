import Testing
import WAProtocol

/// Framing (§1.2, §1.3): reassembly across arbitrary splits, limits, and the intro header.
@Suite struct FrameTests {
    /// `hs.login.ws1(intro+frame)`: the client's first WebSocket message of §7.4.
    private static let firstMessage = TestHex.bytes(
        "5741060300002412220a20f01e3feed2953d4221feddad1b6baa06ee321666eb0e170d33428905b0057d4e")
    /// `hs.login.clientHello.proto`.
    private static let clientHello = TestHex.bytes(
        "12220a20f01e3feed2953d4221feddad1b6baa06ee321666eb0e170d33428905b0057d4e")
    /// `transport.server->client#0(success) frame`: a 62-byte ciphertext behind its length.
    private static let successFrame = TestHex.bytes(
        "00003e80f9fe9b7a19256d02ca77117158352cc04556ae1d8a4c4341f2a1c7737180f2c983cd38d3712c0ee938b3"
            + "4212df7fcc5037e669faeea374c22f006d1cfe")

    private static let payloads: [[UInt8]] = [
        Array(successFrame.dropFirst(3)), [], [0x42], (0..<300).map { UInt8($0 & 0xFF) },
    ]

    private static var stream: [UInt8] {
        var bytes: [UInt8] = []
        for payload in payloads { try! FrameWriter.append(payload, to: &bytes) }
        return bytes
    }

    // MARK: - Writer

    @Test func firstFrameCarriesTheIntroHeader() throws {
        var writer = FrameWriter(intro: try IntroHeader.encode())
        #expect(try writer.frame(Self.clientHello) == Self.firstMessage)
        #expect(try writer.frame([0x01]) == [0x00, 0x00, 0x01, 0x01])
    }

    @Test func introHeaderBytes() throws {
        #expect(IntroHeader.header == [0x57, 0x41, 0x06, 0x03])
        #expect(
            try IntroHeader.encode(routingInfo: [0xAA, 0xBB]) == [
                0x45, 0x44, 0x00, 0x01, 0, 0, 2, 0xAA, 0xBB, 0x57, 0x41, 6, 3,
            ])
    }

    @Test func writerRefusesPayloadsOverTheThreeByteLength() {
        let payload = [UInt8](repeating: 0, count: FrameWriter.maxPayloadSize + 1)
        #expect(throws: ProtocolError.frameTooLarge(FrameWriter.maxPayloadSize + 1)) { try FrameWriter.frame(payload) }
    }

    // MARK: - Reader

    @Test func transportFrameVectorYieldsItsPayload() throws {
        var reader = FrameReader()
        let frames = try reader.frames(in: Self.successFrame)
        #expect(frames.count == 1)
        #expect(frames.first?.count == 0x3E)
        #expect(reader.bufferedByteCount == 0)
    }

    @Test func severalFramesInOneChunk() throws {
        var reader = FrameReader()
        #expect(try reader.frames(in: Self.stream) == Self.payloads)
    }

    @Test func framesSplitAtEveryByteBoundary() throws {
        let stream = Self.stream
        for split in 0...stream.count {
            var reader = FrameReader()
            let frames = try reader.frames(in: stream[..<split]) + reader.frames(in: stream[split...])
            #expect(frames == Self.payloads, "split at \(split)")
        }
    }

    @Test func framesFedOneByteAtATime() throws {
        var reader = FrameReader()
        var frames: [[UInt8]] = []
        for byte in Self.stream { frames += try reader.frames(in: [byte]) }
        #expect(frames == Self.payloads)
        #expect(reader.bufferedByteCount == 0)
    }

    @Test func oversizedLengthIsRefusedFromItsHeaderAlone() {
        var reader = FrameReader(maxFrameSize: 1000)
        #expect(throws: ProtocolError.frameTooLarge(0xFF_FFFF)) { try reader.frames(in: [0xFF, 0xFF, 0xFF]) }
        // The stream is unusable afterwards; the error repeats.
        #expect(throws: ProtocolError.frameTooLarge(0xFF_FFFF)) { try reader.frames(in: [0x00, 0x00, 0x00]) }
        var exact = FrameReader(maxFrameSize: 1000)
        #expect(throws: ProtocolError.frameTooLarge(1001)) { try exact.frames(in: [0x00, 0x03, 0xE9]) }
    }

    @Test func partialLengthHeaderWaits() throws {
        var reader = FrameReader()
        #expect(try reader.frames(in: [0x00, 0x00]).isEmpty)
        #expect(try reader.frames(in: [0x01]).isEmpty)
        #expect(try reader.frames(in: [0x7F]) == [[0x7F]])
    }

    // MARK: - Server side: the intro header

    @Test func serverReaderConsumesTheIntroAtEveryBoundary() throws {
        for split in 0...Self.firstMessage.count {
            var reader = FrameReader(expectsIntroHeader: true)
            let frames =
                try reader.frames(in: Self.firstMessage[..<split]) + reader.frames(in: Self.firstMessage[split...])
            #expect(frames == [Self.clientHello], "split at \(split)")
            #expect(reader.routingInfo == nil)
        }
    }

    @Test func serverReaderKeepsEdgeRoutingInfo() throws {
        var writer = FrameWriter(intro: try IntroHeader.encode(routingInfo: [1, 2, 3, 4, 5]))
        let bytes = try writer.frame(Self.clientHello)
        for split in 0...bytes.count {
            var reader = FrameReader(expectsIntroHeader: true)
            let frames = try reader.frames(in: bytes[..<split]) + reader.frames(in: bytes[split...])
            #expect(frames == [Self.clientHello])
            #expect(reader.routingInfo == [1, 2, 3, 4, 5])
        }
    }

    @Test(arguments: [
        [UInt8(0x16), 0x03, 0x01], [0x57, 0x42], [0x57, 0x41, 0x05], [0x57, 0x41, 0x06, 0x02], [0x45, 0x45],
    ])
    func serverReaderRefusesAWrongIntroAsSoonAsItDiffers(bytes: [UInt8]) {
        var reader = FrameReader(expectsIntroHeader: true)
        #expect(throws: ProtocolError.invalidIntroHeader) { try reader.frames(in: bytes) }
    }

    @Test func serverReaderRefusesAnOversizedRoutingInfo() {
        var reader = FrameReader(maxFrameSize: 16, expectsIntroHeader: true)
        #expect(throws: ProtocolError.frameTooLarge(17)) {
            try reader.frames(in: [0x45, 0x44, 0x00, 0x01, 0x00, 0x00, 0x11])
        }
    }
}
