import Engines
import Foundation
import Simulator
import Testing
import TestSupport

/// The start most REST messaging tests share: a session "alice" linked to a phone, a webhook
/// receiver on loopback subscribed to the events the test reads, and the companion's prekeys on
/// the server so phones can open sessions with it.
extension LinkWorld {
    static func linkedWithWebhooks(
        _ backend: DataBackend, phones: [String], linking phone: String, events: [String], limits: TestLimits = TestLimits(),
        inboundMedia: MediaArchive.Settings = MediaArchive.Settings(), tweak: (inout WebhookSettings) -> Void = { _ in }
    ) async throws -> (LinkWorld, String, WebhookReceiver) {
        var settings = WebhookSettings()
        settings.urlPolicy = WebhookURLPolicy(protect: false)
        settings.retryDelayMilliseconds = 20
        tweak(&settings)
        let world = try await LinkWorld.start(backend, phones: phones, webhooks: settings, limits: limits, inboundMedia: inboundMedia)
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: phone)
        let receiver = try await WebhookReceiver.start()
        let list = events.map { "\"\($0)\"" }.joined(separator: ",")
        let hook = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/webhooks", body: #"{"url":"\#(receiver.url)","events":[\#(list)]}"#)
        #expect(hook.status == 201, "\(hook.text)")
        try await world.waitForPreKeys(of: phone)
        return (world, id, receiver)
    }

    /// Waits (up to 10 s) until the phone's first companion has uploaded its prekeys.
    func waitForPreKeys(of phone: String) async throws {
        for _ in 0..<500 where (try await simulator.companions(of: phone).first?.preKeyCount ?? 0) == 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
