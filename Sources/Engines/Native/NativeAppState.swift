import Foundation
import Logging
import Persistence
import Reactor
import SwiftProtobuf
import WAProtocol

/// App-state sync ("syncd", reference part 2 §7): the primary's keys and each collection's
/// version, LTHash and value MACs are kept in the auth state next to the Signal records
/// (`appstate.key.<hex id>`, `appstate.collection.<name>`), so they move and are wiped with the
/// link. Syncs run after login, on `server_sync` notifications and when keys arrive; one sync or
/// upload runs at a time per link.
enum NativeAppState {
    static let keyPrefix = "appstate.key."
    static let collectionPrefix = "appstate.collection."

    static func keyRecord(_ id: [UInt8]) -> String { keyPrefix + Crypto.hex(id) }
    static func collectionRecord(_ name: String) -> String { collectionPrefix + name }

    /// The key id a key record's name carries (lower-case hex).
    static func bytes(hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[pair..<(pair + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// The keys a key share carries, when `message` is one.
    static func sharedKeys(_ message: Waproto_Message) -> [AppStateSyncKey]? {
        guard message.hasProtocolMessage, message.protocolMessage.type == .appStateSyncKeyShare else { return nil }
        return message.protocolMessage.appStateSyncKeyShare.keys.compactMap { key in
            try? AppStateSyncKey(id: Array(key.keyID.keyID), data: Array(key.keyData.keyData), timestamp: key.keyData.timestamp)
        }
    }

    /// `<iq xmlns="w:sync:app:state" type="set"><sync><collection …/></sync></iq>`, a fetch, or an
    /// upload when `patch` is given.
    static func syncQuery(_ name: String, version: UInt64, snapshot: Bool, patch: [UInt8]? = nil) -> BinaryNode {
        let attributes: NodeAttributes = [
            "name": .string(name), "version": .string(String(version)), "return_snapshot": .string(snapshot ? "true" : "false"),
        ]
        let collection = BinaryNode("collection", attributes, children: patch.map { [BinaryNode("patch", bytes: $0)] } ?? [])
        return BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "w:sync:app:state"],
            children: [BinaryNode("sync", children: [collection])])
    }

    /// What applying a run of patches gave: the state, the decoded mutations, the key ids that
    /// stopped it (asked of the primary), or the verification failure that stopped it.
    struct Applied {
        var state: AppStateCollectionState
        var mutations: [AppStateMutation] = []
        var missingKeys: Set<[UInt8]> = []
        var failure: ProtocolError?
    }

    /// Applies `patches` in order onto `state`, skipping those it already has; stops at the first
    /// one it lacks a key for or that does not verify.
    static func apply(_ patches: [BinaryNode], collection: String, to state: AppStateCollectionState, keys: [[UInt8]: AppStateSyncKey])
        -> Applied
    {
        var applied = Applied(state: state)
        for node in patches {
            guard let patch = try? Waproto_SyncdPatch(serializedBytes: node.contentBytes ?? []) else {
                applied.failure = ProtocolError.malformed("app-state patch does not parse")
                break
            }
            if patch.hasVersion, patch.version.version <= applied.state.version { continue }
            let needed = AppStatePatchCodec.keyIDs(of: patch).subtracting(keys.keys)
            guard needed.isEmpty else {
                applied.missingKeys = needed
                break
            }
            do {
                let result = try AppStatePatchCodec.apply(patch, collection: collection, to: applied.state, keys: keys)
                applied.state = result.state
                applied.mutations += result.mutations
            } catch {
                applied.failure = error
                break
            }
        }
        return applied
    }
}

extension NativeLink {
    /// Starts a sync of `names` in a task of its own; failures are logged, never fatal.
    func startAppStateSync(_ names: [String]) {
        guard phase == .ready else { return }
        let ref = LinkRef(self)
        let logger = logger
        Task {
            do { try await ref.syncAppState(names) } catch {
                logger.info("app-state sync stopped", metadata: ["error": "\(error)"])
            }
        }
    }

    /// `<notification type="server_sync"><collection name version/>…`: another device wrote.
    func handleServerSync(_ node: BinaryNode) {
        let names = node.children("collection").compactMap { $0.attributes.string("name") }
        startAppStateSync(names.isEmpty ? AppStateCollectionState.names : names)
    }

    /// Lets the next waiting sync or upload run, or frees the gate (the link's teardown).
    func releaseAppStateWaiters() {
        appStateBusy = false
        let waiting = appStateWaiters
        appStateWaiters = []
        for waiter in waiting { waiter.resume(throwing: EngineError.unavailable("the connection to WhatsApp closed")) }
    }
}

extension LinkRef {
    /// Fetches and applies `names` (in the order of §7.1) until each is current. A patch that
    /// does not verify starts that collection over from version 0 once; a second failure is
    /// logged and left for the next notification.
    func syncAppState(_ names: [String]) async throws {
        try await onSessionLane { try await self.syncAppStateLocked(names) }
    }

    /// Runs `body` preferring the session's worker lane: patch checks and encoding (AES, HMACs,
    /// LTHash) are protocol crypto, which never runs on the reactor thread that a REST call's
    /// task otherwise prefers.
    func onSessionLane<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let lane: WorkerLane = try await withLink { link, continuation in continuation.resume(returning: link.lane) }
        return try await withTaskExecutorPreference(lane.executor, operation: body)
    }

