import Foundation
import Logging
import Reactor
import SwiftProtobuf
import WAProtocol

/// An account's app-state ("syncd") as the server and the primary phone hold it (ref part 2
/// §7.7): the primary's sync keys, and per collection the ordered log of patches, each stored
/// with the version the server gave it. The server never reads the patches; only the phone's
/// own writes and its decoded view use the keys (reactor thread only).
final class PhoneAppState {
    /// Patches served per fetch; more set `has_more_patches`.
    static let pageSize = 4

    /// The primary's keys, newest last; made on first use.
    var keys: [AppStateSyncKey] = []
    /// Patches by collection, version 1 first (a patch's version is its position + 1).
    var logs: [String: [Waproto_SyncdPatch]] = [:]
    /// Served patches whose patch MAC is still to be corrupted (admin fault).
    var corruptServedPatches = 0

    func version(of collection: String) -> UInt64 { UInt64(logs[collection]?.count ?? 0) }

    /// The keys, made on first use: one key with a 6-byte id, as phones use.
    func ensureKeys() throws -> [AppStateSyncKey] {
        if keys.isEmpty { try addKey() }
        return keys
    }

    /// A new key, newer than the others (it encrypts the phone's next patches).
    func addKey() throws {
        let id: [UInt8] = [0, 0] + (try Crypto.randomBytes(4))
        let timestamp = max(Int64(unixNow()) * 1000, (keys.last?.timestamp ?? 0) + 1)
        keys.append(try AppStateSyncKey(id: id, data: try Crypto.randomBytes(32), timestamp: timestamp))
    }

    /// Stores `patch` as the collection's next version.
    @discardableResult
    func append(_ patch: Waproto_SyncdPatch, to collection: String) -> UInt64 {
        var stored = patch
        let version = version(of: collection) + 1
        stored.version.version = version
        logs[collection, default: []].append(stored)
        return version
    }

    /// Patches newer than `version`, at most a page.
    func patches(of collection: String, after version: UInt64) -> (patches: [Waproto_SyncdPatch], more: Bool) {
        let log = logs[collection] ?? []
        let start = Int(min(version, UInt64(log.count)))
        let end = min(log.count, start + Self.pageSize)
        return (Array(log[start..<end]), end < log.count)
    }
}

extension SimulatorConnection {
    /// `<iq xmlns="w:sync:app:state" type="set"><sync><collection …/>…</sync></iq>` (§7.4, §7.6):
    /// each collection is a fetch, or an upload when it carries a `<patch>`.
    func answerAppStateSync(_ node: BinaryNode) {
        guard let account, let companion, let sync = node.child("sync") else { return error(node, code: 400, text: "bad-request") }
        var answers: [BinaryNode] = []
        var changed: [(String, UInt64)] = []
        for collection in sync.children("collection") {
            guard let name = collection.attributes.string("name"), AppStateCollectionState.names.contains(name) else {
                answers.append(Self.collectionError(collection.attributes.string("name") ?? "", code: "400", text: "bad-request"))
                continue
            }
            let version = collection.attributes.string("version").flatMap(UInt64.init) ?? 0
            if let upload = collection.child("patch")?.contentBytes {
                let answer = acceptUpload(upload, collection: name, baseVersion: version, of: account)
                answers.append(answer.node)
                if let accepted = answer.version { changed.append((name, accepted)) }
            } else {
                let fromScratch = collection.attributes.string("return_snapshot") == "true"
                answers.append(servePatches(name, after: fromScratch ? 0 : version, of: account))
            }
        }
        result(node, [BinaryNode("sync", children: answers)])
        for (name, version) in changed {
            core.notifyServerSync(account, collection: name, version: version, except: companion.device)
            if name == "critical_block" { core.applyAccountSettings(of: account) }
        }
    }

    private func acceptUpload(
        _ bytes: [UInt8], collection: String, baseVersion: UInt64, of account: Account
    ) -> (node: BinaryNode, version: UInt64?) {
        guard let patch = try? Waproto_SyncdPatch(serializedBytes: bytes), !patch.mutations.isEmpty else {
            return (Self.collectionError(collection, code: "400", text: "bad-request"), nil)
        }
        let current = account.appState.version(of: collection)
        guard baseVersion == current else {
            // 409 with what the uploader is missing, so it can rebase and try again.
            let missing = account.appState.logs[collection]?.dropFirst(Int(min(baseVersion, current))) ?? []
            let node = BinaryNode(
                "collection", ["name": .string(collection), "type": "error"],
                children: [
                    BinaryNode("error", ["code": "409", "text": "conflict"]),
                    BinaryNode("patches", children: missing.map(Self.patchNode)),
                ])
            return (node, nil)
        }
        let version = account.appState.append(patch, to: collection)
        return (BinaryNode("collection", ["name": .string(collection), "version": .string(String(version))]), version)
    }

