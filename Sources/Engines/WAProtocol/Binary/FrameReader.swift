/// Reassembles transport frames from arbitrary chunks (protocol reference §1.3).
///
/// A WebSocket message may hold several frames and a frame (even its 3-byte length) may be split
/// across messages, so bytes are buffered until a whole frame is there. A length over the limit
/// is refused as soon as its three bytes arrive, before any of the payload is buffered. On the
/// server side the reader first consumes the client's intro header (§1.2).
///
/// After an error the stream is unusable (frame boundaries are lost); every later call throws the
/// same error, and the owner should close the connection.
package struct FrameReader: Sendable {
    /// The 3-byte length's maximum; whatsmeow also caps WebSocket reads at 16 MiB.
    package static let defaultMaxFrameSize = FrameWriter.maxPayloadSize

    private enum IntroState: Sendable {
        /// Client side: the server sends frames only.
        case none
        /// Server side: the intro header has not been consumed yet.
        case expected
    }

    private let maxFrameSize: Int
    private var introState: IntroState
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already handed out; compacted lazily to keep appends amortised O(1).
    private var consumed = 0
    private var failure: ProtocolError?

    /// Routing info from an edge-routing pre-intro, once the intro has been read.
    package private(set) var routingInfo: [UInt8]?

    /// - Parameters:
    ///   - maxFrameSize: frames declaring a longer payload are refused with `frameTooLarge`.
    ///   - expectsIntroHeader: true on the server side, where the client's intro comes first.
    package init(maxFrameSize: Int = defaultMaxFrameSize, expectsIntroHeader: Bool = false) {
        self.maxFrameSize = min(maxFrameSize, Self.defaultMaxFrameSize)
        self.introState = expectsIntroHeader ? .expected : .none
    }

    /// Bytes received but not yet returned as frames.
    package var bufferedByteCount: Int { buffer.count - consumed }

    /// Adds received bytes; call `nextFrame()` until it returns nil to drain them.
    package mutating func append(_ chunk: some Collection<UInt8>) {
        if consumed > 0, consumed >= buffer.count / 2 {
            buffer.removeFirst(consumed)
            consumed = 0
        }
        buffer.append(contentsOf: chunk)
    }

    /// The next complete frame's payload, or nil when more bytes are needed.
    package mutating func nextFrame() throws -> [UInt8]? {
        if let failure { throw failure }
        do {
            if introState == .expected {
                guard try consumeIntro() else { return nil }
                introState = .none
            }
            guard bufferedByteCount >= 3 else { return nil }
            let length = Int(buffer[consumed]) << 16 | Int(buffer[consumed + 1]) << 8 | Int(buffer[consumed + 2])
            guard length <= maxFrameSize else { throw ProtocolError.frameTooLarge(length) }
            guard bufferedByteCount >= 3 + length else { return nil }
            let payload = Array(buffer[(consumed + 3)..<(consumed + 3 + length)])
            consumed += 3 + length
            return payload
        } catch let error as ProtocolError {
            failure = error
            throw error
        }
    }

    /// Appends `chunk` and returns every frame now complete, in order. When it throws, frames
    /// completed by the same chunk are dropped too: the connection is finished anyway.
    package mutating func frames(in chunk: some Collection<UInt8>) throws -> [[UInt8]] {
        append(chunk)
        var frames: [[UInt8]] = []
        while let frame = try nextFrame() { frames.append(frame) }
        return frames
    }

    // MARK: - Intro

    /// Consumes `[ED 00 01 LLLLLL info] WA 06 03`. Returns false while bytes are missing; wrong
    /// bytes are refused as soon as they arrive rather than when the whole intro is in.
    private mutating func consumeIntro() throws -> Bool {
        var offset = consumed
        let available = buffer.count
        if available > offset, buffer[offset] == IntroHeader.edgeRoutingPrefix[0] {
            guard try matches(IntroHeader.edgeRoutingPrefix.prefix(2), at: offset) else { return false }
            // Server rule of §1.2: after "ED", skip two bytes, a 3-byte length and the info.
            guard available >= offset + 7 else { return false }
            let length = Int(buffer[offset + 4]) << 16 | Int(buffer[offset + 5]) << 8 | Int(buffer[offset + 6])
            guard length <= maxFrameSize else { throw ProtocolError.frameTooLarge(length) }
            guard available >= offset + 7 + length else { return false }
            let info = Array(buffer[(offset + 7)..<(offset + 7 + length)])
            offset += 7 + length
            guard try matches(IntroHeader.header[...], at: offset) else { return false }
            routingInfo = info
        } else {
            guard try matches(IntroHeader.header[...], at: offset) else { return false }
        }
        consumed = offset + IntroHeader.header.count
        return true
    }

    /// True when `expected` is fully present at `offset`; false when bytes are still missing;
    /// throws on the first byte that differs.
    private func matches(_ expected: ArraySlice<UInt8>, at offset: Int) throws -> Bool {
        for (position, byte) in expected.enumerated() {
            guard offset + position < buffer.count else { return false }
            guard buffer[offset + position] == byte else { throw ProtocolError.invalidIntroHeader }
        }
        return true
    }
}
