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
        // One draw of the system generator (a getrandom call) for all 62 random bits.
        var random = SystemRandomNumberGenerator()
        let tail = random.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        let high = milliseconds << 16 | 0x7000 | UInt64(counter)
        return String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    text[at] = hexDigits[Int(value >> UInt64(shift) & 0xF)]
                    at += 1
                }
            }
            func dash() {
                text[at] = UInt8(ascii: "-")
                at += 1
            }
            put(high >> 32, nibbles: 8)
            dash()
            put(high >> 16, nibbles: 4)
            dash()
            put(high, nibbles: 4)
            dash()
            put(tail >> 48, nibbles: 4)
            dash()
            put(tail, nibbles: 12)
            return at
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
