/// Every session state kept for one address: the current state and archived ones, newest first.
///
/// Archived states matter because a peer may still be sending on a session we replaced (both sides
/// started one at once, or a retry raced a new `pkmsg`); libsignal tries them before giving up.
///
/// Archived states stay in their stored form (a serialized `SessionStructure`) and are decoded only when a
/// message needs one. A record is loaded and stored for every message and nearly every message is handled
/// by the current state, so decoding and re-encoding up to `SignalLimits.maxArchivedStates` archived
/// states each time made a message cost more the longer a peer's history grew. The price is that an
/// archived state damaged in storage is noticed when it is needed, not when the record loads; it is then
/// treated as a state that cannot decrypt.
package struct SessionRecord: Sendable, Hashable {
    package var current: SessionState?
    /// The archived states, newest first, each a serialized `SessionStructure`. Loaded ones are slices of
    /// the stored record, sharing its buffer.
    private var archived: [ArraySlice<UInt8>]

    package init(current: SessionState? = nil) {
        self.current = current
        archived = []
    }

    /// How many archived states the record keeps.
    package var archivedCount: Int { archived.count }

    /// The archived state at `index`, 0 being the newest.
    package func archivedState(at index: Int) throws -> SessionState {
        try SessionState(serialized: archived[index])
    }

    /// True when some state (current or archived) was set up from a `pkmsg` with this base key. Only a
    /// `pkmsg` whose base key is not the current state's decodes the archive for this.
    package func hasState(baseKey: [UInt8]) -> Bool {
        if current?.aliceBaseKey == baseKey { return true }
        return archived.indices.contains { (try? archivedState(at: $0))?.aliceBaseKey == baseKey }
    }

    /// Makes `state` current, archiving the old current state.
    package mutating func promote(_ state: SessionState) {
        if let current { archived.insert(current.serialized()[...], at: 0) }
        current = state
        if archived.count > SignalLimits.maxArchivedStates {
            archived.removeLast(archived.count - SignalLimits.maxArchivedStates)
        }
    }

    /// Makes `state`, the updated form of the archived state at `index`, current.
    mutating func promoteArchived(at index: Int, as state: SessionState) {
        archived.remove(at: index)
        promote(state)
    }

    // MARK: - Stored form

    /// The record as a `RecordStructure`: byte for byte what SwiftProtobuf writes for the decoded record,
    /// with the archived states copied as they are.
    package func serialized() throws -> [UInt8] {
        var fields = ProtobufFieldWriter()
        if let current { fields.appendBytes(field: 1, current.serialized()) }
        for state in archived { fields.appendBytes(field: 2, state) }
        return fields.bytes
    }

    package init(serialized bytes: [UInt8]) throws {
        var currentBytes: [UInt8]?
        var archived: [ArraySlice<UInt8>] = []
        var reader = ProtobufFieldReader(bytes[...], "session record")
        while let field = try reader.next() {
            switch field.number {
            // A repeated singular message field merges, and merging protobuf messages is decoding their
            // concatenation.
            case 1: currentBytes = (currentBytes ?? []) + (try field.lengthDelimited())
            case 2: archived.append(try field.lengthDelimited())
            default: continue
            }
        }
        self.current = try currentBytes.map(SessionState.init(serialized:))
        self.archived = archived
    }
}
