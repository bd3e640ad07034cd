import Foundation
import Reactor

/// The body OpenWA posts (reference 5.2), in its key order.
///
/// An event going to several webhooks differs only in the idempotency key and delivery id, so
/// its `data` is serialized once and spliced into each body as bytes.
package enum WebhookEnvelope {
    package static func body(
        event: String, timestamp: Date, sessionId: String, idempotencyKey: String, deliveryId: String, data: JSONValue
    ) -> String {
        body(
            event: event, timestamp: ISOTimestamp.format(timestamp), sessionId: sessionId, idempotencyKey: idempotencyKey,
            deliveryId: deliveryId, data: JSONWriter.bytes(data))
    }

    /// The same body from a formatted timestamp and `data` already serialized as JSON.
    package static func body(
        event: String, timestamp: String, sessionId: String, idempotencyKey: String, deliveryId: String, data: [UInt8]
    ) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + event.utf8.count + sessionId.utf8.count + idempotencyKey.utf8.count + 128)
        out.append(contentsOf: #"{"event":"#.utf8)
        JSONWriter.appendString(event, into: &out)
        out.append(contentsOf: #","timestamp":"#.utf8)
        JSONWriter.appendString(timestamp, into: &out)
        out.append(contentsOf: #","sessionId":"#.utf8)
        JSONWriter.appendString(sessionId, into: &out)
        out.append(contentsOf: #","idempotencyKey":"#.utf8)
        JSONWriter.appendString(idempotencyKey, into: &out)
        out.append(contentsOf: #","deliveryId":"#.utf8)
        JSONWriter.appendString(deliveryId, into: &out)
        out.append(contentsOf: #","data":"#.utf8)
        out.append(contentsOf: data)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// UUIDs in lowercase text, as `UUID().uuidString.lowercased()` gives, for outbox row and
/// delivery ids, without Foundation's formatting and case mapping per id.
enum RandomUUID {
    /// Ids in pairs: the first of each pair time-ordered (version 7: milliseconds since 1970,
    /// then random bits), for outbox row ids, so new rows land at the right edge of the primary
    /// key's B-tree instead of on random pages (a random key dirties a page per row, in the
    /// WAL and again at the checkpoint); the second random (version 4), for delivery ids.
    static func makePairs(_ pairs: Int, at date: Date) -> [String] {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1_000))
        return make(2 * pairs) { index, id in
            guard index % 2 == 0 else { return }
            for byte in 0..<6 { id[byte] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - byte))) }
            id[6] = id[6] & 0x0F | 0x70  // version 7
        }
    }

    /// `count` fresh random (version 4) ids.
    static func make(_ count: Int) -> [String] { make(count) { _, _ in } }

    /// `count` ids from one read of OpenSSL's CSPRNG (the system's when that fails), each
    /// adjusted by `shape` after the version 4 bits are set.
    private static func make(_ count: Int, shape: (Int, UnsafeMutableRawBufferPointer) -> Void) -> [String] {
        var bytes = (try? Crypto.randomBytes(16 * count)) ?? []
        if bytes.count != 16 * count {
            var system = SystemRandomNumberGenerator()
            bytes = (0..<16 * count).map { _ in UInt8.random(in: 0...255, using: &system) }
        }
        return bytes.withUnsafeMutableBytes { raw in
            (0..<count).map { index in
                let id = UnsafeMutableRawBufferPointer(rebasing: raw[16 * index..<16 * index + 16])
                id[6] = id[6] & 0x0F | 0x40  // version 4
                id[8] = id[8] & 0x3F | 0x80  // RFC 4122 variant
                shape(index, id)
                return text(UnsafeRawBufferPointer(id))
            }
        }
    }

    private static func text(_ raw: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    out[position] = UInt8(ascii: "-")
                    position += 1
                }
                out[position] = digit(raw[index] >> 4)
                out[position + 1] = digit(raw[index] & 0x0F)
                position += 2
            }
            return position
        }
    }

    private static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
