import Foundation
import Reactor
import WAProtocol

/// Each account's blocklist as the server keeps it (reference part 1, init queries; part 2,
/// 3.6): the `blocklist` iqs read and change it, every other device of the account hears of a
/// change through `<notification type="account_sync"><blocklist>`, and a blocked phone's
/// messages are not delivered to the account (`sendFromPhone`).
extension SimulatorCore {
    /// Blocks or unblocks `contact` for `phone`; `except` is the device that asked (it has the answer).
    func setBlocked(phone: String, contact: String, blocked: Bool, except: Companion?) throws(SimulatorError) {
        let account = try account(phone)
        guard contact != phone else { throw .badRequest("an account cannot block itself") }
        guard accounts[contact] != nil else { throw .notFound("no phone \(contact)") }
        let listed = account.blocked.contains(contact)
        guard listed != blocked else { return }
        if blocked { account.blocked.append(contact) } else { account.blocked.removeAll { $0 == contact } }
        let item = BinaryNode(
            "item", ["jid": .jid(JID(user: contact, server: JID.Server.user)), "action": .string(blocked ? "block" : "unblock")])
        for companion in account.companions.values where companion !== except {
            guard let connection = companion.connection, connection.isOnline else { continue }
            connection.send(
                BinaryNode(
                    "notification",
                    [
                        "from": .jid(account.jid), "type": "account_sync", "id": .string(connection.makeID()),
                        "t": .string(String(unixNow())),
                    ],
                    children: [BinaryNode("blocklist", ["action": "modify"], children: [item])]))
        }
    }

    func blocklist(of phone: String) throws(SimulatorError) -> [String] { try account(phone).blocked }
}

extension SimulatorConnection {
    /// `get` answers `<list><item jid/>…</list>`; `set` takes one `<item action jid/>` and answers the new list.
    func answerBlocklist(_ node: BinaryNode, type: String) {
        guard let account else { return error(node, code: 401, text: "not-authorized") }
        if type == "set" {
            guard let item = node.child("item"), let jid = item.attributes.jid("jid"),
                let action = item.attributes.string("action"), ["block", "unblock"].contains(action)
            else { return error(node, code: 400, text: "bad-request") }
            do throws(SimulatorError) {
                try core.setBlocked(phone: account.phone, contact: jid.user, blocked: action == "block", except: companion)
            } catch {
                return self.error(node, code: error.status, text: error.message)
            }
        } else if type != "get" {
            return error(node, code: 400, text: "bad-request")
        }
        let items = account.blocked.map { BinaryNode("item", ["jid": .jid(JID(user: $0, server: JID.Server.user))]) }
        result(node, [BinaryNode("list", children: items)])
    }
}

extension Simulator {
    /// The phone itself blocks or unblocks a contact (its companions are told).
    package func setBlocked(phone: String, contact: String, blocked: Bool) async throws {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.setBlocked(phone: phone, contact: contact, blocked: blocked, except: nil) })
        }
    }

    /// The phones `phone` blocked, in the order it blocked them.
    package func blocklist(of phone: String) async throws -> [String] {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.blocklist(of: phone) }) }
    }
}
