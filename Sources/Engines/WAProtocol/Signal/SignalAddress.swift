/// Where a Signal session lives: a user name and a device number (reference part 2, 1.3).
///
/// The name is the JID user, with `_<domain>` appended for non-phone domains (`123_1` for a LID); the
/// engine builds it from a JID. Addresses never travel on the wire; they only key local storage.
package struct SignalAddress: Sendable, Hashable, CustomStringConvertible {
    package let name: String
    package let deviceID: UInt32

    package init(name: String, deviceID: UInt32) {
        self.name = name
        self.deviceID = deviceID
    }

    /// `name.device`, the key libsignal stores sessions under.
    package var description: String { "\(name).\(deviceID)" }
}

/// A sender-key record's key: a group and one sender device in it.
package struct SenderKeyName: Sendable, Hashable, CustomStringConvertible {
    /// The group JID string (`123-456@g.us`).
    package let groupID: String
    package let sender: SignalAddress

    package init(groupID: String, sender: SignalAddress) {
        self.groupID = groupID
        self.sender = sender
    }

    package var description: String { "\(groupID)::\(sender)" }
}
