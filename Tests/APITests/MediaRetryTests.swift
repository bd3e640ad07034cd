import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Media re-upload (reference part 2, 5.7) end to end: a received blob the media host no longer
/// has is asked for with the `server-error` receipt, the simulated phone uploads it again and
/// answers with the sealed `mediaretry` notification, and the gateway downloads the new path; a
/// phone that lost the media too leaves the download failed on the row, once.
@Suite(.timeLimit(.minutes(3))) struct MediaRetryTests {
    static let alice = "15550100041"
    static let bob = "15550100042"
    static let carol = "15550100043"

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }
    static func sha(_ bytes: [UInt8]) -> String { Crypto.hex(Crypto.sha256(bytes)) }

    private func phoneSends(_ world: LinkWorld, to: String, _ bytes: [UInt8], from phone: String = bob) async throws -> String {
        let json = try JSONSerialization.data(withJSONObject: [
            "to": to, "kind": "image", "mimetype": "image/jpeg", "data": Data(bytes).base64EncodedString(),
        ])
        return try await world.simulator.sendMessage(from: phone, json: Array(json)).id
    }

    @Test(arguments: DataBackend.available)
    func anExpiredBlobIsUploadedAgainByThePhoneAndStored(_ backend: DataBackend) async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(backend, storage: nil, phones: [Self.alice, Self.bob, Self.carol])
        let before = try await world.simulator.mediaHost()
        try await world.simulator.injectMediaFault(.expireDownload, count: 1)
        let payload = Self.bytes(36_000)
        let messageID = try await phoneSends(world, to: Self.alice, payload)
        let row = try await world.mediaRow(id, messageID) { $0.mediaPath != nil || $0.metadata?["media"]?["downloadError"] != nil }
        #expect(row.metadata?["media"]?["downloadError"] == nil, "\(String(describing: row.metadata))")
        let path = try #require(row.mediaPath)
        #expect(Self.sha(try await world.gateway.archive.storage.getBytes(key: path)) == Self.sha(payload))
        let served = try await world.mediaRoute(id, chat: "\(Self.bob)@c.us", messageID)
        #expect(served.status == 200, "\(served.text)")
        #expect(Self.sha(served.body) == Self.sha(payload))
        // The first blob is gone; the phone's second upload is what was downloaded.
        let after = try await world.simulator.mediaHost()
        #expect(after.uploads == before.uploads + 2)
        #expect(after.blobs == before.blobs + 1)

        // The same in a group: the receipt names the member who sent it.
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Album", members: [Self.alice, Self.carol]).id
        try await world.simulator.injectMediaFault(.expireDownload, count: 1)
        let inGroup = Self.bytes(21_000)
        let groupMessage = try await phoneSends(world, to: group, inGroup, from: Self.carol)
        let groupRow = try await world.mediaRow(id, groupMessage) { $0.mediaPath != nil || $0.metadata?["media"]?["downloadError"] != nil }
        #expect(groupRow.metadata?["media"]?["downloadError"] == nil, "\(String(describing: groupRow.metadata))")
        #expect(try await world.simulator.mediaHost().uploads == after.uploads + 2)
        let groupServed = try await world.mediaRoute(id, chat: group, groupMessage)
        #expect(groupServed.status == 200, "\(groupServed.text)")
        #expect(Self.sha(groupServed.body) == Self.sha(inGroup))
        await world.stop()
    }

    /// With downloads left to the media route, an expired blob is asked of the phone when the
    /// route first needs it.
    @Test func theMediaRouteAsksThePhoneForAnExpiredBlob() async throws {
        var onDemand = MediaArchive.Settings()
        onDemand.downloadEnabled = false
        let (world, id) = try await LinkWorld.linkedForMedia(.sqlite, storage: nil, phones: [Self.alice, Self.bob], inboundMedia: onDemand)
        let payload = Self.bytes(27_000)
        try await world.simulator.injectMediaFault(.expireDownload, count: 1)
        let before = try await world.simulator.mediaHost()
        let messageID = try await phoneSends(world, to: Self.alice, payload)
        _ = try await world.mediaRow(id, messageID) { _ in true }
        let served = try await world.mediaRoute(id, chat: "\(Self.bob)@c.us", messageID)
        #expect(served.status == 200, "\(served.text)")
        #expect(Self.sha(served.body) == Self.sha(payload))
        #expect(try await world.simulator.mediaHost().uploads == before.uploads + 2, "the phone's upload and its re-upload")
        await world.stop()
    }

    @Test func aRetryThePhoneCannotServeLeavesTheErrorOnTheRow() async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(.sqlite, storage: nil, phones: [Self.alice, Self.bob])
        let before = try await world.simulator.mediaHost()
        try await world.simulator.injectMediaFault(.loseMedia, count: 1)
        let messageID = try await phoneSends(world, to: Self.alice, Self.bytes(18_000))
        let row = try await world.mediaRow(id, messageID) { $0.metadata?["media"]?["downloadError"] != nil }
        #expect(row.mediaPath == nil)
        let reason = row.metadata?["media"]?["downloadError"]?.stringValue ?? ""
        #expect(reason.contains("could not upload the media again"), "\(reason)")
        // The phone's first upload only: it had nothing to upload again.
        #expect(try await world.simulator.mediaHost().uploads == before.uploads + 1)
        // Asked once: nothing is asked or uploaded after that, and the session carries on.
        let blobs = try await world.simulator.mediaHost().blobs
        let next = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "still here")
        _ = try await world.mediaRow(id, next.id) { _ in true }
        #expect(try await world.simulator.mediaHost().blobs == blobs)
        // On demand the blob is still gone: a 404, not a crash or a loop.
        let served = try await world.mediaRoute(id, chat: "\(Self.bob)@c.us", messageID)
        #expect(served.status == 404, "\(served.text)")
        #expect(try await world.session(id)["status"] as? String == "ready")
        await world.stop()
    }
}
