/// The sender-key states of one (group, sender), newest first.
package struct SenderKeyRecord: Sendable, Hashable {
    package var states: [SenderKeyState]

    package init(states: [SenderKeyState] = []) { self.states = states }

    package var isEmpty: Bool { states.isEmpty }

    func stateIndex(keyID: UInt32) -> Int? { states.firstIndex { $0.keyID == keyID } }

    /// Adds a state in front, dropping the oldest beyond `SignalLimits.maxSenderKeyStates`; a state with
    /// the same key id is replaced.
    mutating func add(_ state: SenderKeyState) {
        states.removeAll { $0.keyID == state.keyID }
        states.insert(state, at: 0)
        if states.count > SignalLimits.maxSenderKeyStates {
            states.removeLast(states.count - SignalLimits.maxSenderKeyStates)
        }
    }

    package func serialized() throws -> [UInt8] {
        var proto = Wasignal_SenderKeyRecordStructure()
        proto.senderKeyStates = states.map(\.structure)
        return try SignalProto.encode(proto)
    }

    package init(serialized bytes: [UInt8]) throws {
        let proto: Wasignal_SenderKeyRecordStructure = try SignalProto.decode(bytes, "sender key record")
        self.init(states: try proto.senderKeyStates.map(SenderKeyState.init(structure:)))
    }
}
