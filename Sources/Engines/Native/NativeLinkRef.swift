import Foundation
import Persistence
import Reactor
import WAProtocol

/// A link as async send code holds it: every use hops to the reactor thread, and a link that has
/// gone (or reconnected since) fails the call instead of acting on a newer connection.
struct LinkRef: @unchecked Sendable {
    // Only dereferenced on the reactor thread, inside `handle.post`.
    private weak var link: NativeLink?
    private let handle: ReactorHandle
    private let generation: Int

    init(_ link: NativeLink) {
        self.link = link
        handle = link.handle
        generation = link.generation
    }

    /// Runs `body` with the link on the reactor; `body` resumes the continuation.
    func withLink<T: Sendable>(
        _ body: @escaping (NativeLink, CheckedContinuation<T, any Error>) -> Void
    ) async throws -> T {
        let body = Unchecked(body)
        return try await withCheckedThrowingContinuation { continuation in
            let posted = handle.post { _ in
                guard let link = self.link, link.generation == self.generation, link.phase == .ready else {
                    return continuation.resume(throwing: EngineError.unavailable("the connection to WhatsApp closed"))
                }
                body.value(link, continuation)
            }
            if !posted { continuation.resume(throwing: EngineError.unavailable("the reactor has stopped")) }
        }
    }

    func request(_ node: BinaryNode) async throws -> BinaryNode {
        try await withLink { link, continuation in
            link.sendRequest(node, timeout: link.configuration.requestTimeoutMilliseconds) { continuation.resume(with: $0.mapError { $0 }) }
        }
    }

