import Foundation
import Reactor
import Testing

@Suite("ISO-8601 timestamps")
struct ISOTimestampTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_795_967_291.0, "2026-11-29T15:48:11.000Z"),
        (1_795_967_291.123, "2026-11-29T15:48:11.123Z"),
        (1_709_251_199.999, "2024-02-29T23:59:59.999Z"),
        (-1.0, "1969-12-31T23:59:59.000Z"),
        (-0.001, "1969-12-31T23:59:59.999Z"),
        (951_782_400.0, "2000-02-29T00:00:00.000Z"),
        (253_402_300_799.0, "9999-12-31T23:59:59.000Z"),
    ])
    func formatsKnownInstants(seconds: Double, text: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(ISOTimestamp.format(date) == text)
        #expect(ISOTimestamp.parse(text) == date)
    }

    @Test func roundsToTheNearestMillisecond() {
        #expect(ISOTimestamp.format(Date(timeIntervalSince1970: 10.1234)) == "1970-01-01T00:00:10.123Z")
        #expect(ISOTimestamp.format(Date(timeIntervalSince1970: 10.1236)) == "1970-01-01T00:00:10.124Z")
        #expect(ISOTimestamp.format(Date(timeIntervalSince1970: 59.9996)) == "1970-01-01T00:01:00.000Z")
    }

    @Test func formatThenParseIsStable() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let milliseconds = Int64.random(in: -5_000_000_000_000...100_000_000_000_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = ISOTimestamp.format(date)
            #expect(text.utf8.count == 24)
            #expect(ISOTimestamp.parse(text) == date, "\(text)")
        }
    }

    @Test func parsesOffsetsFractionsAndPostgresForms() {
        let expected = Date(timeIntervalSince1970: 1_795_967_291)
        for text in [
            "2026-11-29T15:48:11Z", "2026-11-29T15:48:11.000Z", "2026-11-29t15:48:11z",
            "2026-11-29T17:48:11+02:00", "2026-11-29T17:48:11+0200", "2026-11-29T10:18:11-05:30",
            "2026-11-29 15:48:11+00", "2026-11-29T15:48:11.0004Z",
        ] {
            #expect(ISOTimestamp.parse(text) == expected, "\(text)")
        }
        #expect(ISOTimestamp.parse("2026-11-29T15:48:11.5Z") == expected.addingTimeInterval(0.5))
        #expect(ISOTimestamp.parse("2026-11-29T15:48:11.123456789Z") == Date(timeIntervalSince1970: 1_795_967_291.123))
    }

    @Test func rejectsMalformedText() {
        for text in [
            "", "2026-11-29", "2026-11-29T15:48:11", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T15:60:00Z", "2026-11-29T15:48:60Z",
            "2026-11-29T15:48:11.Z", "2026-11-29T15:48:11.1234567890Z", "2026-11-29T15:48:11Zjunk",
            "2026-11-29T15:48:11+2", "26-11-29T15:48:11Z", "2026/11/29T15:48:11Z", "now",
        ] {
            #expect(ISOTimestamp.parse(text) == nil, "\(text)")
        }
    }
}
