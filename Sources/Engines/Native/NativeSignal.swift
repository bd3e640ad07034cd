import Foundation
import Synchronization
import Persistence
import Reactor
import WAProtocol

/// A session's Signal records in the auth-state store, and the pairwise cipher steps on its
/// worker lane (reference part 2, 1.6-1.8).
///
/// Each step loads the records it needs, runs the pure cipher on the lane and returns the
/// changed records as a batch for `AuthStateStore.apply`; nothing is written here. The link runs
/// one step at a time per session, so two steps never race on one record.
struct NativeSignal: Sendable {
    let sessionID: String
    let store: any AuthStateStore
    let cache: SignalRecordCache
    let lane: WorkerLane
    let local: SessionBuilder.LocalIdentity
    let signedPreKey: SignedPreKeyRecord

    /// Store keys of the Signal records (values are the records' serialized forms).
    enum Key {
        static func session(_ address: SignalAddress) -> String { "signal.session.\(address)" }
        static func identity(_ address: SignalAddress) -> String { "signal.identity.\(address)" }
        static func preKey(_ id: UInt32) -> String { NativeCredentials.Key.preKeyPrefix + String(id) }
    }

    typealias Changes = [String: [UInt8]?]

    /// Where a device's sessions are kept: its user (with `_1` for a LID) and device number.
    static func address(of jid: JID) -> SignalAddress {
        SignalAddress(name: jid.server == JID.Server.lid ? "\(jid.user)_1" : jid.user, deviceID: UInt32(jid.device))
    }

    /// A record by store key: pending changes first, then the cache, then the store.
    func load(_ key: String, pending: Changes = [:]) async throws -> [UInt8]? {
        if let change = pending[key] { return change }
        if let cached = cache.lookup(key) { return cached }
        let value = try await store.value(sessionID: sessionID, key: key)
        cache.remember(key, value)
        return value
    }

    /// Writes `changes` in one batch, then makes the cache agree with them.
    func write(_ changes: Changes) async throws {
        guard !changes.isEmpty else { return }
        do {
            try await store.apply(sessionID: sessionID, changes: changes)
        } catch {
            // The batch may or may not have been written: read those records again next time.
            cache.forget(changes.keys)
            throw error
        }
        for (key, value) in changes { cache.remember(key, value) }
    }

    // MARK: - Receive

    /// Decrypts one `msg` or `pkmsg` from `address`; the plaintext is still padded. The changes
    /// store the advanced session and consume the one-time prekey a `pkmsg` used.
    /// `pending` holds changes of earlier steps not written yet (a batch in progress): they are
    /// read before the cache and the store.
    func decrypt(
        encType: String, _ bytes: [UInt8], from address: SignalAddress, pending: Changes = [:]
    ) async throws -> (padded: [UInt8], changes: Changes) {
        let stored = try await load(Key.session(address), pending: pending)
        let knownIdentity = try await load(Key.identity(address), pending: pending)
        switch encType {
        case "msg":
            guard let stored else { throw ProtocolError.signalNoSession("no session with \(address)") }
            let cache = cache
            return try await lane.run {
                let key = Key.session(address)
                var record = try cache.parsedSession(key, stored) ?? WAProtocol.SessionRecord(serialized: stored)
                let plaintext = try SessionCipher.decrypt(try WhisperMessage(serialized: bytes), record: &record)
                return (plaintext, [key: try cache.serializing(record, as: key)])
            }
        case "pkmsg":
            let message = try PreKeyWhisperMessage(serialized: bytes)
            let oneTime = try await message.preKeyID.asyncMap { id in
                try await load(Key.preKey(id), pending: pending).map(PreKeyRecord.init(serialized:))
            } ?? nil
            let keys = SessionCipher.ResponderKeys(local: local, signedPreKey: signedPreKey, oneTimePreKey: oneTime)
            let cache = cache
            return try await lane.run {
                let key = Key.session(address)
                // A changed identity (the peer reinstalled) drops the old sessions, as the reference clients do.
                var record = WAProtocol.SessionRecord()
                if let stored, knownIdentity == nil || knownIdentity == message.identityKey {
                    record = try cache.parsedSession(key, stored) ?? WAProtocol.SessionRecord(serialized: stored)
                }
                let result = try SessionCipher.decrypt(message, record: &record, keys: keys)
                var changes: Changes = [
                    key: try cache.serializing(record, as: key), Key.identity(address): message.identityKey,
                ]
                if let used = result.consumedPreKeyID { changes[Key.preKey(used)] = .some(nil) }
                return (result.plaintext, changes)
            }
        default:
            throw ProtocolError.signalMalformed("unknown pairwise enc type \(encType)")
        }
    }

