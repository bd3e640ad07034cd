import Foundation
import Logging
import Reactor
import WAProtocol

/// `success`, prekeys, passive mode, keepalive (ref part 1 §6, part 2 §1.4).
extension NativeLink {
    /// Below this server-side count a new batch is uploaded.
    static let minPreKeyCount = 5
    /// The first upload, and every later one (whatsmeow's numbers).
    static let initialPreKeyCount = 812
    static let laterPreKeyCount = 50
    /// OpenWA resets the attempt counter after this long in `ready`.
    static let attemptResetMilliseconds = 300_000

    func handleSuccess(_ node: BinaryNode) {
        guard let credentials, let me = credentials.me else {
            return fail("protocol violation: success for a device that is not paired")
        }
        cancel(&handshakeTimer)
        phase = .ready
        cancel(&readyResetTimer)
        readyResetTimer = reactor.schedule(afterMilliseconds: Self.attemptResetMilliseconds) { [weak self] in
            self?.readyResetTimer = nil
            self?.attempts = 0
        }
        emit(.ready(phone: me.user, pushName: credentials.pushName ?? node.attributes.string("display_name")))
        scheduleKeepAlive()
        reapplyPresence()
        afterLogin()
    }

    /// Prekey count → upload if low or first login → leave passive mode.
    private func afterLogin() {
        let count = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "get", "xmlns": "encrypt"], children: [BinaryNode("count")])
        sendRequest(count, timeout: configuration.requestTimeoutMilliseconds) { [weak self] result in
            guard let self, self.phase == .ready else { return }
            let serverCount = (try? result.get())?.child("count")?.attributes.string("value").flatMap(Int.init) ?? 0
            let uploaded = self.credentials?.preKeysUploaded ?? false
            guard serverCount < Self.minPreKeyCount || !uploaded else { return self.setActive() }
            let amount = serverCount == 0 && !uploaded ? Self.initialPreKeyCount : Self.laterPreKeyCount
            self.uploadPreKeys(count: amount) { link in link.setActive() }
        }
    }

    private func setActive() {
        let node = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "passive"], children: [BinaryNode("active")])
        sendRequest(node, timeout: configuration.requestTimeoutMilliseconds) { [weak self] result in
            guard let self, self.phase == .ready, case .success = result else { return }
            self.sendUnifiedSession()
            self.startAppStateSync(AppStateCollectionState.names)
        }
    }

    /// `<ib><unified_session id="(now + 3 days) mod 1 week, in ms"/></ib>`, as WA Web sends
    /// after going active (ref part 1 §6.2); no reply.
    private func sendUnifiedSession() {
        let week: Int64 = 7 * 24 * 3_600_000
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let id = (now + 3 * 24 * 3_600_000) % week
        send(BinaryNode("ib", children: [BinaryNode("unified_session", ["id": .string(String(id))])]))
    }

    /// Generates `count` prekeys on the worker, stores them, then uploads them with the signed prekey.
    func uploadPreKeys(count: Int, then: @escaping (NativeLink) -> Void) {
        guard let credentials else { return }
        let start = credentials.nextPreKeyID
        onWorker({ () throws -> [Unchecked<(UInt32, [UInt8], [UInt8])>] in
            try PreKeyRecord.generate(start: start, count: count).map { Unchecked(($0.id, $0.keyPair.publicKey, try $0.serialized())) }
        }) { link, result in
            guard case .success(let keys) = result, let credentials = link.credentials else {
                return link.linkLost("could not generate prekeys")
            }
            let next = (keys.last?.value.0 ?? start) % 0xFF_FFFF + 1
            var changes: [String: [UInt8]?] = [NativeCredentials.Key.nextPreKeyID: next.bigEndianBytes]
            for key in keys { changes[NativeCredentials.Key.preKeyPrefix + String(key.value.0)] = key.value.2 }
            link.persist(changes) { link in
                link.credentials?.nextPreKeyID = next
                let signed = credentials.signedPreKey
                let upload = BinaryNode(
                    "iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "encrypt"],
                    children: [
                        BinaryNode("registration", bytes: credentials.registrationID.bigEndianBytes),
                        BinaryNode("type", bytes: [DJBKey.type]),
                        BinaryNode("identity", bytes: credentials.identity.publicKey),
                        BinaryNode(
                            "list",
                            children: keys.map {
                                BinaryNode(
                                    "key",
                                    children: [
                                        BinaryNode("id", bytes: $0.value.0.bigEndian3Bytes), BinaryNode("value", bytes: $0.value.1),
                                    ])
                            }),
                        BinaryNode(
                            "skey",
                            children: [
                                BinaryNode("id", bytes: signed.id.bigEndian3Bytes),
                                BinaryNode("value", bytes: signed.keyPair.publicKey),
                                BinaryNode("signature", bytes: signed.signature),
                            ]),
                    ])
                link.sendRequest(upload, timeout: link.configuration.requestTimeoutMilliseconds) { [weak link] result in
                    guard let link else { return }
                    if case .success = result, link.credentials?.preKeysUploaded == false {
                        link.credentials?.preKeysUploaded = true
                        link.persist([NativeCredentials.Key.preKeysUploaded: [1]]) { _ in }
                    }
                    then(link)
                }
            }
        }
    }

    // MARK: - Keepalive

    func scheduleKeepAlive() {
        cancel(&keepAliveTimer)
        keepAliveTimer = reactor.schedule(afterMilliseconds: configuration.keepAliveIntervalMilliseconds) { [weak self] in
            guard let self else { return }
            self.keepAliveTimer = nil
            self.sendPing()
        }
    }

    private func sendPing() {
        guard phase == .ready else { return }
        let ping = BinaryNode("iq", ["to": .jid(.whatsAppServer), "type": "get", "xmlns": "w:p"])
        sendRequest(ping, timeout: configuration.keepAliveTimeoutMilliseconds) { [weak self] result in
            guard let self, self.phase == .ready else { return }
            switch result {
            case .success: self.scheduleKeepAlive()
            case .failure: self.linkLost("keepalive timed out: the link is dead")
            }
        }
    }
}
