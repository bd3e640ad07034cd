import Testing

@testable import WAProtocol

/// The hand-rolled protobuf of the handshake messages (ref part 1 §2.4).
struct NoiseMessageTests {
    @Test func serverHelloVectorParsesAndReserializes() throws {
        let message = try NoiseHandshakeMessage(serialized: NoiseHandshakeTests.serverHello)
        let hello = try #require(message.serverHello)
        // hs.login.serverHello.proto.prefix64 starts with ephemeral then the 48-byte static ciphertext.
        #expect(
            CryptoVectors.hex(hello.ephemeral ?? [])
                == "98ce40bd9d69d7950579450cfcb9844f328d214b045f825a96bf70f9ae37b37d")
        #expect(hello.staticKey?.count == 48)
        #expect(hello.payload?.count == 256)  // 240-byte chain + tag
        #expect(message.clientHello == nil && message.clientFinish == nil)
        #expect(message.serialized() == NoiseHandshakeTests.serverHello)
    }

    @Test func unknownFieldsAreSkipped() throws {
        // clientHello{ephemeral, useExtended(4) = true, paddedBytes(6) = 01 02} plus a top-level fixed32 field 9.
        let ephemeral = [UInt8](repeating: 7, count: 32)
        let inner: [UInt8] = [0x0a, 0x20] + ephemeral + [0x20, 0x01, 0x32, 0x02, 0x01, 0x02]
        let bytes: [UInt8] = [0x12, UInt8(inner.count)] + inner + [0x4d, 1, 2, 3, 4]
        let message = try NoiseHandshakeMessage(serialized: bytes)
        #expect(message.clientHello == .init(ephemeral: ephemeral))
    }

    @Test(arguments: [
        [0x12] as [UInt8],  // key without a length
        [0x12, 0x05, 0x0a],  // length overruns the input
        [0x12, 0x02, 0x0a, 0x05],  // nested length overruns
        [0x13],  // wire type 3 (groups) is not supported
        [0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],  // varint longer than 64 bits
        [0x10, 0x01],  // clientHello as a varint
        [0x00, 0x01],  // field number 0
    ])
    func malformedBytesAreRejected(bytes: [UInt8]) {
        let error = #expect(throws: ProtocolError.self) { try NoiseHandshakeMessage(serialized: bytes) }
        #expect(error?.kind == .malformed)
    }

    @Test func writerEncodesVarintsLikeProtobuf() throws {
        var writer = ProtoWriter()
        writer.varint(1, 300)
        writer.varint(2, UInt64.max)
        writer.bytes(15, [UInt8]())
        writer.bytes(16, [9])
        #expect(CryptoVectors.hex(writer.bytes) == "08ac0210ffffffffffffffffff017a0082010109")
        var reader = ProtoReader(writer.bytes)
        #expect(try reader.next()?.field == 1)
        let second = try #require(try reader.next())
        #expect(try second.value.varint("x") == UInt64.max)
        #expect(try reader.next()?.field == 15)
        let last = try #require(try reader.next())
        #expect(last.field == 16)
        #expect(try last.value.bytes("x") == [9])
        #expect(try reader.next() == nil)
    }
}
