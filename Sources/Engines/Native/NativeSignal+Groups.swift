import Foundation
import Persistence
import Reactor
import WAProtocol

/// Sender keys (reference part 2, 1.9): the chains members handed us, and our own sending chain
/// per group with the devices that already hold it. Same rules as the pairwise steps: records
/// are loaded, changed on the worker lane and returned (or written) as one batch.
extension NativeSignal {
    enum GroupKey {
        static func senderKey(group: JID, sender: JID) -> String {
            "signal.senderkey.\(SenderKeyName(groupID: group.bare.description, sender: NativeSignal.address(of: sender)))"
        }
        /// The devices our current chain for the group was handed to, one address per line.
        static func memory(group: JID) -> String { "signal.skmemory.\(group.bare.description)" }
    }

    /// Keeps the chain a member handed us pairwise.
    func storeDistribution(
        _ carrier: Waproto_SenderKeyDistributionMessage, group: JID, sender: JID, pending: Changes
    ) async throws -> Changes {
        let key = GroupKey.senderKey(group: group, sender: sender)
        let stored = try await load(key, pending: pending)
        let bytes = Array(carrier.axolotlSenderKeyDistributionMessage)
        return try await lane.run {
            var record = try stored.map(SenderKeyRecord.init(serialized:)) ?? SenderKeyRecord()
            GroupCipher.process(try SenderKeyDistributionMessage(serialized: bytes), record: &record)
            return [key: try record.serialized()]
        }
    }

    /// Decrypts a member's `skmsg` (still padded); no chain from that device is a
    /// `noSenderKey` failure, which asks the sender for the message again.
    func groupDecrypt(_ bytes: [UInt8], group: JID, sender: JID, pending: Changes) async throws -> (padded: [UInt8], changes: Changes) {
        let key = GroupKey.senderKey(group: group, sender: sender)
        let stored = try await load(key, pending: pending)
        return try await lane.run {
            let message = try SenderKeyMessage(serialized: bytes)
            guard let stored else { throw ProtocolError.signalNoSenderKey(keyID: message.keyID) }
            var record = try SenderKeyRecord(serialized: stored)
            let padded = try GroupCipher.decrypt(message, record: &record)
            return (padded, [key: try record.serialized()])
        }
    }

    /// Encrypts a group message once under our chain, and hands the chain pairwise to the devices
    /// in `devices` that do not have it yet (fetching bundles for those without a session).
    /// Everything changed is written before returning.
    func groupEncrypt(
        group: JID, me: JID, padded: [UInt8], devices: [JID],
        bundles fetch: @Sendable ([JID]) async throws -> [SignalAddress: PreKeyBundle]
    ) async throws -> (skmsg: [UInt8], distribution: [(JID, CiphertextMessage)]) {
        let recordKey = GroupKey.senderKey(group: group, sender: me)
        let memoryKey = GroupKey.memory(group: group)
        let stored = try await load(recordKey)
        // A new chain has been handed to nobody, whatever an older one's memory says.
        var memory = Set<String>()
        if stored != nil, let lines = try await load(memoryKey) {
            memory = Set(String(decoding: lines, as: UTF8.self).split(separator: "\n").map(String.init))
        }
        let (distribution, skmsg, record) = try await lane.run {
            var record = try stored.map(SenderKeyRecord.init(serialized:)) ?? SenderKeyRecord()
            // The distribution first: it then starts at the iteration this message uses.
            let distribution = try GroupCipher.distributionMessage(record: &record)
            let skmsg = try GroupCipher.encrypt(padded, record: &record)
            return (distribution, skmsg, try record.serialized())
        }
        var changes: Changes = [recordKey: record]
        var pairwise: [(JID, CiphertextMessage)] = []
        let needing = devices.filter { !memory.contains(Self.address(of: $0).description) }
        if !needing.isEmpty {
            var carrier = Waproto_Message()
            carrier.senderKeyDistributionMessage.groupID = group.bare.description
            carrier.senderKeyDistributionMessage.axolotlSenderKeyDistributionMessage = Data(distribution.serialized)
            let paddedCarrier = try MessageCodec.padded(carrier)
            var missing: [JID] = []
            for device in needing where try await load(Key.session(Self.address(of: device))) == nil { missing.append(device) }
            let bundles = missing.isEmpty ? [:] : try await fetch(missing)
            let (messages, sessionChanges) = try await encrypt(needing.map { (Self.address(of: $0), paddedCarrier) }, bundles: bundles)
            changes.merge(sessionChanges) { _, new in new }
            var byAddress: [SignalAddress: JID] = [:]
            for device in needing { byAddress[Self.address(of: device)] = device }
            for (address, message) in messages {
                guard let device = byAddress[address] else { continue }
                pairwise.append((device, message))
                memory.insert(address.description)
            }
        }
        changes[memoryKey] = Array(memory.sorted().joined(separator: "\n").utf8)
        try await write(changes)
        return (skmsg.serialized, pairwise)
    }

    /// Our chain for `group` as it stands, for a device that asked for a group message again
    /// (reference part 2, 2.6), and that device taken out of the chain's memory so a later send
    /// hands it the chain again should this retry fail too. Nil when we have no chain (the next
    /// send starts one and hands it to everyone).
    func redistribution(group: JID, to device: JID, me: JID) async throws -> Waproto_SenderKeyDistributionMessage? {
        let memoryKey = GroupKey.memory(group: group)
        guard let stored = try await load(GroupKey.senderKey(group: group, sender: me)) else { return nil }
        let distribution = try await lane.run {
            var record = try SenderKeyRecord(serialized: stored)
            return try GroupCipher.distributionMessage(record: &record).serialized
        }
        if let lines = try await load(memoryKey) {
            var memory = Set(String(decoding: lines, as: UTF8.self).split(separator: "\n").map(String.init))
            if memory.remove(Self.address(of: device).description) != nil {
                try await write([memoryKey: Array(memory.sorted().joined(separator: "\n").utf8)])
            }
        }
        var carrier = Waproto_SenderKeyDistributionMessage()
        carrier.groupID = group.bare.description
        carrier.axolotlSenderKeyDistributionMessage = Data(distribution)
        return carrier
    }

    /// Drops our chain for a group (a member left): the next send starts a new one and hands it
    /// to every remaining device, so the one who left cannot read what follows.
    func rotateSenderKey(group: JID, me: JID) async throws {
        let dropped: Changes = [GroupKey.senderKey(group: group, sender: me): nil, GroupKey.memory(group: group): nil]
        try await write(dropped)
    }
}
