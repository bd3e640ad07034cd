import Foundation
import Persistence
import Testing

@Suite struct TimeOrderedIDTests {
    @Test func idsSortInTheOrderTheyWereMadeEvenWithinOneMillisecond() {
        let instant = Date(timeIntervalSince1970: 1_800_000_000.123)
        let ids = (0..<5_000).map { _ in TimeOrderedID.next(now: instant) }
        #expect(ids == ids.sorted(), "string order is creation order")
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(3) {
            #expect(id.count == 36)
            #expect(Array(id)[14] == "7", "version 7")
            #expect("89ab".contains(Array(id)[19]), "RFC variant")
            #expect(UUID(uuidString: id) != nil)
            // The first 48 bits are the Unix milliseconds, big-endian.
            let millisecondsHex = String(id.replacingOccurrences(of: "-", with: "").prefix(12))
            #expect(UInt64(millisecondsHex, radix: 16) == 1_800_000_000_123)
        }
        // A clock that steps back does not reorder: the counter keeps going.
        let later = TimeOrderedID.next(now: instant.addingTimeInterval(-1))
        #expect(later > ids.last!)
    }
}
