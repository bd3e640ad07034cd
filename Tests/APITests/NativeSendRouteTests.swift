import Engines
import Foundation
import Simulator
import Testing
import TestSupport

/// The send routes with the native engine and a simulated phone: what the engine sends arrives
/// at the phone (media in depth: `MediaRouteTests`).
@Suite(.timeLimit(.minutes(2))) struct NativeSendRouteTests {
    static let alice = "15550200001"
    static let bob = "15550200002"

    @Test func locationContactReplyReactionAndImageReachThePhone() async throws {
        let world = try await LinkWorld.start(.sqlite, phones: [Self.alice, Self.bob])
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: Self.alice)
        try await world.waitForPreKeys(of: Self.alice)
        func post(_ route: String, _ body: String) async throws -> TestResponse {
            try await world.gateway.request("POST", "/api/sessions/\(id)/messages/\(route)", body: body)
        }
        let location = try await post("send-location", #"{"chatId":"\#(Self.bob)","latitude":48.8584,"longitude":2.2945,"description":"Eiffel Tower"}"#)
        #expect(location.status == 201, "\(location.text)")
        let contact = try await post("send-contact", #"{"chatId":"\#(Self.bob)","contactName":"Carol","contactNumber":"15550200003"}"#)
        #expect(contact.status == 201, "\(contact.text)")
        let text = try await post("send-text", #"{"chatId":"\#(Self.bob)","text":"quote me"}"#)
        let quoted = try #require(text.object["messageId"] as? String)
        let reply = try await post("reply", #"{"chatId":"\#(Self.bob)","quotedMessageId":"\#(quoted)","text":"a reply"}"#)
        #expect(reply.status == 201, "\(reply.text)")
        let react = try await post("react", #"{"chatId":"\#(Self.bob)","messageId":"\#(quoted)","emoji":"🎉"}"#)
        #expect(react.status == 200, "\(react.text)")
        #expect(react.object["success"] as? Bool == true)

        let inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.map(\.type) == ["location", "contact", "text", "text", "reaction"], "\(inbox.map(\.type))")
        #expect(inbox.first?.body == "Eiffel Tower")
        #expect(inbox.dropFirst().first?.body == "Carol")

        let image = try await post("send-image", #"{"chatId":"\#(Self.bob)","base64":"AAAA","mimetype":"image/png"}"#)
        #expect(image.status == 201, "\(image.text)")
        let imageID = try #require(image.object["messageId"] as? String)
        let received = try await world.simulator.inbox(of: Self.bob).first { $0.id == imageID }
        #expect(received?.type == "image")
        #expect(received?.media?.size == 3, "the phone decrypted the three bytes of AAAA")
        await world.stop()
    }
}
