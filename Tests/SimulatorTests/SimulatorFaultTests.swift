import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

@Suite(.timeLimit(.minutes(1))) struct SimulatorFaultTests {
    private let phone = "15550001111"

    @Test func serverPingsAreAnsweredOrTheClientIsDropped() async throws {
        let fixture = try SimFixture.start {
            $0.pingIntervalMilliseconds = 150
            $0.pingTimeoutMilliseconds = 300
        }
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        // Pings are off while pairing here only because the fixture answers them anyway.
        let (_, answering) = try await fixture.onlineCompanion(phone: phone)
        let credentials = try await fixture.pairByQR(phone: phone)
        let silent = try await fixture.connect(credentials, login: true, answersPings: false)
        _ = try await silent.next(tag: "success")
        let ping = try await silent.next("server ping") { $0.attributes.string("xmlns") == "urn:xmpp:ping" }
        #expect(ping.attributes.string("type") == "get")
        _ = try await silent.waitClosed(timeout: .seconds(3))
        #expect(answering.pingsSeen >= 2)
        #expect(!answering.isClosed)
        await fixture.stop()
    }

    @Test func unlinkTellsTheCompanionItWasRemoved() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        let (credentials, client) = try await fixture.onlineCompanion(phone: phone)
        try await fixture.simulator.unlink(phone: phone, device: credentials.jid!.device)
        let error = try await client.next(tag: "stream:error")
        #expect(error.attributes.string("code") == "401")
        #expect(error.child("conflict")?.attributes.string("type") == "device_removed")
        _ = try await client.waitClosed()
        #expect(try await fixture.simulator.companions(of: phone).isEmpty)
        let again = try await fixture.connect(credentials, login: true)
        #expect(try await again.next(tag: "failure").attributes.string("reason") == "401")
        await fixture.stop()
    }

    @Test func dropClosesWithoutAStreamError() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        let (credentials, client) = try await fixture.onlineCompanion(phone: phone)
        try await fixture.simulator.inject(fault: .drop, phone: phone, device: credentials.jid!.device)
        #expect(try await client.waitClosed() == 1006)
        await #expect(throws: TestTimeout.self) { try await client.next(tag: "stream:error", timeout: .milliseconds(50)) }
        await fixture.stop()
    }

    @Test func stallStopsAnswering() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        let (credentials, client) = try await fixture.onlineCompanion(phone: phone)
        _ = try await client.query(iq("p1", xmlns: "w:p", type: "get"))
        try await fixture.simulator.inject(fault: .stall, phone: phone, device: credentials.jid!.device)
        await #expect(throws: TestTimeout.self) { try await client.query(iq("p2", xmlns: "w:p", type: "get"), timeout: .milliseconds(500)) }
        #expect(!client.isClosed)
        await fixture.stop()
    }

    @Test func conflictReplacesTheStream() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        let (credentials, client) = try await fixture.onlineCompanion(phone: phone)
        try await fixture.simulator.inject(fault: .conflict, phone: phone, device: credentials.jid!.device)
        let error = try await client.next(tag: "stream:error")
        #expect(error.child("conflict")?.attributes.string("type") == "replaced")
        _ = try await client.next(tag: "xmlstreamend")
        _ = try await client.waitClosed()

        // A second login of the same device replaces the first one the same way.
        let first = try await fixture.connect(credentials, login: true)
        _ = try await first.next(tag: "success")
        let second = try await fixture.connect(credentials, login: true)
        _ = try await second.next(tag: "success")
        #expect(try await first.next(tag: "stream:error").child("conflict")?.attributes.string("type") == "replaced")
        _ = try await second.query(iq("p", xmlns: "w:p", type: "get"))
        await fixture.stop()
    }

    @Test func latencyDelaysEveryFrame() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        let (credentials, client) = try await fixture.onlineCompanion(phone: phone)
        try await fixture.simulator.inject(fault: .latency(milliseconds: 300), phone: phone, device: credentials.jid!.device)
        let started = ContinuousClock.now
        for index in 0..<3 { try await client.send(iq("l\(index)", xmlns: "w:p", type: "get")) }
        for index in 0..<3 {
            _ = try await client.next("pong \(index)") { $0.attributes.string("id") == "l\(index)" }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(290))
        await fixture.stop()
    }

    @Test func malformedFrameBreaksTheClientsDecryption() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        let (credentials, client) = try await fixture.onlineCompanion(phone: phone)
        try await fixture.simulator.inject(fault: .malformed, phone: phone, device: credentials.jid!.device)
        _ = try await client.waitClosed()
        #expect(client.decryptFailed)
        await fixture.stop()
    }

    @Test func faultsNeedALiveDevice() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        await #expect(throws: SimulatorError.notFound("phone \(phone) has no device 9")) {
            try await fixture.simulator.inject(fault: .drop, phone: phone, device: 9)
        }
        await fixture.stop()
    }

    @Test func badClientInputClosesOnlyThatConnection() async throws {
        let fixture = try SimFixture.start { $0.maxFrameSize = 64 * 1024 }
        _ = try await fixture.simulator.createPhone(phone, pushName: "P")
        let (_, healthy) = try await fixture.onlineCompanion(phone: phone)

        // Bad Noise ciphertext after login.
        let (_, broken) = try await fixture.onlineCompanion(phone: phone)
        try await broken.sendGarbageFrame()
        _ = try await broken.waitClosed()

        // Garbage before the intro header.
        let raw = try await SimTestClient.connect(
            to: fixture.simulator, on: fixture.handle, credentials: try TestCredentials.fresh(), payload: nil)
        try await raw.sendRaw(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        _ = try await raw.waitClosed()

        // A frame longer than the limit, declared right after the intro.
        let oversized = try await SimTestClient.connect(
            to: fixture.simulator, on: fixture.handle, credentials: try TestCredentials.fresh(), payload: nil)
        try await oversized.sendRaw(IntroHeader.header + [0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16))
        _ = try await oversized.waitClosed()

        // A handshake message that is not a protobuf.
        let badHello = try await SimTestClient.connect(
            to: fixture.simulator, on: fixture.handle, credentials: try TestCredentials.fresh(), payload: nil)
        try await badHello.sendRaw(IntroHeader.header + (try FrameWriter.frame([0xFF, 0xFF, 0xFF, 0xFF])))
        _ = try await badHello.waitClosed()

        let pong = try await healthy.query(iq("still", xmlns: "w:p", type: "get"))
        #expect(pong.attributes.string("type") == "result")
        #expect(!healthy.isClosed)
        await fixture.stop()
    }

    @Test func adminAPIOverHTTP() async throws {
        let fixture = try SimFixture.start()
        let port = fixture.simulator.adminPort
        func request(_ method: String, _ path: String, _ body: String? = nil) async throws -> TestResponse? {
            try await LoopbackClient.oneShot(port: port, method, path, body: body)
        }
        #expect(try await request("GET", "/admin/health")?.status == 200)
        let created = try await request("POST", "/admin/phones", #"{"phone":"15551234567","pushName":"Alice"}"#)
        #expect(created?.status == 201)
        #expect(try await request("POST", "/admin/phones", #"{"phone":"15551234567"}"#)?.status == 409)
        #expect(try await request("POST", "/admin/phones", #"{"phone":"12"}"#)?.status == 400)
        #expect(try await request("GET", "/admin/phones/15551234567")?.status == 200)
        #expect(try await request("GET", "/admin/phones/1999")?.status == 404)
        #expect(try await request("GET", "/admin/phones")?.status == 200)
        #expect(try await request("DELETE", "/admin/phones/15551234567/devices/4")?.status == 404)
        #expect(try await request("POST", "/admin/phones/15551234567/scan", #"{"qr":"nonsense"}"#)?.status == 400)
        #expect(try await request("POST", "/admin/phones/15551234567/devices/1/fault", #"{"kind":"bogus"}"#)?.status == 400)

        // Pair over the admin API, then fault and unlink over it.
        let (credentials, client) = try await fixture.onlineCompanion(phone: "15551234567")
        let device = credentials.jid!.device
        let phone = try await request("GET", "/admin/phones/15551234567")
        let body = try JSONSerialization.jsonObject(with: Data(phone?.body ?? [])) as? [String: Any]
        let companions = body?["companions"] as? [[String: Any]]
        #expect(companions?.first?["status"] as? String == "online")
        #expect(try await request("POST", "/admin/phones/15551234567/devices/\(device)/fault", #"{"kind":"latency","ms":10}"#)?.status == 204)
        #expect(try await request("DELETE", "/admin/phones/15551234567/devices/\(device)")?.status == 204)
        _ = try await client.waitClosed()
        await fixture.stop()
    }
}

@Suite(.timeLimit(.minutes(1))) struct SimulatorDensityTests {
    @Test func manyConcurrentConnectionsEachGetTheirOwnRefs() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone("15559990000", pushName: "D")
        let (_, online) = try await fixture.onlineCompanion(phone: "15559990000")
        let count = 200
        let clients = try await withThrowingTaskGroup(of: SimTestClient.self) { group in
            for _ in 0..<count {
                group.addTask {
                    let credentials = try TestCredentials.fresh()
                    return try await fixture.connect(credentials, login: false)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var refs = Set<[UInt8]>()
        for client in clients {
            let pairDevice = try await client.next(tag: "iq", timeout: .seconds(20))
            refs.formUnion(pairDevice.child("pair-device")?.children("ref").compactMap(\.contentBytes) ?? [])
        }
        #expect(refs.count == count * 6)
        #expect(try await fixture.simulator.connectionCount() == count + 1)
        #expect(try await online.query(iq("alive", xmlns: "w:p", type: "get")).attributes.string("type") == "result")
        await fixture.stop()
    }
}