    /// "Is this number on WhatsApp" (usync `<contact/>`, interactive context): the account's id
    /// in OpenWA's form, or nil.
    func checkNumber(_ number: String) async throws -> String? {
        let query = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "get", "xmlns": "usync"],
            children: [
                BinaryNode(
                    "usync", ["sid": .string(UUID().uuidString), "mode": "query", "last": "true", "index": "0", "context": "interactive"],
                    children: [
                        BinaryNode("query", children: [BinaryNode("contact")]),
                        BinaryNode("list", children: [BinaryNode("user", children: [BinaryNode("contact", bytes: Array("+\(number)".utf8))])]),
                    ])
            ])
        let reply = try await request(query)
        for user in reply.child("usync")?.child("list")?.children("user") ?? [] where user.child("contact")?.attributes.string("type") == "in" {
            if let jid = user.attributes.jid("jid") { return NativeLink.neutral(jid.bare) }
        }
        return nil
    }

    /// Writes records of the session's Signal state (through its cache), as one Signal job.
    func writeSignalRecords(_ changes: NativeSignal.Changes) async throws {
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.enqueueSignalJob { link, done in
                guard let signal = link.signalContext() else {
                    done()
                    return continuation.resume(throwing: EngineError.unavailable("the device is not paired"))
                }
                link.runAsync({ try await signal.write(changes) }) { _, result in
                    done()
                    continuation.resume(with: result)
                }
            }
        }
    }

    /// Our `ADVSignedDeviceIdentity` for `<device-identity>`, read once per link.
    func signedIdentity() async throws -> [UInt8]? {
        let cached: [UInt8]?? = try await withLink { link, continuation in continuation.resume(returning: link.signedIdentityBytes) }
        if let cached { return cached }
        let (store, sessionID): (any AuthStateStore, String) = try await withLink { link, continuation in
            continuation.resume(returning: (link.authState, link.sessionID))
        }
        let value = try await store.value(sessionID: sessionID, key: NativeCredentials.Key.signedIdentity)
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            link.signedIdentityBytes = .some(value)
            continuation.resume()
        }
        return value
    }

    /// Sends a `message` stanza and waits for the server's ack of its id.
    func sendMessageStanza(_ node: BinaryNode, id: String) async throws -> BinaryNode {
        try await withLink { link, continuation in
            let timer = link.reactor.schedule(afterMilliseconds: link.configuration.requestTimeoutMilliseconds) { [weak link] in
                guard let entry = link?.pendingAcks.removeValue(forKey: id) else { return }
                entry.callback(.failure(.unavailable("WhatsApp did not acknowledge the message in time")))
            }
            link.pendingAcks[id] = (timer, { continuation.resume(with: $0.mapError { $0 }) })
            link.send(node)
        }
    }

    /// Every device of `users` (section 1.11), from the cache while it is fresh.
    func devices(of users: [JID]) async throws -> [JID] {
        let cached: [JID]? = try await withLink { link, continuation in
            var found: [JID] = []
            for user in users {
                guard let entry = link.deviceCache[user.description],
                    entry.fetched.milliseconds(until: link.reactor.now) < NativeLink.deviceListMilliseconds
                else { return continuation.resume(returning: nil) }
                found += entry.devices
            }
            continuation.resume(returning: found)
        }
        if let cached { return cached }
        let query = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "get", "xmlns": "usync"],
            children: [
                BinaryNode(
                    "usync", ["sid": .string(UUID().uuidString), "mode": "query", "last": "true", "index": "0", "context": "message"],
                    children: [
                        BinaryNode("query", children: [BinaryNode("devices", ["version": "2"])]),
                        BinaryNode("list", children: users.map { BinaryNode("user", ["jid": .jid($0)]) }),
                    ])
            ])
        let reply = try await request(query)
        var lists: [String: [JID]] = [:]
        for user in reply.child("usync")?.child("list")?.children("user") ?? [] {
            guard let jid = user.attributes.jid("jid") else { continue }
            let ids = user.child("devices")?.child("device-list")?.children("device").compactMap {
                $0.attributes.string("id").flatMap(UInt16.init)
            } ?? []
            lists[jid.bare.description] = ids.map { JID(user: jid.user, server: jid.server, device: $0) }
        }
        guard let wanted = lists[users[0].bare.description], !wanted.isEmpty else {
            throw EngineError.notFound("\(NativeLink.neutral(users[0])) is not on WhatsApp")
        }
        let fresh = lists
        try await withLink { (link, continuation: CheckedContinuation<Void, any Error>) in
            for (user, devices) in fresh { link.deviceCache[user] = (devices, link.reactor.now) }
            continuation.resume()
        }
        return users.flatMap { lists[$0.bare.description] ?? [] }
    }

    /// Encrypts one plaintext per device, fetching the bundles of devices without a session
    /// first and storing every changed record before returning. Requests that arrive while a
    /// Signal job runs wait and then go together as one job (`NativeLink+Outbound.swift`).
    func encrypt(_ plaintexts: [(address: SignalAddress, padded: [UInt8])], devices: [JID]) async throws -> [(JID, CiphertextMessage)] {
        try await withLink { link, continuation in
            link.enqueueEncrypt(
                EncryptRequest(plaintexts: plaintexts, devices: devices, ref: self) { continuation.resume(with: $0) })
        }
    }

    /// Prekey bundles of `devices` (section 1.5); devices the server reports an error for are left out.
    func bundles(for devices: [JID]) async throws -> [SignalAddress: PreKeyBundle] {
        let query = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "get", "xmlns": "encrypt"],
            children: [BinaryNode("key", children: devices.map { BinaryNode("user", ["jid": .jid($0)]) })])
        let reply = try await request(query)
        var bundles: [SignalAddress: PreKeyBundle] = [:]
        for user in reply.child("list")?.children("user") ?? [] {
            guard let jid = user.attributes.jid("jid"), user.child("error") == nil, let bundle = Self.bundle(user, device: jid.device)
            else { continue }
            bundles[NativeSignal.address(of: jid)] = bundle
        }
        return bundles
    }

    static func bundle(_ user: BinaryNode, device: UInt16) -> PreKeyBundle? {
        let keys = user.child("keys") ?? user
        guard let registration = keys.child("registration")?.contentBytes ?? user.child("registration")?.contentBytes,
            let identity = keys.child("identity")?.contentBytes, identity.count == 32,
            let skey = keys.child("skey"), let skeyID = skey.child("id")?.contentBytes,
            let skeyValue = skey.child("value")?.contentBytes, let signature = skey.child("signature")?.contentBytes
        else { return nil }
        let key = keys.child("key")
        return PreKeyBundle(
            registrationID: registration.bigEndianUInt32, deviceID: UInt32(device),
            preKeyID: key?.child("id")?.contentBytes?.bigEndianUInt32, preKey: key?.child("value")?.contentBytes,
            signedPreKeyID: skeyID.bigEndianUInt32, signedPreKey: skeyValue, signedPreKeySignature: signature,
            identityKey: identity)
    }
}
