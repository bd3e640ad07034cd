import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Forwarding media, locations and contact cards through REST, sent and received alike: the
/// phone on the other side opens the forwarded copy (the same blob, no upload), reads the
/// coordinates and the vCard, and sees it marked as forwarded.
@Suite(.timeLimit(.minutes(3))) struct ForwardRouteTests {
    static let alice = "15550100041"
    static let bob = "15550100042"
    static let carol = "15550100043"
    static var bobChat: String { "\(bob)@c.us" }
    static var carolChat: String { "\(carol)@c.us" }

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }
    static func sha(_ bytes: [UInt8]) -> String { Crypto.hex(Crypto.sha256(bytes)) }

    private func forward(_ world: LinkWorld, _ id: String, _ messageID: String, from: String = bobChat) async throws -> String {
        let response = try await world.postJSON(id, "forward", ["fromChatId": from, "toChatId": Self.carolChat, "messageId": messageID])
        #expect(response.status == 201, "\(response.text)")
        return try #require(response.object["messageId"] as? String)
    }

    private func phoneSends(_ world: LinkWorld, _ body: [String: Any]) async throws -> String {
        var body = body
        body["to"] = Self.alice
        return try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body))).id
    }

    @Test(arguments: MediaRouteTests.Setup.available)
    func mediaIsForwardedWithTheSameBlob(_ setup: MediaRouteTests.Setup) async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(
            setup.backend, storage: setup.storage, phones: [Self.alice, Self.bob, Self.carol])
        // Our own image, sent to Bob, then forwarded to Carol.
        let ours = Self.bytes(30_000)
        let sent = try await world.postJSON(
            id, "send-image",
            ["chatId": Self.bobChat, "base64": Data(ours).base64EncodedString(), "mimetype": "image/png", "caption": "look"])
        #expect(sent.status == 201, "\(sent.text)")
        let sentID = try #require(sent.object["messageId"] as? String)
        _ = try await world.mediaRow(id, sentID) { $0.mediaPath != nil }
        let blobs = try await world.simulator.mediaHost().blobs
        let forwardedID = try await forward(world, id, sentID)
        let entry = try await world.inboxEntry(Self.carol, forwardedID)
        #expect(entry.forwarded == true)
        #expect(entry.type == "image")
        #expect(entry.media?.error == nil, "\(entry.media?.error ?? "")")
        #expect(entry.media?.sha256 == Self.sha(ours), "Carol opened other bytes")
        #expect(entry.media?.caption == "look")
        #expect(try await world.simulator.mediaHost().blobs == blobs, "a forward uploads nothing")
        // The forward's own row has the media, and the route serves it.
        let row = try await world.mediaRow(id, forwardedID) { $0.mediaPath != nil }
        #expect(row.chatID == Self.carolChat)
        #expect(row.metadata?["media"]?["mimetype"]?.stringValue == "image/png")
        let served = try await world.mediaRoute(id, chat: Self.carolChat, forwardedID)
        #expect(served.status == 200, "\(served.text)")
        #expect(Self.sha(served.body) == Self.sha(ours))
        // Bob's document, received and forwarded to Carol.
        let theirs = Self.bytes(12_345)
        let receivedID = try await phoneSends(
            world, ["kind": "document", "data": Data(theirs).base64EncodedString(), "mimetype": "application/pdf", "fileName": "a.pdf"])
        _ = try await world.mediaRow(id, receivedID) { _ in true }
        let second = try await forward(world, id, receivedID)
        let document = try await world.inboxEntry(Self.carol, second)
        #expect(document.forwarded == true)
        #expect(document.media?.sha256 == Self.sha(theirs))
        #expect(document.media?.fileName == "a.pdf")
        #expect(document.media?.mimetype == "application/pdf")
        #expect(try await world.simulator.mediaHost().blobs == blobs + 1, "only Bob's own upload")
        let servedSecond = try await world.mediaRoute(id, chat: Self.carolChat, second)
        #expect(servedSecond.status == 200, "\(servedSecond.text)")
        #expect(Self.sha(servedSecond.body) == Self.sha(theirs))
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func locationsAndContactCardsAreForwarded(_ backend: DataBackend) async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(backend, storage: nil, phones: [Self.alice, Self.bob, Self.carol])
        // Received from Bob.
        let place = try await phoneSends(world, ["kind": "location", "latitude": 48.8584, "longitude": 2.2945, "name": "Tower"])
        let card = try await phoneSends(world, ["kind": "contact", "name": "Dora", "number": "15550109876"])
        for messageID in [place, card] { _ = try await world.mediaRow(id, messageID) { _ in true } }
        let placeRow = try await world.mediaRow(id, place) { _ in true }
        #expect(placeRow.metadata?["location"]?["latitude"]?.numberValue == 48.8584, "\(String(describing: placeRow.metadata))")
        let forwardedPlace = try await world.inboxEntry(Self.carol, try await forward(world, id, place))
        #expect(forwardedPlace.forwarded == true)
        #expect(forwardedPlace.type == "location")
        #expect(forwardedPlace.location == PhoneLocation(latitude: 48.8584, longitude: 2.2945, name: "Tower", address: nil))
        let forwardedCard = try await world.inboxEntry(Self.carol, try await forward(world, id, card))
        #expect(forwardedCard.forwarded == true)
        #expect(forwardedCard.type == "contact")
        #expect(forwardedCard.body == "Dora")
        #expect(forwardedCard.vcard == MessageCodec.vCard(name: "Dora", number: "15550109876"))
        // Sent by us.
        let sentPlace = try await world.postJSON(
            id, "send-location",
            ["chatId": Self.bobChat, "latitude": -33.8568, "longitude": 151.2153, "description": "Opera", "address": "Bennelong Point"])
        let sentCard = try await world.postJSON(
            id, "send-contact", ["chatId": Self.bobChat, "contactName": "Eve", "contactNumber": "+1 555 010 2222"])
        #expect(sentPlace.status == 201, "\(sentPlace.text)")
        #expect(sentCard.status == 201, "\(sentCard.text)")
        let placeForward = try await forward(world, id, try #require(sentPlace.object["messageId"] as? String))
        let ourPlace = try await world.inboxEntry(Self.carol, placeForward)
        #expect(ourPlace.location == PhoneLocation(latitude: -33.8568, longitude: 151.2153, name: "Opera", address: "Bennelong Point"))
        #expect(ourPlace.forwarded == true)
        let cardForward = try await forward(world, id, try #require(sentCard.object["messageId"] as? String))
        let ourCard = try await world.inboxEntry(Self.carol, cardForward)
        #expect(ourCard.vcard == MessageCodec.vCard(name: "Eve", number: "15550102222"))
        // A forward of a forward keeps the content (the forward's own row keeps it too).
        let again = try await world.postJSON(
            id, "forward", ["fromChatId": Self.carolChat, "toChatId": Self.bobChat, "messageId": ourCard.id])
        #expect(again.status == 201, "\(again.text)")
        let twice = try await world.inboxEntry(Self.bob, try #require(again.object["messageId"] as? String))
        #expect(twice.vcard == ourCard.vcard)
        await world.stop()
    }
}