    // MARK: - Send

    /// Encrypts one padded plaintext per device, starting a session from `bundles` for a device
    /// that has none (in `pending` or the store). A device whose encryption fails is left out (the
    /// message still goes to the others).
    func encrypt(
        _ plaintexts: [(address: SignalAddress, padded: [UInt8])], bundles: [SignalAddress: PreKeyBundle],
        pending: Changes = [:]
    ) async throws -> (messages: [(SignalAddress, CiphertextMessage)], changes: Changes) {
        var stored: [SignalAddress: [UInt8]] = [:]
        for (address, _) in plaintexts {
            stored[address] = try await load(Key.session(address), pending: pending)
        }
        let local = local
        let loaded = stored
        let cache = cache
        return try await lane.run {
            var messages: [(SignalAddress, CiphertextMessage)] = []
            var changes: Changes = [:]
            for (address, padded) in plaintexts {
                do {
                    var record: WAProtocol.SessionRecord
                    if let bytes = loaded[address] {
                        record = try cache.parsedSession(Key.session(address), bytes) ?? WAProtocol.SessionRecord(serialized: bytes)
                    } else if let bundle = bundles[address] {
                        record = WAProtocol.SessionRecord()
                        record.promote(try SessionBuilder.initiate(with: bundle, local: local))
                        changes[Key.identity(address)] = bundle.identityKey
                    } else {
                        continue
                    }
                    messages.append((address, try SessionCipher.encrypt(padded, record: &record)))
                    changes[Key.session(address)] = try cache.serializing(record, as: Key.session(address))
                } catch {
                    continue
                }
            }
            return (messages, changes)
        }
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

/// The Signal records of one session as last read or written (reactor and worker threads; its
/// own lock). The session's Signal steps run one at a time, so a cached record is never stale;
/// it spares a store read per message. Bounded: past `limit` entries it starts over.
///
/// Beside the bytes it keeps each session record as last serialized, parsed, so the next step on
/// that session skips the parse. A parsed record is used only for exactly the bytes it was
/// serialized to, so it can never stand for different state, whatever happened to the write.
final class SignalRecordCache: Sendable {
    private let entries = Mutex<[String: [UInt8]?]>([:])
    private let parsed = Mutex<[String: (bytes: [UInt8], record: WAProtocol.SessionRecord)]>([:])
    private let limit: Int

    init(limit: Int = 512) {
        self.limit = limit
    }

    /// `.some(nil)` when the store is known not to have the key.
    func lookup(_ key: String) -> [UInt8]?? {
        entries.withLock { $0[key] }
    }

    func remember(_ key: String, _ value: [UInt8]?) {
        entries.withLock { entries in
            if entries.count >= limit, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = .some(value)
        }
    }

    func forget(_ keys: some Sequence<String>) {
        entries.withLock { entries in for key in keys { entries[key] = nil } }
        parsed.withLock { parsed in for key in keys { parsed[key] = nil } }
    }

    func clear() {
        entries.withLock { $0.removeAll() }
        parsed.withLock { $0.removeAll() }
    }

    /// The session record stored under `key` if `bytes` are exactly what it was last serialized to.
    func parsedSession(_ key: String, _ bytes: [UInt8]) -> WAProtocol.SessionRecord? {
        parsed.withLock { parsed in
            guard let entry = parsed[key], entry.bytes == bytes else { return nil }
            return entry.record
        }
    }

    /// `record` serialized, kept parsed under `key` for the next step.
    func serializing(_ record: WAProtocol.SessionRecord, as key: String) throws -> [UInt8] {
        let bytes = try record.serialized()
        parsed.withLock { parsed in
            if parsed.count >= limit, parsed[key] == nil { parsed.removeAll(keepingCapacity: true) }
            parsed[key] = (bytes, record)
        }
        return bytes
    }
}
