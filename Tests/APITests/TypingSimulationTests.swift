import Engines
import Foundation
import Simulator
import Testing
import TestSupport

/// OpenWA's typing simulation (`SIMULATE_TYPING`): a text send shows "typing…" in the chat first,
/// for 500 ms and 45 ms a character, at most `SIMULATE_TYPING_MAX_MS`, ±15 %.
@Suite(.timeLimit(.minutes(2))) struct TypingSimulationTests {
    static let alice = "15550201001"
    static let bob = "15550201002"

    @Test func theDelayFollowsTheTextsLengthWithinItsBounds() {
        let typing = TypingSimulation(maxMilliseconds: 5_000)
        #expect(typing.milliseconds(for: "0123456789", jitter: 0) == 950)
        #expect(typing.milliseconds(for: "0123456789", jitter: 0.15) == 1_093)
        #expect(typing.milliseconds(for: "0123456789", jitter: -0.15) == 808)
        #expect(typing.milliseconds(for: "", jitter: 0) == 500)
        #expect(typing.milliseconds(for: String(repeating: "x", count: 500), jitter: 0.15) == 5_000, "capped")
        #expect(TypingSimulation(maxMilliseconds: 200).milliseconds(for: "hi", jitter: 0) == 200)
        for _ in 0..<100 {
            let drawn = typing.milliseconds(for: "0123456789")
            #expect((808...1_093).contains(drawn))
        }
    }

    @Test func textSendsShowTypingFirstAndOtherSendsDoNot() async throws {
        var limits = TestLimits()
        limits.typing = TypingSimulation(enabled: true, maxMilliseconds: 300)
        let world = try await LinkWorld.start(.sqlite, phones: [Self.alice, Self.bob], limits: limits)
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: Self.alice)
        try await world.waitForPreKeys(of: Self.alice)
        let location = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-location", body: #"{"chatId":"\#(Self.bob)","latitude":1,"longitude":2}"#)
        #expect(location.status == 201, "\(location.text)")
        #expect(try await world.simulator.chatStates(of: Self.bob).isEmpty, "no typing before a location")

        let text = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"\#(Self.bob)","text":"typed by hand"}"#)
        #expect(text.status == 201, "\(text.text)")
        let states = try await world.simulator.chatStates(of: Self.bob)
        #expect(states.map(\.state) == ["composing"], "\(states)")
        #expect(states.first?.from.hasPrefix(Self.alice) == true)
        #expect(try await world.simulator.inbox(of: Self.bob).contains { $0.body == "typed by hand" })
        await world.stop()
    }
}
