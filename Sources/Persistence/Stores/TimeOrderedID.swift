import Foundation
import Synchronization

/// UUID version 7 text ids that sort in the order they were made in this process: 48 bits of
/// Unix milliseconds, then a 12-bit counter within the millisecond (RFC 9562's "fixed-length
/// dedicated counter"), then random bits. Rows made in one transaction share a `createdAt`
/// millisecond; their ids still order them, and new rows land at the right edge of the index.
package enum TimeOrderedID {
    private static let clock = Mutex<(milliseconds: UInt64, counter: UInt16)>((0, 0))

    package static func next(now: Date = Date()) -> String {
        let wall = UInt64(max(0, now.timeIntervalSince1970 * 1_000))
        let (milliseconds, counter) = clock.withLock { state -> (UInt64, UInt16) in
            if wall > state.milliseconds {
                state = (wall, 0)
            } else if state.counter < 0x0FFF {
                state.counter += 1
            } else {
                state = (state.milliseconds + 1, 0)  // 4096 ids in one millisecond: borrow the next
            }
            return state
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - UInt64(index)))) }
        bytes[6] = 0x70 | UInt8(counter >> 8)
        bytes[7] = UInt8(counter & 0xFF)
        var random = SystemRandomNumberGenerator()
        for index in 8..<16 { bytes[index] = UInt8.random(in: 0...255, using: &random) }
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
