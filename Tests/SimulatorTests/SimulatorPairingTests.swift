import Foundation
import Reactor
import Simulator
import Testing
import WAProtocol

/// A simulator with short timings and a client reactor, torn down together.
struct SimFixture {
    let simulator: Simulator
    let handle: ReactorHandle

    static func start(_ adjust: (inout Simulator.Configuration) -> Void = { _ in }) throws -> SimFixture {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        configuration.qrFirstRefMilliseconds = 5_000
        configuration.qrNextRefMilliseconds = 1_000
        configuration.pingIntervalMilliseconds = nil
        adjust(&configuration)
        let simulator = try Simulator.start(configuration: configuration)
        let handle = try ReactorThread.start(name: "sim-test-client", workers: WorkerPool(size: 1), logger: quietLogger)
        return SimFixture(simulator: simulator, handle: handle)
    }

    func stop() async {
        handle.stop()
        await handle.waitUntilStopped()
        await simulator.stop()
        try? FileManager.default.removeItem(atPath: simulator.dataDirectory)
    }

    func connect(_ credentials: TestCredentials, login: Bool, answersPings: Bool = true) async throws -> SimTestClient {
        try await SimTestClient.connect(
            to: simulator, on: handle, credentials: credentials,
            payload: login ? credentials.loginPayload() : credentials.registrationPayload, answersPings: answersPings)
    }

    /// Registration, `pair-device`, QR scan, `pair-success` verified and signed, 515. Returns the
    /// credentials with the JID the simulator assigned.
    func pairByQR(phone: String) async throws -> TestCredentials {
        var credentials = try TestCredentials.fresh()
        let client = try await connect(credentials, login: false)
        let pairDevice = try await client.next(tag: "iq")
        let refs = pairDevice.child("pair-device")?.children("ref").compactMap(\.contentBytes) ?? []
        #expect(refs.count == 6)
        try await client.send(
            BinaryNode("iq", ["to": .jid(JID.whatsAppServer), "id": .string(pairDevice.attributes.string("id") ?? ""), "type": "result"]))
        let qr = PairingQR.string(
            for: PairingQR.Contents(
                ref: String(decoding: refs[0], as: UTF8.self), noisePublicKey: credentials.noise.publicKey,
                identityPublicKey: credentials.identity.publicKey, advSecret: credentials.advSecret, platform: "1"))
        let simulator = self.simulator
        async let scanned = simulator.scan(qr: qr, by: phone)
        let jid = try await completePairSuccess(client, credentials: credentials)
        let paired = try await scanned
        #expect(paired.jid == jid.description)
        credentials.jid = jid
        return credentials
    }

    /// The companion's side of §5.5: verify `pair-success`, reply `pair-device-sign`, expect 515.
    func completePairSuccess(_ client: SimTestClient, credentials: TestCredentials) async throws -> JID {
        let success = try await client.next("pair-success") { $0.child("pair-success") != nil }
        let body = try #require(success.child("pair-success"))
        let content = try #require(body.child("device-identity")?.contentBytes)
        let verified = try AdvPairing.verifyPairSuccess(
            deviceIdentityContent: content, advSecret: credentials.advSecret, identityKey: credentials.identity,
            random: try Crypto.randomBytes(64))
        let jid = try #require(body.child("device")?.attributes.jid("jid"))
        try await client.send(
            BinaryNode(
                "iq", ["to": .jid(JID.whatsAppServer), "id": .string(success.attributes.string("id") ?? ""), "type": "result"],
                children: [
                    BinaryNode(
                        "pair-device-sign",
                        children: [
                            BinaryNode(
                                "device-identity", ["key-index": .string(String(verified.deviceIdentity.keyIndex ?? 0))],
                                bytes: verified.reply)
                        ])
                ]))
        let restart = try await client.next(tag: "stream:error")
        #expect(restart.attributes.string("code") == "515")
        _ = try await client.waitClosed()
        return jid
    }

    /// A paired companion, logged in and past `success`.
    func onlineCompanion(phone: String, answersPings: Bool = true) async throws -> (TestCredentials, SimTestClient) {
        let credentials = try await pairByQR(phone: phone)
        let client = try await connect(credentials, login: true, answersPings: answersPings)
        _ = try await client.next(tag: "success")
        return (credentials, client)
    }
}

