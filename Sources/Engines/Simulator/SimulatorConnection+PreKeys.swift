import Foundation
import Logging
import Reactor
import SwiftProtobuf
import WAProtocol

/// The prekey iqs a companion sends after login (protocol reference part 2, section 1.4).
extension SimulatorConnection {
    // MARK: - Prekeys (part 2 §1.4)

    func storeKeys(_ node: BinaryNode) {
        guard let companion else { return error(node, code: 500, text: "internal-error") }
        if let rotate = node.child("rotate"), let skey = rotate.child("skey") {
            companion.keys.signedPreKey = signedPreKey(skey)
            return result(node)
        }
        guard let identity = node.child("identity")?.contentBytes, identity.count == 32,
            let registration = node.child("registration")?.contentBytes
        else { return error(node, code: 400, text: "bad-request") }
        companion.keys.registrationID = registration
        companion.keys.identity = identity
        if let skey = node.child("skey") { companion.keys.signedPreKey = signedPreKey(skey) }
        let known = Set(companion.keys.preKeys.map(\.id))
        for key in node.child("list")?.children("key") ?? [] {
            guard let id = key.child("id")?.contentBytes, let value = key.child("value")?.contentBytes, !known.contains(id)
            else { continue }
            companion.keys.preKeys.append((id, value))
        }
        result(node)
        if companion.awaitsAppStateKeys, let account {
            companion.awaitsAppStateKeys = false
            core.shareAppStateKeys(of: account, with: companion, ids: nil)
        }
    }

    func signedPreKey(_ skey: BinaryNode) -> (id: [UInt8], value: [UInt8], signature: [UInt8])? {
        guard let id = skey.child("id")?.contentBytes, let value = skey.child("value")?.contentBytes,
            let signature = skey.child("signature")?.contentBytes
        else { return nil }
        return (id, value, signature)
    }

    func answerEncryptGet(_ node: BinaryNode) {
        guard let companion else { return error(node, code: 500, text: "internal-error") }
        if node.child("count") != nil {
            return result(node, [BinaryNode("count", ["value": .string(String(companion.keys.preKeys.count))])])
        }
        if node.child("digest") != nil {
            let keys = companion.keys
            guard let skey = keys.signedPreKey, !keys.identity.isEmpty else { return error(node, code: 404, text: "item-not-found") }
            // No <hash>: SHA-1 is not among our primitives yet; a client that checks it re-uploads.
            return result(
                node,
                [
                    BinaryNode(
                        "digest",
                        children: [
                            BinaryNode("registration", bytes: keys.registrationID), BinaryNode("type", bytes: [5]),
                            BinaryNode("identity", bytes: keys.identity),
                            BinaryNode("skey", children: [BinaryNode("id", bytes: skey.id)]),
                            BinaryNode("list", children: keys.preKeys.map { BinaryNode("id", bytes: $0.id) }),
                        ])
                ])
        }
        if let key = node.child("key") {
            return result(node, [BinaryNode("list", children: key.children("user").compactMap(bundle(for:)))])
        }
        error(node, code: 501, text: "feature-not-implemented")
    }

