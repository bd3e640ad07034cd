import Foundation
import Reactor
import WAProtocol

/// `<notification type="devices">` (reference part 2, 3.6): when an account links or unlinks a
/// companion, the devices that may send to it hear of it at once, so none keeps sending to a stale
/// device list: the account's own other companions, the companions of every phone it has
/// exchanged messages with, and those of its groups' members.
extension SimulatorCore {
    func announceDevices(of account: Account, change: String, device: UInt16) {
        var audience: [String: Account] = [account.phone: account]
        for phone in account.contacts { audience[phone] = accounts[phone] }
        for group in groups.values where group.role(of: account.phone) != nil {
            for member in group.members { audience[member.phone] = accounts[member.phone] }
        }
        let devices = [UInt16(0)] + account.companions.keys.sorted()
        let hash = Self.deviceHash(devices.map { account.jid(device: $0) })
        let node = { (id: String) in
            BinaryNode(
                "notification",
                ["from": .jid(account.jid), "type": "devices", "id": .string(id), "t": .string(String(unixNow()))],
                children: [
                    BinaryNode(
                        change, ["device_hash": .string(hash)],
                        children: [BinaryNode("device", ["jid": .jid(account.jid(device: device))])])
                ])
        }
        for target in audience.values {
            for companion in target.companions.values where !(target === account && companion.device == device) {
                guard let connection = companion.connection, connection.isOnline else { continue }
                connection.send(node(connection.makeID()))
            }
        }
    }

    /// Two phones exchanged a message: each now hears of the other's device changes.
    func noteContact(_ one: Account, _ other: Account) {
        guard one !== other else { return }
        one.contacts.insert(other.phone)
        other.contacts.insert(one.phone)
    }

    /// The participant hash of a device list (section 1.11).
    static func deviceHash(_ devices: [JID]) -> String {
        let names = devices.map { "\($0.user).\($0.agent):\($0.device)@\($0.server)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let encoded = Data(Crypto.sha256(Array(names.joined().utf8)).prefix(6)).base64EncodedString()
        return "2:" + encoded.trimmingCharacters(in: CharacterSet(charactersIn: "="))
    }
}
