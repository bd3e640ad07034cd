/// Length-prefixes payloads into transport frames (protocol reference §1.3):
/// `LEN (3 bytes, big-endian) || payload`.
///
/// A client's first frame goes out behind the intro header, in the same WebSocket message; the
/// writer remembers whether that has happened.
package struct FrameWriter: Sendable {
    /// The largest payload a 3-byte length can describe.
    package static let maxPayloadSize = 0xFF_FFFF

    private var pendingIntro: [UInt8]

    /// A writer whose first frame is preceded by `intro` (`IntroHeader.encode()` on a client,
    /// empty on a server, which never sends one).
    package init(intro: [UInt8] = []) {
        pendingIntro = intro
    }

    /// The bytes to send for `payload`: the intro if not yet sent, the length, the payload.
    package mutating func frame(_ payload: [UInt8]) throws -> [UInt8] {
        var bytes = pendingIntro
        pendingIntro = []
        try Self.append(payload, to: &bytes)
        return bytes
    }

    /// One frame for `payload`, without any intro.
    package static func frame(_ payload: [UInt8]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try append(payload, to: &bytes)
        return bytes
    }

    /// Appends the length prefix and `payload` to `bytes`.
    package static func append(_ payload: [UInt8], to bytes: inout [UInt8]) throws {
        guard payload.count <= maxPayloadSize else { throw ProtocolError.frameTooLarge(payload.count) }
        let length = payload.count
        bytes.reserveCapacity(bytes.count + 3 + length)
        bytes.append(UInt8(length >> 16))
        bytes.append(UInt8(length >> 8 & 0xFF))
        bytes.append(UInt8(length & 0xFF))
        bytes.append(contentsOf: payload)
    }
}
