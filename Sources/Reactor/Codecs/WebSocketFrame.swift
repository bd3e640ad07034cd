/// WebSocket frames (RFC 6455 section 5): opcodes, masking, the three length forms.
package enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    var isControl: Bool { rawValue & 0x8 != 0 }
}

package struct WebSocketFrame: Sendable, Equatable {
    package var fin: Bool
    package var opcode: WebSocketOpcode
    package var payload: [UInt8]

    package init(fin: Bool = true, opcode: WebSocketOpcode, payload: [UInt8]) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }

    /// The frame on the wire. Clients must mask (`maskKey` given), servers must not.
    package func encoded(maskKey: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 14)
        out.append((fin ? 0x80 : 0) | opcode.rawValue)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        switch payload.count {
        case 0..<126:
            out.append(maskBit | UInt8(payload.count))
        case 126...0xFFFF:
            out.append(maskBit | 126)
            out.append(UInt8(payload.count >> 8))
            out.append(UInt8(payload.count & 0xFF))
        default:
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: UInt64(payload.count) >> UInt64(shift))) }
        }
        guard let maskKey else {
            out.append(contentsOf: payload)
            return out
        }
        out.append(contentsOf: maskKey)
        for (index, byte) in payload.enumerated() { out.append(byte ^ maskKey[index & 3]) }
        return out
    }
}

/// Why a stream of frames was refused; `closeCode` is what to send before closing.
package struct WebSocketProtocolError: Error, Sendable, Equatable {
    package let closeCode: UInt16
    package let reason: String

    static func protocolError(_ reason: String) -> WebSocketProtocolError { .init(closeCode: 1002, reason: reason) }
    static func tooBig(_ reason: String) -> WebSocketProtocolError { .init(closeCode: 1009, reason: reason) }
}

/// Reads frames from a byte stream, enforcing the peer's masking rule and a size limit.
package struct WebSocketFrameReader: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    /// Frames from a client must be masked; frames from a server must not be.
    private let expectMasked: Bool
    private let maxFrameBytes: Int

    package init(expectMasked: Bool, maxFrameBytes: Int) {
        self.expectMasked = expectMasked
        self.maxFrameBytes = maxFrameBytes
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    package mutating func append(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, nil when more bytes are needed.
    package mutating func next() throws(WebSocketProtocolError) -> WebSocketFrame? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let first = buffer[start]
        let second = buffer[start + 1]
        guard first & 0x70 == 0 else { throw .protocolError("reserved bits set") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { throw .protocolError("unknown opcode") }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        guard masked == expectMasked else { throw .protocolError(expectMasked ? "unmasked client frame" : "masked server frame") }
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            headerLength = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for index in 2..<10 { value = value << 8 | UInt64(buffer[start + index]) }
            guard value <= UInt64(Int32.max) else { throw .tooBig("frame length \(value)") }
            length = Int(value)
            headerLength = 10
        }
        if opcode.isControl {
            guard fin, length <= 125 else { throw .protocolError("fragmented or oversized control frame") }
        }
        guard length <= maxFrameBytes else { throw .tooBig("frame of \(length) bytes exceeds \(maxFrameBytes)") }
        let maskLength = masked ? 4 : 0
        guard available >= headerLength + maskLength + length else { return nil }
        let payloadStart = start + headerLength + maskLength
        var payload = Array(buffer[payloadStart..<payloadStart + length])
        if masked {
            let key = buffer[(start + headerLength)..<(start + headerLength + 4)].map { $0 }
            for index in payload.indices { payload[index] ^= key[index & 3] }
        }
        start = payloadStart + length
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }
}