    private func syncAppStateLocked(_ names: [String]) async throws {
        try await lockAppState()
        do {
            let keys = try await appStateKeys()
            if !keys.isEmpty {
                for name in AppStateCollectionState.names where names.contains(name) { try await syncCollection(name, keys: keys) }
            }
        } catch {
            await unlockAppState()
            throw error
        }
        await unlockAppState()
    }

    private func syncCollection(_ name: String, keys: [[UInt8]: AppStateSyncKey]) async throws {
        var state = try await collectionState(name)
        var fromScratch = state.version == 0
        var resynced = false
        while true {
            let reply = try await request(NativeAppState.syncQuery(name, version: state.version, snapshot: fromScratch))
            guard let node = reply.child("sync")?.children("collection").first(where: { $0.attributes.string("name") == name }) else {
                return
            }
            if node.attributes.string("type") == "error" {
                let code = node.child("error")?.attributes.string("code") ?? "?"
                return try await log(.info, "app-state fetch refused", ["collection": "\(name)", "code": "\(code)"])
            }
            fromScratch = false
            let applied = NativeAppState.apply(
                node.child("patches")?.children("patch") ?? [], collection: name, to: state, keys: keys)
            if let failure = applied.failure {
                if resynced {
                    return try await log(.error, "app-state still does not verify after a full resync", ["collection": "\(name)"])
                }
                try await log(.warning, "app-state patch rejected; full resync", ["collection": "\(name)", "error": "\(failure)"])
                resynced = true
                fromScratch = true
                state = AppStateCollectionState()
                continue
            }
            try await applyActions(applied.mutations)
            if applied.state != state {
                try await storeCollectionState(name, applied.state)
                state = applied.state
            }
            if !applied.missingKeys.isEmpty { return try await requestAppStateKeys(applied.missingKeys) }
            if node.attributes.string("has_more_patches") != "true" { return }
        }
    }

    func lockAppState() async throws {
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            if link.appStateBusy { return link.appStateWaiters.append(continuation) }
            link.appStateBusy = true
            continuation.resume()
        }
    }

    func unlockAppState() async {
        _ = try? await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            if link.appStateWaiters.isEmpty { link.appStateBusy = false } else { link.appStateWaiters.removeFirst().resume() }
            continuation.resume()
        }
    }

    /// Every app-state key the primary shared with us, by id.
    func appStateKeys() async throws -> [[UInt8]: AppStateSyncKey] {
        let (store, sessionID): (any AuthStateStore, String) = try await withLink { link, continuation in
            continuation.resume(returning: (link.authState, link.sessionID))
        }
        var keys: [[UInt8]: AppStateSyncKey] = [:]
        for (record, bytes) in try await store.load(sessionID: sessionID, prefix: NativeAppState.keyPrefix) {
            guard let id = NativeAppState.bytes(hex: record.dropFirst(NativeAppState.keyPrefix.count)),
                let key = try? AppStateSyncKey(id: id, serialized: bytes)
            else { continue }
            keys[id] = key
        }
        return keys
    }

    func collectionState(_ name: String) async throws -> AppStateCollectionState {
        guard let bytes = try await readRecord(NativeAppState.collectionRecord(name)) else { return AppStateCollectionState() }
        return (try? AppStateCollectionState(serialized: bytes)) ?? AppStateCollectionState()
    }

    func storeCollectionState(_ name: String, _ state: AppStateCollectionState) async throws {
        try await writeSignalRecords([NativeAppState.collectionRecord(name): state.serialized])
    }

    /// `APP_STATE_SYNC_KEY_REQUEST` to our own primary (a peer message, §7.2), once per key and link.
    func requestAppStateKeys(_ ids: Set<[UInt8]>) async throws {
        let (me, fresh): (JID?, [[UInt8]]) = try await withLink { link, continuation in
            let fresh = ids.filter { link.appStateKeysRequested.insert($0).inserted }
            continuation.resume(returning: (link.credentials?.me, fresh.sorted { $0.lexicographicallyPrecedes($1) }))
        }
        guard let me, !fresh.isEmpty else { return }
        var message = Waproto_Message()
        message.protocolMessage.type = .appStateSyncKeyRequest
        message.protocolMessage.appStateSyncKeyRequest.keyIds = fresh.map { id in
            var keyID = Waproto_AppStateSyncKeyId()
            keyID.keyID = Data(id)
            return keyID
        }
        let primary = JID(user: me.user, server: me.server, device: 0)
        let encrypted = try await encrypt(
            [(NativeSignal.address(of: primary), try MessageCodec.padded(message))], devices: [primary])
        guard let cipher = encrypted.first?.1 else { throw EngineError.unavailable("the primary phone could not be reached") }
        var children = [BinaryNode("enc", ["v": "2", "type": .string(cipher.encType)], bytes: cipher.serialized)]
        if cipher.encType == "pkmsg", let identity = try await signedIdentity() { children.append(BinaryNode("device-identity", bytes: identity)) }
        let id = try MessageCodec.newMessageID(ownUser: me.user)
        let stanza = BinaryNode(
            "message",
            [
                "id": .string(id), "to": .jid(JID(user: me.user, server: me.server)), "type": "text", "category": "peer",
                "push_priority": "high",
            ], children: children)
        try await log(.info, "app-state keys asked of the primary", ["keys": "\(fresh.count)"])
        _ = try await sendMessageStanza(stanza, id: id)
    }

    func log(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata) async throws {
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.logger.log(level: level, message, metadata: metadata)
            continuation.resume()
        }
    }
}