@Suite(.timeLimit(.minutes(1))) struct SimulatorPairingTests {
    @Test func qrPairingThenLoginAndTheFirstSessionIQs() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone("15551234567", pushName: "Alice")
        let credentials = try await fixture.pairByQR(phone: "15551234567")
        #expect(credentials.jid?.user == "15551234567")
        #expect(credentials.jid?.device == 1)

        let client = try await fixture.connect(credentials, login: true)
        let success = try await client.next(tag: "success")
        #expect(success.attributes.jid("lid")?.server == "lid")
        #expect(success.attributes.jid("lid")?.device == 1)
        #expect(success.attributes.string("display_name") == "Alice")
        #expect(success.attributes.string("t") != nil)

        let count = try await client.query(iq("1", xmlns: "encrypt", type: "get", [BinaryNode("count")]))
        #expect(count.child("count")?.attributes.string("value") == "0")
        let keys = (1...30).map { id in
            BinaryNode(
                "key", children: [BinaryNode("id", bytes: [0, 0, UInt8(id)]), BinaryNode("value", bytes: [UInt8](repeating: UInt8(id), count: 32))])
        }
        let upload = try await client.query(
            iq(
                "2", xmlns: "encrypt", type: "set",
                [
                    BinaryNode("registration", bytes: [0, 0, 0, 7]), BinaryNode("type", bytes: [5]),
                    BinaryNode("identity", bytes: credentials.identity.publicKey), BinaryNode("list", children: keys),
                    BinaryNode(
                        "skey",
                        children: [
                            BinaryNode("id", bytes: [0, 0, 1]), BinaryNode("value", bytes: credentials.signedPreKey.publicKey),
                            BinaryNode("signature", bytes: credentials.signedPreKeySignature),
                        ]),
                ]))
        #expect(upload.attributes.string("type") == "result")
        // The primary took prekey 1 at once, for the session its app-state key share goes out on.
        let recount = try await client.query(iq("3", xmlns: "encrypt", type: "get", [BinaryNode("count")]))
        #expect(recount.child("count")?.attributes.string("value") == "29")
        let digest = try await client.query(iq("3b", xmlns: "encrypt", type: "get", [BinaryNode("digest")]))
        #expect(digest.child("digest")?.child("list")?.children("id").count == 29)

        let passive = try await client.query(iq("4", xmlns: "passive", type: "set", [BinaryNode("active")]))
        #expect(passive.attributes.string("type") == "result")
        // Queued for it: the key share.
        let offline = try await client.next(tag: "ib")
        #expect(offline.child("offline")?.attributes.string("count") == "1")

        let ping = try await client.query(iq("5", xmlns: "w:p", type: "get"))
        #expect(ping.attributes.string("type") == "result")
        #expect(ping.attributes.string("t") != nil)

        let usync = try await client.query(
            iq(
                "6", xmlns: "usync", type: "get",
                [
                    BinaryNode(
                        "usync", ["sid": "6", "mode": "query", "context": "message"],
                        children: [
                            BinaryNode("query", children: [BinaryNode("devices", ["version": "2"])]),
                            BinaryNode("list", children: [BinaryNode("user", ["jid": .jid(JID(user: "15551234567", server: "s.whatsapp.net"))])]),
                        ])
                ]))
        let devices = usync.child("usync")?.child("list")?.child("user")?.child("devices")?.child("device-list")?.children("device")
        #expect(devices?.map { $0.attributes.string("id") } == ["0", "1"])

        let bundle = try await client.query(
            iq("7", xmlns: "encrypt", type: "get", [BinaryNode("key", children: [BinaryNode("user", ["jid": .jid(credentials.jid!)])])]))
        let user = bundle.child("list")?.child("user")
        #expect(user?.child("key")?.child("id")?.contentBytes == [0, 0, 2])
        #expect(user?.child("skey")?.child("value")?.contentBytes == credentials.signedPreKey.publicKey)

        let companions = try await fixture.simulator.companions(of: "15551234567")
        #expect(companions.map(\.device) == [1])
        #expect(companions.first?.status == "online")
        #expect(companions.first?.preKeyCount == 28)
        try await client.close()
        _ = try await client.waitClosed()
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await fixture.simulator.companions(of: "15551234567").first?.status == "offline")
        await fixture.stop()
    }

    @Test func loginWithAnUnknownDeviceOrAnotherNoiseKeyIsRefused() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone("15551234567", pushName: "Alice")
        let stranger = try TestCredentials.fresh()
        let client = try await SimTestClient.connect(
            to: fixture.simulator, on: fixture.handle, credentials: stranger,
            payload: stranger.loginPayload(phone: "15551234567", device: 3))
        let failure = try await client.next(tag: "failure")
        #expect(failure.attributes.string("reason") == "401")
        _ = try await client.waitClosed()

        // A paired device id with a different noise key is refused too.
        let paired = try await fixture.pairByQR(phone: "15551234567")
        var impostor = try TestCredentials.fresh()
        impostor.jid = paired.jid
        let second = try await fixture.connect(impostor, login: true)
        #expect(try await second.next(tag: "failure").attributes.string("reason") == "401")
        await fixture.stop()
    }

    @Test func pairingCodeFlow() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone("15557654321", pushName: "Bob")
        var credentials = try TestCredentials.fresh()
        let client = try await fixture.connect(credentials, login: false)
        _ = try await client.next(tag: "iq")  // pair-device

        let code = try PairingCode.generateCode()
        let companionEphemeral = try Crypto.x25519KeyPair()
        let hello = try await client.query(
            iq(
                "h1", xmlns: "md", type: "set",
                [
                    BinaryNode(
                        "link_code_companion_reg",
                        ["jid": .jid(JID(user: "15557654321", server: "s.whatsapp.net")), "stage": "companion_hello", "should_show_push_notification": "true"],
                        children: [
                            BinaryNode(
                                "link_code_pairing_wrapped_companion_ephemeral_pub",
                                bytes: try PairingCode.wrap(publicKey: companionEphemeral.publicKey, code: code)),
                            BinaryNode("companion_server_auth_key_pub", bytes: credentials.noise.publicKey),
                            BinaryNode("companion_platform_id", bytes: Array("1".utf8)),
                            BinaryNode("companion_platform_display", bytes: Array("Chrome (Linux)".utf8)),
                            BinaryNode("link_code_pairing_nonce", bytes: [0]),
                        ])
                ]))
        let ref = try #require(hello.child("link_code_companion_reg")?.child("link_code_pairing_ref")?.contentBytes)

        let simulator = fixture.simulator
        async let entered = simulator.enterPairingCode(String(code.prefix(4)) + "-" + String(code.dropFirst(4)), on: "15557654321")
        let notification = try await client.next(tag: "notification", timeout: .seconds(20))
        let primaryHello = try #require(notification.child("link_code_companion_reg"))
        #expect(primaryHello.attributes.string("stage") == "primary_hello")
        #expect(primaryHello.child("link_code_pairing_ref")?.contentBytes == ref)
        let finish = try PairingCode.companionFinish(
            code: code, companionEphemeral: companionEphemeral,
            wrappedPrimaryEphemeral: try #require(primaryHello.child("link_code_pairing_wrapped_primary_ephemeral_pub")?.contentBytes),
            primaryIdentityKey: try #require(primaryHello.child("primary_identity_pub")?.contentBytes),
            companionIdentity: credentials.identity)
        credentials.advSecret = finish.advSecret
        let finished = try await client.query(
            iq(
                "h2", xmlns: "md", type: "set",
                [
                    BinaryNode(
                        "link_code_companion_reg", ["jid": .jid(JID(user: "15557654321", server: "s.whatsapp.net")), "stage": "companion_finish"],
                        children: [
                            BinaryNode("link_code_pairing_wrapped_key_bundle", bytes: finish.wrappedKeyBundle),
                            BinaryNode("companion_identity_public", bytes: credentials.identity.publicKey),
                            BinaryNode("link_code_pairing_ref", bytes: ref),
                        ])
                ]))
        #expect(finished.attributes.string("type") == "result")
        let jid = try await fixture.completePairSuccess(client, credentials: credentials)
        let paired = try await entered
        #expect(paired.jid == jid.description)
        #expect(try await fixture.simulator.companions(of: "15557654321").first?.platform == "1")

        credentials.jid = jid
        let login = try await fixture.connect(credentials, login: true)
        _ = try await login.next(tag: "success")
        await fixture.stop()
    }

    @Test func scanningAnUnknownOrExpiredRefFails() async throws {
        let fixture = try SimFixture.start { $0.qrFirstRefMilliseconds = 200; $0.qrNextRefMilliseconds = 100; $0.qrRefCount = 2 }
        _ = try await fixture.simulator.createPhone("15551230000", pushName: "C")
        let credentials = try TestCredentials.fresh()
        let client = try await fixture.connect(credentials, login: false)
        let refs = try await client.next(tag: "iq").child("pair-device")?.children("ref").compactMap(\.contentBytes) ?? []
        #expect(refs.count == 2)
        let unknown = PairingQR.string(
            for: PairingQR.Contents(
                ref: "2@unknown", noisePublicKey: credentials.noise.publicKey, identityPublicKey: credentials.identity.publicKey,
                advSecret: credentials.advSecret, platform: nil))
        await #expect(throws: SimulatorError.self) { try await fixture.simulator.scan(qr: unknown, by: "15551230000") }
        // After the last ref the simulator gives up on the unpaired connection.
        _ = try await client.waitClosed(timeout: .seconds(3))
        await fixture.stop()
    }
}
