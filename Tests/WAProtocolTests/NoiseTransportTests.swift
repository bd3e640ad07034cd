import Reactor
import Testing

@testable import WAProtocol

/// Transport frames of ref part 1 §7.4 (JSON keys `transport.*`, plaintexts `node.*`).
struct NoiseTransportTests {
    static let clientWriteKey = CryptoVectors.bytes("f4e10197cc3e90fd49d1846831625dac1adc2a178e4c857e66009576bf517fb2")
    static let clientReadKey = CryptoVectors.bytes("5053c8fa1c9c2175d1b0915f150d3a25f71637178852ff70eaddd898e9b7fcdf")
    // node.success
    static let successNode = CryptoVectors.bytes(
        "00f80d4c1aff0517000000005cee044becdf3dfc036672633cff05169000000076f70107ff88123456789012345f")
    // node.passive-active-iq
    static let passiveNode = CryptoVectors.bytes("00f80a1911fa000316ec18045a08ff831b2a1ff801f801ec01")
    // node.keepalive-iq
    static let keepaliveNode = CryptoVectors.bytes("00f8091908ff831b2a2f1657042911fa0003")
    // transport.server->client#0(success) frame
    static let successFrame =
        "00003e80f9fe9b7a19256d02ca77117158352cc04556ae1d8a4c4341f2a1c7737180f2c983cd38d3712c0ee938b34212df7fcc5037e669faeea374c22f006d1cfe"
    // transport.client->server#0(passive iq) frame
    static let passiveFrame = "0000294ea42eb340b6983a826c661e42baff25919f9943e08a1b6fe1631a43e153c37581b92da4489324723a"
    // transport.client->server#1(keepalive) frame
    static let keepaliveFrame = "00002207c6eddeeed2bf28560d309c202d468e5b9269b3e0c4b7d719aefc66703c4229ed4f"

    /// The 3-byte big-endian length prefix of ref §1.3.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        [
            UInt8(payload.count >> 16), UInt8(truncatingIfNeeded: payload.count >> 8),
            UInt8(truncatingIfNeeded: payload.count),
        ]
            + payload
    }

    @Test func clientFramesMatchVectors() throws {
        var client = NoiseTransport(writeKey: Self.clientWriteKey, readKey: Self.clientReadKey)
        #expect(CryptoVectors.hex(Self.frame(try client.encrypt(Self.passiveNode))) == Self.passiveFrame)
        #expect(CryptoVectors.hex(Self.frame(try client.encrypt(Self.keepaliveNode))) == Self.keepaliveFrame)
        #expect(client.writeCounter == 2)
        #expect(try client.decrypt(Array(CryptoVectors.bytes(Self.successFrame).dropFirst(3))) == Self.successNode)
    }

    @Test func serverFramesMatchVectors() throws {
        var server = NoiseTransport(writeKey: Self.clientReadKey, readKey: Self.clientWriteKey)
        #expect(CryptoVectors.hex(Self.frame(try server.encrypt(Self.successNode))) == Self.successFrame)
        #expect(try server.decrypt(Array(CryptoVectors.bytes(Self.passiveFrame).dropFirst(3))) == Self.passiveNode)
        #expect(try server.decrypt(Array(CryptoVectors.bytes(Self.keepaliveFrame).dropFirst(3))) == Self.keepaliveNode)
    }

    @Test func outOfOrderOrTamperedFramesFail() throws {
        var server = NoiseTransport(writeKey: Self.clientReadKey, readKey: Self.clientWriteKey)
        // Frame #1 presented at counter 0: wrong nonce, so the tag fails.
        let error = #expect(throws: ProtocolError.self) {
            try server.decrypt(Array(CryptoVectors.bytes(Self.keepaliveFrame).dropFirst(3)))
        }
        #expect(error?.kind == .authentication)
        var fresh = NoiseTransport(writeKey: Self.clientReadKey, readKey: Self.clientWriteKey)
        var tampered = Array(CryptoVectors.bytes(Self.passiveFrame).dropFirst(3))
        tampered[0] ^= 0x80
        #expect(throws: ProtocolError.self) { try fresh.decrypt(tampered) }
        #expect(fresh.readCounter == 1)
    }
}
