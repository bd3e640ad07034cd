import Reactor
import Testing

/// The zlib wrapper in Reactor/System: round trips, the output limit, and broken streams.
@Suite struct ZlibTests {
    @Test(arguments: [0, 1, 100, 32 * 1024, 32 * 1024 + 1, 300_000])
    func roundTrip(size: Int) throws {
        let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 100) }
        let compressed = try Zlib.deflate(data)
        #expect(compressed.first == 0x78)
        #expect(try Zlib.inflate(compressed, maxOutput: size) == data)
    }

    @Test func outputOverTheLimitIsRefused() throws {
        let compressed = try Zlib.deflate([UInt8](repeating: 1, count: 100_000))
        #expect(throws: ZlibError.outputLimitExceeded(99_999)) { try Zlib.inflate(compressed, maxOutput: 99_999) }
        #expect(try Zlib.inflate(compressed, maxOutput: 100_000).count == 100_000)
    }

    @Test func brokenStreamsAreRefused() throws {
        let compressed = try Zlib.deflate(Array("hello hello hello".utf8))
        #expect(throws: ZlibError.truncated) { try Zlib.inflate(Array(compressed.dropLast()), maxOutput: 100) }
        #expect(throws: ZlibError.truncated) { try Zlib.inflate([], maxOutput: 100) }
        #expect(throws: ZlibError.trailingData) { try Zlib.inflate(compressed + [0], maxOutput: 100) }
        #expect(throws: ZlibError.self) { try Zlib.inflate([0x78, 0x9C, 0xFF, 0xFF], maxOutput: 100) }
        var badChecksum = compressed
        badChecksum[badChecksum.count - 1] ^= 1
        #expect(throws: ZlibError.self) { try Zlib.inflate(badChecksum, maxOutput: 100) }
    }
}
