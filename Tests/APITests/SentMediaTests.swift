import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Our own media sends in media storage: what the gateway sends through REST is stored (local
/// files or S3) once WhatsApp acked it and served on the media route, and a storage failure
/// never fails the send.
@Suite(.timeLimit(.minutes(3))) struct SentMediaTests {
    static let alice = "15550100031"
    static let bob = "15550100032"
    static var bobChat: String { "\(bob)@c.us" }

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }
    static func sha(_ bytes: [UInt8]) -> String { Crypto.hex(Crypto.sha256(bytes)) }

    @Test(arguments: MediaRouteTests.Setup.available)
    func ourSendsAreStoredAndServed(_ setup: MediaRouteTests.Setup) async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(setup.backend, storage: setup.storage, phones: [Self.alice, Self.bob])
        for kind in MediaRouteTests.kinds {
            let payload = Self.bytes(kind.size)
            var body: [String: Any] = ["chatId": Self.bobChat, "base64": Data(payload).base64EncodedString(), "mimetype": kind.mimetype]
            if kind.ptt { body["ptt"] = true }
            if let filename = kind.filename { body["filename"] = filename }
            let sent = try await world.postJSON(id, kind.route, body)
            #expect(sent.status == 201, "\(kind.phoneKind): \(sent.text)")
            let messageID = try #require(sent.object["messageId"] as? String)
            let row = try await world.mediaRow(id, messageID) { $0.mediaPath != nil }
            #expect(row.type == kind.storedType)
            #expect(row.mediaMimetype == kind.mimetype)
            // The same shape as a received message's row.
            let media = row.metadata?["media"]
            #expect(media?["mimetype"]?.stringValue == kind.mimetype)
            #expect(media?["sizeBytes"]?.numberValue == Double(kind.size))
            #expect(media?["kind"]?.stringValue == (kind.ptt ? "ptt" : kind.phoneKind))
            if let filename = kind.filename { #expect(media?["filename"]?.stringValue == filename) }
            let path = try #require(row.mediaPath)
            #expect(Self.sha(try await world.gateway.archive.storage.getBytes(key: path)) == Self.sha(payload))
            let served = try await world.mediaRoute(id, chat: Self.bobChat, messageID)
            #expect(served.status == 200, "\(kind.phoneKind): \(served.text)")
            #expect(Self.sha(served.body) == Self.sha(payload), "\(kind.phoneKind): other bytes served")
            // And the phone got the very same bytes.
            #expect(try await world.inboxEntry(Self.bob, messageID).media?.sha256 == Self.sha(payload))
        }
        await world.stop()
    }

    @Test func aStorageFailureDoesNotFailTheSendAndTheRouteFetchesTheBlobLater() async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(.sqlite, storage: nil, phones: [Self.alice, Self.bob])
        let local = try #require(world.gateway.archive.storage as? LocalMediaStorage)
        // A file where the session's folder would go: every write under it fails.
        let blocker = "\(local.root)/\(id)"
        try FileManager.default.createDirectory(atPath: local.root, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("not a folder".utf8)))
        let payload = Self.bytes(25_000)
        let sent = try await world.postJSON(
            id, "send-image", ["chatId": Self.bobChat, "base64": Data(payload).base64EncodedString(), "mimetype": "image/jpeg"])
        #expect(sent.status == 201, "\(sent.text)")
        let messageID = try #require(sent.object["messageId"] as? String)
        #expect(try await world.inboxEntry(Self.bob, messageID).media?.sha256 == Self.sha(payload))
        // The failure is noted on the row, as for a download that could not be stored.
        let row = try await world.mediaRow(id, messageID) { $0.metadata?["media"]?["downloadError"] != nil }
        #expect(row.mediaPath == nil)
        #expect(row.metadata?["media"]?["downloadError"]?.stringValue?.contains("not stored") == true, "\(String(describing: row.metadata))")
        #expect(try await world.mediaRoute(id, chat: Self.bobChat, messageID).status == 404, "storage still refuses")
        // Storage is back: the route downloads our own blob from the media host and stores it.
        try FileManager.default.removeItem(atPath: blocker)
        let served = try await world.mediaRoute(id, chat: Self.bobChat, messageID)
        #expect(served.status == 200, "\(served.text)")
        #expect(Self.sha(served.body) == Self.sha(payload))
        let healed = try await world.mediaRow(id, messageID) { $0.mediaPath != nil }
        #expect(healed.mediaMimetype == "image/jpeg")
        #expect(healed.metadata?["media"]?["downloadError"] == nil)
        await world.stop()
    }
}
