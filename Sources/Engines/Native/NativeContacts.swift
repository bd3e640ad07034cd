import Foundation
import Logging
import Persistence
import Reactor
import WAProtocol

/// What the native engine knows about one contact, kept in the session's auth state under
/// `contact.<id>` (a JSON object). The auth state is the right home: it is per session, moves
/// with the session to another node, and is wiped with the link at logout, when the contacts
/// of the account stop being ours to show. Listing reads the whole auth state, which is rare
/// next to the per-message lookups that hit the record cache.
struct ContactRecord: Sendable, Equatable {
    static let prefix = "contact."
    var pushName: String?
    /// Digits of the phone number, when learned (a LID contact's number comes from the server).
    var phone: String?
    /// The name in the account's address book (app state's `contact` action).
    var name: String?
    /// The contact is in the account's address book.
    var saved = false

    static func key(_ id: String) -> String { prefix + id }

    var serialized: [UInt8] {
        var members: [(String, JSONValue)] = []
        if let pushName { members.append(("pushName", .string(pushName))) }
        if let phone { members.append(("phone", .string(phone))) }
        if let name { members.append(("name", .string(name))) }
        if saved { members.append(("saved", .bool(true))) }
        return JSONWriter.bytes(.object(members))
    }

    init(pushName: String? = nil, phone: String? = nil, name: String? = nil, saved: Bool = false) {
        self.pushName = pushName
        self.phone = phone
        self.name = name
        self.saved = saved
    }

    init?(serialized bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes), case .object = value else { return nil }
        pushName = value["pushName"]?.stringValue
        phone = value["phone"]?.stringValue
        name = value["name"]?.stringValue
        saved = value["saved"]?.boolValue ?? false
    }

    /// This record with what was just learned; nothing learned keeps what was known.
    func merging(pushName: String?, phone: String?) -> ContactRecord {
        ContactRecord(pushName: pushName ?? self.pushName, phone: phone ?? self.phone, name: name, saved: saved)
    }

    func contact(id: String, blocked: Set<String>) -> EngineContact {
        EngineContact(
            id: id, name: name, pushName: pushName, phone: phone ?? (id.hasSuffix("@c.us") ? String(id.dropLast(5)) : nil),
            isMyContact: saved, isBlocked: blocked.contains(id))
    }
}

extension NativeLink {
    /// The sender of an inbound message stanza, with the push name it carries (`notify`).
    func noteSender(_ node: BinaryNode) {
        guard let me = credentials?.me, let source = Self.source(of: node, me: me), !source.fromMe,
            let name = node.attributes.string("notify"), !name.isEmpty
        else { return }
        let sender = source.sender.bare
        let phoneJID = sender.server == JID.Server.user ? sender : (node.attributes.jid("sender_pn") ?? node.attributes.jid("participant_pn"))
        noteContact(id: Self.neutral(sender), pushName: name, phone: phoneJID?.user)
    }

    /// Records what was learned about a contact, as a Signal job (in order with the others);
    /// nothing is written when the cached record already says it.
    func noteContact(id: String, pushName: String?, phone: String?) {
        let key = ContactRecord.key(id)
        if case .some(.some(let bytes)) = signalCache.lookup(key), let known = ContactRecord(serialized: bytes),
            known.merging(pushName: pushName, phone: phone) == known
        {
            return
        }
        // A name that changes while the first write is queued waits for the sender's next message.
        guard contactsBeingNoted.insert(key).inserted else { return }
        enqueueSignalJob { link, done in
            guard let signal = link.signalContext() else {
                link.contactsBeingNoted.remove(key)
                return done()
            }
            link.runAsync({
                let known = try await signal.load(key).flatMap(ContactRecord.init(serialized:))
                let merged = (known ?? ContactRecord()).merging(pushName: pushName, phone: phone)
                if merged != known { try await signal.write([key: merged.serialized]) }
            }) { link, result in
                link.contactsBeingNoted.remove(key)
                done()
                if case .failure(let error) = result {
                    link.logger.warning("contact not stored", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

extension LinkRef {
    func noteContact(id: String, pushName: String?, phone: String?) async throws {
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.noteContact(id: id, pushName: pushName, phone: phone)
            continuation.resume()
        }
    }

    /// Every contact record of the session, by contact id.
    func contactRecords() async throws -> [(String, ContactRecord)] {
        let (store, sessionID) = try await withLink { link, continuation in continuation.resume(returning: (link.authState, link.sessionID)) }
        let all = try await store.load(sessionID: sessionID)
        return all.compactMap { key, bytes in
            guard key.hasPrefix(ContactRecord.prefix), let record = ContactRecord(serialized: bytes) else { return nil }
            return (String(key.dropFirst(ContactRecord.prefix.count)), record)
        }
    }

    /// `<iq xmlns="w:profile:picture" type="get" target=…><picture type="image" query="url"/></iq>`:
    /// the picture's URL, or nil when there is none or the server will not show it to us.
    func profilePictureURL(of target: JID) async throws -> String? {
        let query = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "get", "xmlns": "w:profile:picture", "target": .jid(target)],
            children: [BinaryNode("picture", ["type": "image", "query": "url"])])
        let reply: BinaryNode
        do {
            reply = try await request(query)
        } catch let error as EngineError where error.kind == .invalid {
            return nil  // an iq error: no picture (404) or hidden by privacy settings (401)
        }
        guard let picture = reply.child("picture"), picture.child("error") == nil else { return nil }
        return picture.attributes.string("url")
    }
}

extension NativeEngine {
    package func contacts() async throws -> [EngineContact] {
        let link = try await linkRef()
        let blocked = try await link.blocklist()
        return try await link.contactRecords().map { id, record in record.contact(id: id, blocked: blocked) }.sorted { $0.id < $1.id }
    }

    package func contact(id: String) async throws -> EngineContact? {
        let link = try await linkRef()
        guard let bytes = try await link.readRecord(ContactRecord.key(id)), let record = ContactRecord(serialized: bytes) else {
            return nil
        }
        return record.contact(id: id, blocked: try await link.blocklist())
    }

    package func profilePictureURL(of contactID: String) async throws -> String? {
        let target = try NativeLink.recipient(of: contactID)
        return try await linkRef().profilePictureURL(of: target)
    }
}
