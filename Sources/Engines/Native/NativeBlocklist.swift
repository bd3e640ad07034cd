import Foundation
import Reactor
import WAProtocol

/// The account's blocklist (`<iq xmlns="blocklist">`, reference part 1, init queries): read
/// once per connection, then kept current by our own changes and by the server's
/// `<notification type="account_sync"><blocklist>` when another device of the account changes it.
extension NativeLink {
    /// `<blocklist [action="modify"]><item jid action="block|unblock"/>…</blocklist>`; a change
    /// without items says the list moved in a way we cannot patch, so the next read asks again.
    func applyBlocklistChange(_ change: BinaryNode) {
        let items = change.children("item")
        guard var known = blocklist, !items.isEmpty else {
            blocklist = nil
            return
        }
        for item in items {
            guard let jid = item.attributes.jid("jid") else { continue }
            let id = Self.neutral(jid.bare)
            if item.attributes.string("action") == "unblock" { known.remove(id) } else { known.insert(id) }
        }
        blocklist = known
    }
}

extension LinkRef {
    func blocklist() async throws -> Set<String> {
        let cached: Set<String>? = try await withLink { link, continuation in continuation.resume(returning: link.blocklist) }
        if let cached { return cached }
        let reply = try await request(BinaryNode("iq", ["to": .jid(.whatsAppServer), "type": "get", "xmlns": "blocklist"]))
        let items = reply.child("list")?.children("item") ?? []
        let listed = Set(items.compactMap { $0.attributes.jid("jid").map { NativeLink.neutral($0.bare) } })
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.blocklist = listed
            continuation.resume()
        }
        return listed
    }

    /// `<item action="block|unblock" jid/>`; the server's answer is not trusted to be the whole
    /// list, so the change is applied to what we hold.
    func setBlocked(_ contact: JID, blocked: Bool) async throws {
        _ = try await request(
            BinaryNode(
                "iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "blocklist"],
                children: [BinaryNode("item", ["action": .string(blocked ? "block" : "unblock"), "jid": .jid(contact)])]))
        let id = NativeLink.neutral(contact)
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            if blocked { link.blocklist?.insert(id) } else { link.blocklist?.remove(id) }
            continuation.resume()
        }
    }
}

extension NativeEngine: BlockingOperations {
    package func blockedContacts() async throws -> [String] {
        try await linkRef().blocklist().sorted()
    }

    package func setBlocked(_ contactID: String, blocked: Bool) async throws {
        let jid = try NativeLink.recipient(of: contactID)
        guard jid.server != JID.Server.group else { throw EngineError.invalid("contactId must be a contact id, not a group") }
        try await linkRef().setBlocked(jid, blocked: blocked)
    }
}