    /// A prekey bundle for one `<user jid="user:device@server"/>`, consuming one one-time prekey.
    func bundle(for user: BinaryNode) -> BinaryNode? {
        guard let jid = user.attributes.jid("jid") else { return nil }
        let account = core.accounts[jid.user] ?? core.accounts.values.first { $0.lidUser == jid.user }
        if jid.device == 0, let account, let bundle = try? account.signal().takeBundle() {
            var children = [
                BinaryNode("registration", bytes: bundle.registrationID.bigEndianBytes), BinaryNode("type", bytes: [5]),
                BinaryNode("identity", bytes: bundle.identityKey),
            ]
            if let id = bundle.preKeyID, let key = bundle.preKey {
                children.append(BinaryNode("key", children: [BinaryNode("id", bytes: id.bigEndian3Bytes), BinaryNode("value", bytes: key)]))
            }
            children.append(
                BinaryNode(
                    "skey",
                    children: [
                        BinaryNode("id", bytes: bundle.signedPreKeyID.bigEndian3Bytes), BinaryNode("value", bytes: bundle.signedPreKey),
                        BinaryNode("signature", bytes: bundle.signedPreKeySignature),
                    ]))
            return BinaryNode("user", ["jid": .jid(jid)], children: children)
        }
        guard let account, let companion = account.companions[jid.device], let skey = companion.keys.signedPreKey
        else {
            return BinaryNode(
                "user", ["jid": .jid(jid)], children: [BinaryNode("error", ["code": "404", "text": "item-not-found"])])
        }
        var children = [
            BinaryNode("registration", bytes: companion.keys.registrationID), BinaryNode("type", bytes: [5]),
            BinaryNode("identity", bytes: companion.keys.identity),
        ]
        if !companion.keys.preKeys.isEmpty {
            let key = companion.keys.preKeys.removeFirst()
            core.preKeysTaken(from: companion)
            children.append(BinaryNode("key", children: [BinaryNode("id", bytes: key.id), BinaryNode("value", bytes: key.value)]))
        }
        children.append(
            BinaryNode(
                "skey",
                children: [
                    BinaryNode("id", bytes: skey.id), BinaryNode("value", bytes: skey.value),
                    BinaryNode("signature", bytes: skey.signature),
                ]))
        return BinaryNode("user", ["jid": .jid(jid)], children: children)
    }

    /// Device lists for the users asked about (part 2 §1.11), without key-index lists.
    func answerUsync(_ node: BinaryNode) {
        guard let usync = node.child("usync") else { return error(node, code: 400, text: "bad-request") }
        if usync.child("query")?.child("contact") != nil { return answerContactQuery(node, usync) }
        let users: [BinaryNode] = (usync.child("list")?.children("user") ?? []).compactMap { user in
            guard let jid = user.attributes.jid("jid") else { return nil }
            let account = core.accounts[jid.user] ?? core.accounts.values.first { $0.lidUser == jid.user }
            guard let account else {
                return BinaryNode(
                    "user", ["jid": .jid(jid)],
                    children: [BinaryNode("devices", children: [BinaryNode("error", ["code": "404", "text": "not-found"])])])
            }
            var devices = [BinaryNode("device", ["id": "0"])]
            for companion in account.companions.values.sorted(by: { $0.device < $1.device }) {
                devices.append(BinaryNode("device", ["id": .string(String(companion.device)), "key-index": .string(String(companion.device))]))
            }
            return BinaryNode(
                "user", ["jid": .jid(jid)],
                children: [
                    BinaryNode("devices", children: [BinaryNode("device-list", children: devices)]),
                    BinaryNode("lid", ["val": .jid(account.lid)]),
                ])
        }
        var attributes = usync.attributes
        if attributes["sid"] == nil { attributes.append("sid", .string(node.attributes.string("id") ?? "")) }
        result(node, [BinaryNode("usync", attributes, children: [BinaryNode("list", children: users)])])
    }

    /// "Is this number on WhatsApp" (usync `<contact/>`): `type="in"` for an account the
    /// simulator has, `out` otherwise.
    private func answerContactQuery(_ node: BinaryNode, _ usync: BinaryNode) {
        let users: [BinaryNode] = (usync.child("list")?.children("user") ?? []).compactMap { user in
            guard let contact = user.child("contact")?.contentBytes else { return nil }
            let digits = String(decoding: contact, as: UTF8.self).filter { $0.isASCII && $0.isNumber }
            let known = core.accounts[digits] != nil
            return BinaryNode(
                "user", ["jid": .jid(JID(user: digits, server: JID.Server.user))],
                children: [BinaryNode("contact", ["type": known ? "in" : "out"])])
        }
        var attributes = usync.attributes
        if attributes["sid"] == nil { attributes.append("sid", .string(node.attributes.string("id") ?? "")) }
        result(node, [BinaryNode("usync", attributes, children: [BinaryNode("list", children: users)])])
    }
}


extension UInt32 {
    /// Four bytes, most significant first.
    fileprivate var bigEndianBytes: [UInt8] { [UInt8(self >> 24), UInt8(self >> 16 & 0xFF), UInt8(self >> 8 & 0xFF), UInt8(self & 0xFF)] }
    /// The low three bytes (prekey ids on the wire).
    fileprivate var bigEndian3Bytes: [UInt8] { Array(bigEndianBytes[1...]) }
}
