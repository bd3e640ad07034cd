import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Media through REST, the native engine and the simulator's media host, both ways: what the
/// gateway sends, a phone downloads and decrypts; what a phone sends, the gateway downloads,
/// checks and stores (local files or S3) and serves on the media route.
@Suite(.timeLimit(.minutes(3))) struct MediaRouteTests {
    static let alice = "15550100021"
    static let bob = "15550100022"

    /// The data backend and media storage a test runs on.
    enum Setup: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqliteLocal, postgresLocal, sqliteS3
        var testDescription: String { rawValue }

        static var available: [Setup] {
            allCases.filter {
                switch $0 {
                case .sqliteLocal: true
                case .postgresLocal: PostgresTestEnvironment.isAvailable
                case .sqliteS3: S3TestEnvironment.isAvailable
                }
            }
        }

        var backend: DataBackend { self == .postgresLocal ? .postgres : .sqlite }
        var storage: MediaStorageConfiguration? { self == .sqliteS3 ? TestMediaStorage.s3() : nil }
    }

    /// A kind of media with the send route, the simulator's kind and the stored type.
    struct Kind: Sendable {
        var route: String
        var ptt = false
        var filename: String?
        var phoneKind: String
        var storedType: String
        var mimetype: String
        var size: Int
    }

    static let kinds: [Kind] = [
        Kind(route: "send-image", phoneKind: "image", storedType: "image", mimetype: "image/png", size: 40_001),
        Kind(route: "send-video", phoneKind: "video", storedType: "video", mimetype: "video/mp4", size: 90_017),
        Kind(route: "send-audio", phoneKind: "audio", storedType: "audio", mimetype: "audio/mpeg", size: 12_345),
        Kind(route: "send-audio", ptt: true, phoneKind: "ptt", storedType: "voice", mimetype: "audio/ogg; codecs=opus", size: 7_000),
        Kind(route: "send-document", filename: "report.pdf", phoneKind: "document", storedType: "document",
             mimetype: "application/pdf", size: 16),
        Kind(route: "send-sticker", phoneKind: "sticker", storedType: "sticker", mimetype: "image/webp", size: 3_001),
    ]

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }
    static func sha(_ bytes: [UInt8]) -> String { Crypto.hex(Crypto.sha256(bytes)) }

    private func linked(
        _ setup: Setup = .sqliteLocal, inboundMedia: MediaArchive.Settings = MediaArchive.Settings(), limits: TestLimits = TestLimits()
    ) async throws -> (LinkWorld, String) {
        try await LinkWorld.linkedForMedia(
            setup.backend, storage: setup.storage, phones: [Self.alice, Self.bob], inboundMedia: inboundMedia, limits: limits)
    }

    private func post(_ world: LinkWorld, _ id: String, _ route: String, _ body: [String: Any]) async throws -> TestResponse {
        try await world.postJSON(id, route, body)
    }

    private func inboxEntry(_ world: LinkWorld, _ phone: String, _ messageID: String) async throws -> PhoneMessage {
        try await world.inboxEntry(phone, messageID)
    }

    /// A phone media send through the admin JSON.
    private func phoneSends(_ world: LinkWorld, _ kind: String, _ bytes: [UInt8], extra: [String: Any] = [:]) async throws -> String {
        var body: [String: Any] = ["to": Self.alice, "kind": kind, "data": Data(bytes).base64EncodedString()]
        body.merge(extra) { _, new in new }
        let json = try JSONSerialization.data(withJSONObject: body)
        return try await world.simulator.sendMessage(from: Self.bob, json: Array(json)).id
    }

    private func mediaRow(
        _ world: LinkWorld, _ id: String, _ messageID: String, until done: (SQLMessageStore.MediaRow) -> Bool
    ) async throws -> SQLMessageStore.MediaRow {
        try await world.mediaRow(id, messageID, until: done)
    }

    private func mediaRoute(_ world: LinkWorld, _ id: String, _ messageID: String, chat: String = "\(bob)@c.us") async throws -> TestResponse {
        try await world.mediaRoute(id, chat: chat, messageID)
    }

    @Test(arguments: DataBackend.available)
    func everyKindSentThroughRESTReachesThePhoneDecrypted(_ backend: DataBackend) async throws {
        var limits = TestLimits()
        limits.media.urlPolicy = WebhookURLPolicy(protect: true, allowedHosts: ["127.0.0.1"])
        let (world, id) = try await linked(backend == .postgres ? .postgresLocal : .sqliteLocal, limits: limits)
        for kind in Self.kinds {
            let payload = Self.bytes(kind.size)
            var body: [String: Any] = [
                "chatId": "\(Self.bob)@c.us", "base64": Data(payload).base64EncodedString(), "mimetype": kind.mimetype,
                "caption": "a \(kind.phoneKind)",
            ]
            if kind.ptt { body["ptt"] = true }
            if let filename = kind.filename { body["filename"] = filename }
            let response = try await post(world, id, kind.route, body)
            #expect(response.status == 201, "\(kind.phoneKind): \(response.text)")
            let messageID = try #require(response.object["messageId"] as? String)
            let entry = try await inboxEntry(world, Self.bob, messageID)
            let media = try #require(entry.media, "\(kind.phoneKind) arrived without media")
            #expect(media.error == nil, "\(kind.phoneKind): \(media.error ?? "")")
            #expect(media.sha256 == Self.sha(payload), "\(kind.phoneKind): the phone decrypted other bytes")
            #expect(media.size == payload.count)
            #expect(media.kind == kind.phoneKind)
            #expect(entry.mediaType == kind.phoneKind, "the enc's mediatype")
            #expect(media.mimetype == kind.mimetype)
            if kind.phoneKind == "document" { #expect(media.fileName == "report.pdf") }
            let row = try await mediaRow(world, id, messageID) { _ in true }
            #expect(row.type == kind.storedType)
            #expect(row.metadata?["media"]?["mimetype"]?.stringValue == kind.mimetype)
        }
        // By URL, fetched from a local file server through the SSRF guard.
        let picture = Self.bytes(33_333)
        let files = try await MediaFileServer.start(["cat.png": .init(bytes: picture, contentType: "image/png")])
        let byURL = try await post(world, id, "send-image", ["chatId": Self.bob, "url": files.url("cat.png")])
        #expect(byURL.status == 201, "\(byURL.text)")
        let fetched = try await inboxEntry(world, Self.bob, try #require(byURL.object["messageId"] as? String))
        #expect(fetched.media?.sha256 == Self.sha(picture))
        #expect(fetched.media?.mimetype == "image/png")
        await files.stop()
        await world.stop()
    }

    @Test(arguments: Setup.available)
    func everyKindAPhoneSendsIsStoredAndServed(_ setup: Setup) async throws {
        let (world, id) = try await linked(setup)
        for kind in Self.kinds {
            let payload = Self.bytes(kind.size)
            var extra: [String: Any] = ["mimetype": kind.mimetype, "text": "from Bob"]
            if kind.phoneKind == "document" { extra["fileName"] = "report.pdf" }
            let messageID = try await phoneSends(world, kind.phoneKind, payload, extra: extra)
            // Downloaded in the background, with no request asking for it.
            let row = try await mediaRow(world, id, messageID) { $0.mediaPath != nil }
            #expect(row.type == kind.storedType)
            #expect(row.mediaMimetype == kind.mimetype)
            #expect(row.metadata?["media"]?["sizeBytes"]?.numberValue == Double(kind.size))
            let path = try #require(row.mediaPath)
            #expect(Self.sha(try await world.gateway.archive.storage.getBytes(key: path)) == Self.sha(payload))
            // The list route shows where the bytes are.
            let listed = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?messageId=\(messageID)")
            let listedRow = (listed.object["messages"] as? [[String: Any]])?.first
            #expect(listedRow?["mediaPath"] as? String == path)
            #expect(listedRow?["mediaMimetype"] as? String == kind.mimetype)
            let served = try await mediaRoute(world, id, messageID)
            #expect(served.status == 200, "\(kind.phoneKind): \(served.text)")
            #expect(Self.sha(served.body) == Self.sha(payload), "\(kind.phoneKind): other bytes served")
            #expect(served.header("x-content-type-options") == "nosniff")
            #expect(served.header("content-disposition")?.hasPrefix("attachment") == true)
            let expectedType = kind.phoneKind == "document" ? "application/octet-stream" : kind.mimetype.split(separator: ";")[0]
            #expect(served.header("content-type") == String(expectedType))
            if kind.phoneKind == "document" {
                #expect(served.header("content-disposition") == "attachment; filename=\"report.pdf\"")
            }
        }
        await world.stop()
    }

    @Test func aTamperedBlobLeavesTheMessageStoredAndIsFetchedAgainOnDemand() async throws {
        let (world, id) = try await linked()
        try await world.simulator.injectMediaFault(.corruptDownload, count: 1)
        let payload = Self.bytes(20_000)
        let messageID = try await phoneSends(world, "image", payload, extra: ["mimetype": "image/jpeg"])
        let row = try await mediaRow(world, id, messageID) { $0.metadata?["media"]?["downloadError"] != nil }
        #expect(row.mediaPath == nil)
        #expect(row.metadata?["media"]?["downloadError"]?.stringValue?.contains("MAC") == true, "\(String(describing: row.metadata))")
        // The session carries on: the next message arrives and is stored.
        let next = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "still here")
        _ = try await mediaRow(world, id, next.id) { _ in true }
        // The host serves the good blob again: the route downloads it on demand.
        let served = try await mediaRoute(world, id, messageID)
        #expect(served.status == 200, "\(served.text)")
        #expect(Self.sha(served.body) == Self.sha(payload))
        let healed = try await mediaRow(world, id, messageID) { $0.mediaPath != nil }
        #expect(healed.metadata?["media"]?["downloadError"] == nil)
        await world.stop()
    }

    @Test func oversizedMediaIsRefusedAndUnknownMessagesHaveNoMedia() async throws {
        var limits = TestLimits()
        limits.media.maxBytes = 64 * 1_024
        var inbound = MediaArchive.Settings()
        inbound.maxBytes = 64 * 1_024
        let (world, id) = try await linked(inboundMedia: inbound, limits: limits)
        let big = try await post(
            world, id, "send-image",
            ["chatId": Self.bob, "base64": Data(Self.bytes(70_000)).base64EncodedString(), "mimetype": "image/png"])
        #expect(big.status == 413, "\(big.text)")
        // A phone's media over the cap: the message is stored, its media is not.
        let messageID = try await phoneSends(world, "video", Self.bytes(100_000), extra: ["mimetype": "video/mp4"])
        let row = try await mediaRow(world, id, messageID) { $0.metadata?["media"]?["downloadError"] != nil }
        #expect(row.type == "video")
        #expect(row.mediaPath == nil)
        #expect(row.metadata?["media"]?["downloadError"]?.stringValue?.contains("MEDIA_DOWNLOAD_MAX_BYTES") == true)
        for (messageID, chat) in [(messageID, "\(Self.bob)@c.us"), ("3EB0NOSUCHMESSAGE", "\(Self.bob)@c.us")] {
            let response = try await mediaRoute(world, id, messageID, chat: chat)
            #expect(response.status == 404, "\(response.text)")
            #expect(response.object["message"] as? String == "No media stored for this message")
        }
        // A text message has no media; a media message asked for under another chat is not found.
        let text = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "plain")
        _ = try await mediaRow(world, id, text.id) { _ in true }
        #expect(try await mediaRoute(world, id, text.id).status == 404)
        let small = try await phoneSends(world, "image", Self.bytes(1_000), extra: ["mimetype": "image/jpeg"])
        _ = try await mediaRow(world, id, small) { $0.mediaPath != nil }
        #expect(try await mediaRoute(world, id, small, chat: "15550109999@c.us").status == 404)
        #expect(try await mediaRoute(world, id, small).status == 200)
        await world.stop()
    }

    @Test func withDownloadsOffMediaIsFetchedWhenAskedFor() async throws {
        var inbound = MediaArchive.Settings()
        inbound.downloadEnabled = false
        let (world, id) = try await linked(inboundMedia: inbound)
        let payload = Self.bytes(5_000)
        let messageID = try await phoneSends(world, "audio", payload, extra: ["mimetype": "audio/ogg"])
        let marker = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "after the audio")
        _ = try await mediaRow(world, id, marker.id) { _ in true }
        let row = try await mediaRow(world, id, messageID) { _ in true }
        #expect(row.mediaPath == nil, "nothing is downloaded unasked")
        #expect(row.metadata?["media"]?["mimetype"]?.stringValue == "audio/ogg")
        let served = try await mediaRoute(world, id, messageID)
        #expect(served.status == 200, "\(served.text)")
        #expect(Self.sha(served.body) == Self.sha(payload))
        #expect(served.header("content-type") == "audio/ogg")
        await world.stop()
    }

    @Test func mediaInAGroupGoesBothWays() async throws {
        let (world, id) = try await linked()
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Pictures", members: [Self.alice]).id
        // Sent to the group: Bob's phone opens it from the sender-key message.
        let outgoing = Self.bytes(12_000)
        var sent: TestResponse?
        for _ in 0..<200 {
            sent = try await post(
                world, id, "send-image", ["chatId": group, "base64": Data(outgoing).base64EncodedString(), "mimetype": "image/jpeg"])
            if sent?.status == 201 { break }
            try await Task.sleep(for: .milliseconds(50))  // the group notification may still be on its way
        }
        #expect(sent?.status == 201, "\(sent?.text ?? "")")
        let entry = try await inboxEntry(world, Self.bob, try #require(sent?.object["messageId"] as? String))
        #expect(entry.encType == "skmsg")
        #expect(entry.media?.sha256 == Self.sha(outgoing))
        // From Bob's phone to the group: stored and served under the group's chat.
        let incoming = Self.bytes(9_000)
        let json = try JSONSerialization.data(withJSONObject: [
            "to": group, "kind": "document", "data": Data(incoming).base64EncodedString(), "mimetype": "text/plain",
            "fileName": "notes.txt",
        ])
        let messageID = try await world.simulator.sendMessage(from: Self.bob, json: Array(json)).id
        _ = try await mediaRow(world, id, messageID) { $0.mediaPath != nil }
        let served = try await mediaRoute(world, id, messageID, chat: group)
        #expect(served.status == 200, "\(served.text)")
        #expect(Self.sha(served.body) == Self.sha(incoming))
        await world.stop()
    }

    @Test func aFailedUploadIsA503AndStoresNothing() async throws {
        let (world, id) = try await linked()
        // Both the first host and the retry after a fresh media_conn are refused.
        try await world.simulator.injectMediaFault(.rejectUpload, count: 2)
        let refused = try await post(
            world, id, "send-image", ["chatId": Self.bob, "base64": Data(Self.bytes(2_000)).base64EncodedString(), "mimetype": "image/png"])
        #expect(refused.status == 503, "\(refused.text)")
        #expect((refused.object["message"] as? String)?.contains("Media upload failed") == true, "\(refused.text)")
        let rows = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?direction=outgoing")
        #expect(rows.object["total"] as? Int == 0, "\(rows.text)")
        #expect(try await world.simulator.inbox(of: Self.bob).isEmpty)
        let payload = Self.bytes(2_000)
        let sent = try await post(
            world, id, "send-image", ["chatId": Self.bob, "base64": Data(payload).base64EncodedString(), "mimetype": "image/png"])
        #expect(sent.status == 201, "\(sent.text)")
        let entry = try await inboxEntry(world, Self.bob, try #require(sent.object["messageId"] as? String))
        #expect(entry.media?.sha256 == Self.sha(payload))
        await world.stop()
    }
}
