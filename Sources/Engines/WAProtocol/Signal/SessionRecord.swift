/// Every session state kept for one address: the current state and archived ones, newest first.
///
/// Archived states matter because a peer may still be sending on a session we replaced (both sides
/// started one at once, or a retry raced a new `pkmsg`); libsignal tries them before giving up.
package struct SessionRecord: Sendable, Hashable {
    package var current: SessionState?
    package var previous: [SessionState]

    package init(current: SessionState? = nil, previous: [SessionState] = []) {
        self.current = current
        self.previous = previous
    }

    /// True when some state (current or archived) was set up from a `pkmsg` with this base key.
    package func hasState(baseKey: [UInt8]) -> Bool {
        current?.aliceBaseKey == baseKey || previous.contains { $0.aliceBaseKey == baseKey }
    }

    /// Makes `state` current, archiving the old current state.
    package mutating func promote(_ state: SessionState) {
        if let current { previous.insert(current, at: 0) }
        current = state
        if previous.count > SignalLimits.maxArchivedStates {
            previous.removeLast(previous.count - SignalLimits.maxArchivedStates)
        }
    }

    package func serialized() throws -> [UInt8] {
        var proto = Wasignal_RecordStructure()
        if let current { proto.currentSession = current.structure }
        proto.previousSessions = previous.map(\.structure)
        return try SignalProto.encode(proto)
    }

    package init(serialized bytes: [UInt8]) throws {
        let proto: Wasignal_RecordStructure = try SignalProto.decode(bytes, "session record")
        self.init(
            current: proto.hasCurrentSession ? try SessionState(structure: proto.currentSession) : nil,
            previous: try proto.previousSessions.map(SessionState.init(structure:)))
    }
}
