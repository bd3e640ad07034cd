import Foundation
import Reactor

/// One app-state sync key as the primary shares it (ref part 2 §7.2): an opaque id, 32 bytes of
/// key data, and the primary's timestamp (the newest key encrypts new patches).
package struct AppStateSyncKey: Sendable, Equatable {
    package let id: [UInt8]
    package let data: [UInt8]
    package let timestamp: Int64
    package let keys: AppStateMutationKeys

    package init(id: [UInt8], data: [UInt8], timestamp: Int64) throws(ProtocolError) {
        self.id = id
        self.data = data
        self.timestamp = timestamp
        keys = try AppStateMutationKeys(keyData: data)
    }

    /// `timestamp(8, big-endian) ‖ keyData(32)`: how a key is kept in a store.
    package var serialized: [UInt8] { AppStateMAC.bigEndian(UInt64(bitPattern: timestamp)) + data }

    package init(id: [UInt8], serialized: [UInt8]) throws(ProtocolError) {
        guard serialized.count == 40 else { throw ProtocolError.malformed("stored app-state key must be 40 bytes") }
        let timestamp = serialized.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        try self.init(id: id, data: Array(serialized.suffix(32)), timestamp: Int64(bitPattern: timestamp))
    }
}

/// What a device keeps of one collection (ref part 2 §7.5): the version it has applied, the
/// LTHash of the live records, and each live record's value MAC by its index MAC (what a later
/// SET or REMOVE of the same index subtracts from the hash).
package struct AppStateCollectionState: Sendable, Equatable {
    /// Sync order (whatsmeow's): settings first, then contacts, then chat state.
    package static let names = ["critical_block", "critical_unblock_low", "regular_high", "regular", "regular_low"]

    package var version: UInt64 = 0
    package var hash = LTHash()
    package var valueMACs: [[UInt8]: [UInt8]] = [:]

    package init() {}

    /// `version(8) ‖ hash(128) ‖ (indexMAC(32) ‖ valueMAC(32))*`, the index MACs sorted so equal
    /// states serialize alike.
    package var serialized: [UInt8] {
        var bytes = AppStateMAC.bigEndian(version) + hash.bytes
        for indexMAC in valueMACs.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            bytes += indexMAC
            bytes += valueMACs[indexMAC] ?? []
        }
        return bytes
    }

    package init(serialized bytes: [UInt8]) throws(ProtocolError) {
        guard bytes.count >= 136, (bytes.count - 136) % 64 == 0 else {
            throw ProtocolError.malformed("stored app-state collection has a bad length")
        }
        version = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        hash = try LTHash(bytes: Array(bytes[8..<136]))
        var offset = 136
        while offset < bytes.count {
            valueMACs[Array(bytes[offset..<(offset + 32)])] = Array(bytes[(offset + 32)..<(offset + 64)])
            offset += 64
        }
    }
}

/// One decoded mutation of a patch: its operation, the index (a JSON array of strings such as
/// `["mute", "15551234567@s.whatsapp.net"]`) and the action value.
package struct AppStateMutation: Sendable {
    package var operation: AppStateOperation
    package var index: [String]
    package var value: Waproto_SyncActionValue
    /// `SyncActionData.version`, the action's schema version (§7.6 table).
    package var version: Int32

    package init(operation: AppStateOperation = .set, index: [String], value: Waproto_SyncActionValue, version: Int32) {
        self.operation = operation
        self.index = index
        self.value = value
        self.version = version
    }

    /// The index as stored: a JSON array of strings without spaces.
    package var indexJSON: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (position, part) in index.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out += JSONWriter.bytes(.string(part))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    static func parseIndex(_ bytes: [UInt8]) throws(ProtocolError) -> [String] {
        guard let value = try? JSONParser.parse(bytes), let parts = value.arrayValue else {
            throw ProtocolError.malformed("app-state index is not a JSON array")
        }
        let strings = parts.compactMap(\.stringValue)
        guard strings.count == parts.count, !strings.isEmpty else {
            throw ProtocolError.malformed("app-state index holds something other than strings")
        }
        return strings
    }
}
