import Engines
import Foundation
import Reactor
import Simulator
import Testing
import TestSupport

/// The account's own name and about text through REST, the native engine and the simulator
/// (reference 2.13): the name goes out as a `setting_pushName` app-state patch the phone decodes
/// and becomes the session's `pushName`; a name set on the phone arrives the same way; the about
/// text reaches the server with `<iq xmlns="status">`.
@Suite(.timeLimit(.minutes(2))) struct ProfileRouteTests {
    static let alice = "15550330001"
    static let bob = "15550330002"

    private func linked() async throws -> (LinkWorld, String, WebhookReceiver) {
        let (world, id, receiver) = try await LinkWorld.linkedWithWebhooks(
            .sqlite, phones: [Self.alice, Self.bob], linking: Self.alice, events: ["message.received"])
        // The app-state keys arrive after the prekeys; a contact name written first proves the session has them.
        try await world.simulator.writeAppState(phone: Self.alice, PhoneAppStateChange(action: "contact", jid: Self.bob, fullName: "Bob"))
        try await poll(world, "/api/sessions/\(id)/contacts/\(Self.bob)@c.us", "the keys") { $0["name"] as? String == "Bob" }
        return (world, id, receiver)
    }

    /// Polls `path` until `condition` holds on its JSON object (10 s at most).
    private func poll(_ world: LinkWorld, _ path: String, _ what: String, _ condition: ([String: Any]) -> Bool) async throws {
        var last: [String: Any] = [:]
        for _ in 0..<500 {
            last = try await world.gateway.request("GET", path).object
            if condition(last) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("\(what) never held; last: \(last)")
    }

    private func put(_ world: LinkWorld, _ id: String, _ what: String, _ body: String) async throws -> TestResponse {
        try await world.gateway.request("PUT", "/api/sessions/\(id)/profile/\(what)", body: body)
    }

    @Test func nameAndAboutReachTheAccount() async throws {
        let (world, id, receiver) = try await linked()
        let renamed = try await put(world, id, "name", #"{"name":"Alice Smith"}"#)
        #expect(renamed.status == 200, "\(renamed.text)")
        #expect(renamed.object["message"] as? String == "Profile name updated" && renamed.object["success"] as? Bool == true)
        #expect(try await world.simulator.appState(of: Self.alice).first { $0.index == ["setting_pushName"] }?.pushName == "Alice Smith")
        #expect(try await world.simulator.phone(Self.alice).pushName == "Alice Smith")
        try await poll(world, "/api/sessions/\(id)", "the session's new name") { $0["pushName"] as? String == "Alice Smith" }

        // Renamed on the phone: the patch reaches the session, which takes the name.
        try await world.simulator.writeAppState(phone: Self.alice, PhoneAppStateChange(action: "pushName", jid: "", pushName: "Alice P."))
        try await poll(world, "/api/sessions/\(id)", "the phone's new name") { $0["pushName"] as? String == "Alice P." }

        let about = try await put(world, id, "status", #"{"status":"Building things ✨"}"#)
        #expect(about.status == 200, "\(about.text)")
        #expect(about.object["message"] as? String == "Profile status updated")
        #expect(try await world.simulator.phone(Self.alice).about == "Building things ✨")
        #expect(try await put(world, id, "status", #"{"status":""}"#).status == 200)
        #expect(try await world.simulator.phone(Self.alice).about == nil)
        await receiver.stop()
        await world.stop()
    }

    @Test func refusalsCarryOpenWAsBodies() async throws {
        let (world, id, receiver) = try await linked()
        let cases: [(String, String, Int, String)] = [
            ("name", #"{"name":""}"#, 400, "name should not be empty"),
            ("name", #"{"name":"\#(String(repeating: "n", count: 26))"}"#, 400, "name must be shorter than or equal to 25 characters"),
            ("name", #"{"name":7}"#, 400, "name must be a string"),
            ("name", #"{"name":"   "}"#, 400, "name must be 1 to 25 characters"),
            ("status", #"{"status":"\#(String(repeating: "s", count: 140))"}"#, 400, "status must be shorter than or equal to 139 characters"),
            ("status", #"{}"#, 400, "status must be a string"),
            ("status", #"{"status":"ok","extra":1}"#, 400, "property extra should not exist"),
        ]
        for (what, body, status, message) in cases {
            let response = try await put(world, id, what, body)
            #expect(response.status == status, "\(body): \(response.text)")
            #expect(response.text.contains(message), "\(body): \(response.text)")
        }
        let unknown = try await world.gateway.request("PUT", "/api/sessions/nope/profile/name", body: #"{"name":"X"}"#)
        #expect(unknown.status == 404, "\(unknown.text)")
        // Nothing reached the phone.
        #expect(try await world.simulator.phone(Self.alice).pushName != "X")
        #expect(try await world.simulator.phone(Self.alice).about == nil)
        await receiver.stop()
        await world.stop()
    }
}
