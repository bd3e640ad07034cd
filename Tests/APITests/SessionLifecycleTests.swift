import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// The session lifecycle through REST, the native engine and the simulator, with sessions and
/// credentials on SQLite and on PostgreSQL.
@Suite(.timeLimit(.minutes(2))) struct SessionLifecycleTests {
    static let alice = "15550001001"
    static let bob = "15550001002"

    @Test(arguments: DataBackend.available)
    func linkByQRStopStartWithoutQRThenLogoutAndDelete(backend: DataBackend) async throws {
        let world = try await LinkWorld.start(backend, phones: [Self.alice])
        let id = try await world.createAndStart("qr-\(backend)")
        try await world.link(id, phone: Self.alice)
        #expect(try await world.session(id)["phone"] as? String == Self.alice)
        #expect(try await world.isLinkedInStore(id))

        let seen = EventLog()
        world.gateway.events.subscribe { seen.append($0.name) }
        #expect(try await world.gateway.request("POST", "/api/sessions/\(id)/stop").status == 200)
        #expect(try await world.gateway.request("POST", "/api/sessions/\(id)/start").status == 200)
        try await world.waitFor(id, "ready again") { $0["status"] as? String == "ready" }
        #expect(!seen.names.contains("session.qr"), "stored credentials log in without a QR")

        let loggedOut = try await world.gateway.request("POST", "/api/sessions/\(id)/logout")
        #expect(loggedOut.status == 200, "\(loggedOut.text)")
        #expect(try await world.credentialCount(id) == 0)
        #expect(try await world.simulator.companions(of: Self.alice).isEmpty, "the phone no longer lists the device")
        #expect(try await world.gateway.request("DELETE", "/api/sessions/\(id)").status == 204)
        #expect(try await world.gateway.request("GET", "/api/sessions/\(id)").status == 404)
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func linkByPairingCode(backend: DataBackend) async throws {
        let world = try await LinkWorld.start(backend, phones: [Self.alice])
        let id = try await world.createAndStart("code-\(backend)")
        try await world.waitFor(id, "qr_ready") { $0["status"] as? String == "qr_ready" }
        let bad = try await world.gateway.request("POST", "/api/sessions/\(id)/pairing-code", body: #"{"phoneNumber":"+1 555"}"#)
        #expect(bad.status == 400)
        let asked = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/pairing-code", body: #"{"phoneNumber":"\#(Self.alice)"}"#)
        #expect(asked.status == 201, "\(asked.text)")
        let code = try #require(asked.object["pairingCode"] as? String)
        #expect(code.count == 8 && asked.object["status"] as? String == "qr_ready")
        _ = try await world.simulator.enterPairingCode(code, on: Self.alice)
        let ready = try await world.waitFor(id, "ready") { $0["status"] as? String == "ready" }
        #expect(ready["phone"] as? String == Self.alice)
        #expect(try await world.isLinkedInStore(id))
        let again = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/pairing-code", body: #"{"phoneNumber":"\#(Self.alice)"}"#)
        #expect(again.status == 400 && again.text.contains("already authenticated"), "\(again.text)")
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func droppedLinkReconnectsWithBackoffAndConflictStopsIt(backend: DataBackend) async throws {
        let world = try await LinkWorld.start(backend, phones: [Self.alice])
        let id = try await world.createAndStart("drop-\(backend)", config: #"{"reconnectBaseDelay":1000}"#)
        try await world.link(id, phone: Self.alice)
        let seen = EventLog()
        world.gateway.events.subscribe { seen.append($0.name) }
        try await world.simulator.inject(fault: .drop, phone: Self.alice, device: try await world.device(of: Self.alice))
        try await world.waitFor(id, "disconnected") { _ in seen.names.contains("session.disconnected") }
        try await world.waitFor(id, "ready after the backoff") { $0["status"] as? String == "ready" }
        #expect(try await world.session(id)["engineLoaded"] as? Bool == true)

        // Another client took over the account's device: no reconnect (it would fight it).
        try await world.simulator.inject(fault: .conflict, phone: Self.alice, device: try await world.device(of: Self.alice))
        let after = try await world.waitFor(id, "disconnected by conflict") {
            $0["status"] as? String == "disconnected" && $0["engineLoaded"] as? Bool == false
        }
        #expect((after["lastError"] as? String)?.contains("replaced") == true, "\(after)")
        #expect(try await world.isLinkedInStore(id), "a conflict keeps the credentials")
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func phoneSideUnlinkWipesCredentialsAndShowsAQRAgain(backend: DataBackend) async throws {
        let world = try await LinkWorld.start(backend, phones: [Self.alice])
        let id = try await world.createAndStart("unlink-\(backend)")
        try await world.link(id, phone: Self.alice)
        try await world.simulator.unlink(phone: Self.alice, device: try await world.device(of: Self.alice))
        let session = try await world.waitFor(id, "qr_ready after the unlink") {
            $0["status"] as? String == "qr_ready" && $0["phone"] is NSNull
        }
        #expect(session["engineLoaded"] as? Bool == true)
        #expect(try await !world.isLinkedInStore(id))
        // The new QR links again.
        try await world.link(id, phone: Self.alice)
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func watchdogRecyclesAWedgedLinkAndLeavesHealthyOnesAlone(backend: DataBackend) async throws {
        // Keepalive pings every 200 ms keep healthy links chatty; a 10-minute keepalive timeout
        // stands for an engine whose own dead-link detection failed, which is what the watchdog is for.
        let world = try await LinkWorld.start(backend, phones: [Self.alice, Self.bob]) {
            $0.keepAliveIntervalMilliseconds = 200
            $0.keepAliveTimeoutMilliseconds = 600_000
        }
        let wedged = try await world.createAndStart("wedged-\(backend)")
        try await world.link(wedged, phone: Self.alice)
        let healthy = try await world.createAndStart("healthy-\(backend)")
        try await world.link(healthy, phone: Self.bob)
        let policy = SessionWatchdogPolicy(intervalMilliseconds: 0, silenceMilliseconds: 1_500, stuckMilliseconds: 60_000)
        #expect(await world.gateway.sessions.watchdogSweep(policy).isEmpty)

        try await world.simulator.inject(fault: .stall, phone: Self.alice, device: try await world.device(of: Self.alice))
        try await Task.sleep(for: .milliseconds(2_000))
        let statuses = EventLog()
        world.gateway.events.subscribe { event in
            guard event.sessionID == wedged, event.name == "session.status", let status = event.data["status"]?.stringValue
            else { return }
            statuses.append(status)
        }
        #expect(await world.gateway.sessions.watchdogSweep(policy) == [wedged])
        // The sweep restarted the engine: the session logs in again on a new link.
        try await world.waitFor(wedged, "ready on a new link") { _ in statuses.names.last == "ready" }
        #expect(statuses.names.first == "initializing", "\(statuses.names)")
        #expect(try await world.session(healthy)["status"] as? String == "ready")
        let audit = try await world.gateway.main.query(
            "SELECT COUNT(*) AS n FROM audit_logs WHERE action = 'session_watchdog_restart'", [])
        #expect(audit.first?.int("n") == 1)
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func hostilePeerFailsOnlyTheSessionItHits(backend: DataBackend) async throws {
        let world = try await LinkWorld.start(backend, phones: [Self.alice, Self.bob])
        let bystander = try await world.createAndStart("bystander-\(backend)")
        try await world.link(bystander, phone: Self.alice)
        let victim = try await world.createAndStart("victim-\(backend)", config: #"{"reconnectBaseDelay":1000}"#)
        try await world.link(victim, phone: Self.bob)

        for fault in [SimulatorFault.malformed, .oversized] {
            try await world.simulator.inject(fault: fault, phone: Self.bob, device: try await world.device(of: Self.bob))
            let hit = try await world.waitFor(victim, "lastError after \(fault)") {
                ($0["lastError"] as? String)?.contains("protocol violation") == true
            }
            #expect(hit["engineLoaded"] as? Bool == true, "the victim reconnects by itself")
            // A new login clears the error.
            try await world.waitFor(victim, "ready again after \(fault)") {
                $0["status"] as? String == "ready" && $0["lastError"] is NSNull
            }
        }

        // Handshakes with an untrusted certificate chain or a corrupted server hello.
        for (fault, words) in [(HandshakeFault.badCertificate, "certificate"), (.badNoise, "handshake")] {
            try await world.simulator.armHandshakeFault(fault)
            let id = try await world.createAndStart("\(fault.rawValue)-\(backend)", config: #"{"maxReconnectAttempts":0}"#)
            try await world.waitFor(id, "a clear error for \(fault.rawValue)") {
                ($0["lastError"] as? String)?.contains(words) == true && $0["status"] as? String == "failed"
            }
        }
        let bystanderNow = try await world.session(bystander)
        #expect(bystanderNow["status"] as? String == "ready")
        #expect(bystanderNow["lastError"] is NSNull)
        // The bystander's link is still the one it logged in on: nothing reached it.
        #expect(try await world.simulator.companions(of: Self.alice).first?.status == "online")
        await world.stop()
    }
}