    private func servePatches(_ collection: String, after version: UInt64, of account: Account) -> BinaryNode {
        let page = account.appState.patches(of: collection, after: version)
        var served = page.patches
        if !served.isEmpty, account.appState.corruptServedPatches > 0 {
            account.appState.corruptServedPatches -= 1
            var mac = Array(served[0].patchMac)
            if !mac.isEmpty { mac[0] ^= 0xFF }
            served[0].patchMac = Data(mac)
        }
        var attributes: NodeAttributes = [
            "name": .string(collection), "version": .string(String(served.last?.version.version ?? version)),
        ]
        if page.more { attributes.append("has_more_patches", "true") }
        return BinaryNode("collection", attributes, children: [BinaryNode("patches", children: served.map(Self.patchNode))])
    }

    static func patchNode(_ patch: Waproto_SyncdPatch) -> BinaryNode {
        BinaryNode("patch", bytes: (try? Array(patch.serializedData())) ?? [])
    }

    static func collectionError(_ name: String, code: String, text: String) -> BinaryNode {
        BinaryNode(
            "collection", ["name": .string(name), "type": "error"],
            children: [BinaryNode("error", ["code": .string(code), "text": .string(text)])])
    }
}

extension SimulatorCore {
    /// `<notification type="server_sync" from="<account>"><collection name version/></notification>`
    /// to every online companion of the account but the one that wrote.
    func notifyServerSync(_ account: Account, collection: String, version: UInt64, except device: UInt16?) {
        for companion in account.companions.values where companion.device != device {
            guard let connection = companion.connection, connection.isOnline else { continue }
            connection.send(
                BinaryNode(
                    "notification",
                    [
                        "from": .jid(account.jid), "type": "server_sync", "id": .string(connection.makeID()),
                        "t": .string(String(unixNow())),
                    ],
                    children: [BinaryNode("collection", ["name": .string(collection), "version": .string(String(version))])]))
        }
    }

    /// The primary's key share (`APP_STATE_SYNC_KEY_SHARE`) to one of its companions, as a
    /// pairwise message from device 0: every key, or those of `ids` it knows.
    func shareAppStateKeys(of account: Account, with companion: Companion, ids: [[UInt8]]?) {
        let keys: [AppStateSyncKey]
        do { keys = try account.appState.ensureKeys() } catch {
            return logger.error("app-state keys could not be made", metadata: ["error": "\(error)"])
        }
        let shared = keys.filter { key in ids.map { $0.contains(key.id) } ?? true }
        var message = Waproto_Message()
        message.protocolMessage.type = .appStateSyncKeyShare
        message.protocolMessage.appStateSyncKeyShare.keys = shared.map { key in
            var entry = Waproto_AppStateSyncKey()
            entry.keyID.keyID = Data(key.id)
            entry.keyData.keyData = Data(key.data)
            entry.keyData.timestamp = key.timestamp
            entry.keyData.fingerprint.rawID = 1
            entry.keyData.fingerprint.currentIndex = 0
            return entry
        }
        let id = (try? MessageCodec.newMessageID(ownUser: account.phone)) ?? UUID().uuidString
        let time = unixNow()
        let build: (Int) -> BinaryNode? = { [weak self, weak companion] count in
            guard let self, let companion else { return nil }
            return self.phoneStanza(
                from: account, owner: account, companion: companion, message: message, id: id, time: time, recipient: nil,
                count: count)
        }
        guard let node = build(0) else { return }
        deliver(QueuedStanza(id: id, node: node, resend: build), to: companion)
    }

    /// A companion's `APP_STATE_SYNC_KEY_REQUEST` to its own primary is answered with a key share;
    /// true when `message` was such a request (it is not filed in the inbox).
    func answerKeyRequest(_ message: Waproto_Message, phone: Account, from sender: JID) -> Bool {
        guard message.hasProtocolMessage, message.protocolMessage.type == .appStateSyncKeyRequest else { return false }
        guard sender.user == phone.phone, let companion = phone.companions[sender.device] else { return true }
        let ids = message.protocolMessage.appStateSyncKeyRequest.keyIds.map { Array($0.keyID) }
        logger.info("app-state key request", metadata: ["jid": "\(sender)", "keys": "\(ids.count)"])
        shareAppStateKeys(of: phone, with: companion, ids: ids)
        return true
    }
}
