import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// The size, length and preview media messages carry, both ways through the native engine and
/// the simulator: what the gateway reads from a file it sends (and the preview it makes of a
/// JPEG), the receiving phone finds in the message; what a phone's message says, the gateway
/// keeps under the row's `metadata.media`.
@Suite(.timeLimit(.minutes(3))) struct MediaMetadataRouteTests {
    static let alice = "15550100031"
    static let bob = "15550100032"

    /// A send route, its file and what the phone must read back from the message.
    struct Send: Sendable {
        var route: String
        var ptt = false
        var kind: String
        var mimetype: String
        var file: [UInt8]
        var width: UInt32?
        var height: UInt32?
        var seconds: UInt32?
        /// A sticker's animation flag, read from its WebP header.
        var isAnimated: Bool?
        /// The preview's size, when the file is a JPEG the gateway can decode.
        var thumbnail: [UInt32]?
    }

    static let sends: [Send] = [
        // A portrait photo stored on its side: the phone gets the displayed size, and a preview
        // turned the same way.
        Send(
            route: "send-image", kind: "image", mimetype: "image/jpeg",
            file: MediaSamples.decodableJPEG(width: 1600, height: 1200, orientation: 6) { x, y in UInt8((x + y) % 256) },
            width: 1200, height: 1600, thumbnail: [75, 100]),
        // Headers without decodable data: the size still goes, the send does not fail for want of a preview.
        Send(
            route: "send-image", kind: "image", mimetype: "image/jpeg",
            file: MediaSamples.jpeg(width: 4032, height: 3024, orientation: 6), width: 3024, height: 4032),
        Send(route: "send-image", kind: "image", mimetype: "image/png", file: MediaSamples.png(width: 300, height: 200), width: 300, height: 200),
        Send(
            route: "send-video", kind: "video", mimetype: "video/mp4",
            file: MediaSamples.mp4(milliseconds: 14_600, width: 1280, height: 720, moov: .last), width: 1280, height: 720, seconds: 15),
        Send(
            route: "send-audio", ptt: true, kind: "ptt", mimetype: "audio/ogg; codecs=opus",
            file: MediaSamples.oggOpus(milliseconds: 4_000), seconds: 4),
        Send(route: "send-audio", kind: "audio", mimetype: "audio/mpeg", file: MediaSamples.mp3(frames: 383, header: .info), seconds: 10),
        Send(
            route: "send-sticker", kind: "sticker", mimetype: "image/webp", file: MediaSamples.webp(width: 512, height: 512, .extended),
            width: 512, height: 512, isAnimated: false),
        Send(
            route: "send-sticker", kind: "sticker", mimetype: "image/webp", file: MediaSamples.webp(width: 512, height: 512, .animated),
            width: 512, height: 512, isAnimated: true),
        // A document says nothing of its size, and a file the probe cannot read leaves the fields out.
        Send(route: "send-document", kind: "document", mimetype: "application/pdf", file: MediaSamples.png(width: 10, height: 10)),
        Send(route: "send-video", kind: "video", mimetype: "video/mp4", file: Array("not a movie at all".utf8)),
    ]

    /// Each file as base64 (read in memory) and by URL (spooled to a file, read from there).
    @Test(arguments: [false, true])
    func thePhoneReadsTheSizeAndLengthOfEveryKindSentThroughREST(byURL: Bool) async throws {
        var limits = TestLimits()
        limits.media.urlPolicy = WebhookURLPolicy(protect: true, allowedHosts: ["127.0.0.1"])
        let (world, id) = try await LinkWorld.linkedForMedia(.sqlite, storage: nil, phones: [Self.alice, Self.bob], limits: limits)
        let files = try await MediaFileServer.start(
            Dictionary(uniqueKeysWithValues: Self.sends.enumerated().map { ("\($0)", MediaFileServer.File(bytes: $1.file, contentType: $1.mimetype)) }))
        for (index, send) in Self.sends.enumerated() {
            var body: [String: Any] = ["chatId": "\(Self.bob)@c.us", "mimetype": send.mimetype]
            if byURL { body["url"] = files.url("\(index)") } else { body["base64"] = Data(send.file).base64EncodedString() }
            if send.ptt { body["ptt"] = true }
            if send.kind == "document" { body["filename"] = "scan.pdf" }
            let response = try await world.postJSON(id, send.route, body)
            #expect(response.status == 201, "\(send.kind): \(response.text)")
            let messageID = try #require(response.object["messageId"] as? String)
            let media = try #require(try await world.inboxEntry(Self.bob, messageID).media, "\(send.kind) arrived without media")
            #expect(media.error == nil, "\(send.kind): \(media.error ?? "")")
            #expect(media.kind == send.kind)
            #expect(media.width == send.width && media.height == send.height, "\(send.kind): \(media)")
            #expect(media.seconds == send.seconds, "\(send.kind): \(media)")
            #expect(media.isAnimated == send.isAnimated, "\(send.kind): \(media)")
            #expect(media.hasThumbnail == (send.thumbnail != nil), "\(send.kind): \(media)")
            if let thumbnail = send.thumbnail {
                #expect([media.thumbnailWidth, media.thumbnailHeight] == thumbnail, "\(media)")
            }
            // The sent row keeps the same facts.
            let stored = try await world.mediaRow(id, messageID) { _ in true }.metadata?["media"]
            #expect(stored?["width"]?.numberValue == send.width.map(Double.init), "\(send.kind)")
            #expect(stored?["height"]?.numberValue == send.height.map(Double.init), "\(send.kind)")
            #expect(stored?["seconds"]?.numberValue == send.seconds.map(Double.init), "\(send.kind)")
            #expect(stored?["isAnimated"]?.boolValue == send.isAnimated, "\(send.kind)")
        }
        // The admin API shows the same: the photo's entry, as JSON.
        let inbox = try #require(
            try await LoopbackClient.oneShot(port: world.simulator.adminPort, "GET", "/admin/phones/\(Self.bob)/inbox"))
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(inbox.body)) as? [[String: Any]])
        let photo = try #require(entries.compactMap { $0["media"] as? [String: Any] }.first { $0["hasThumbnail"] as? Bool == true })
        #expect(photo["width"] as? Int == 1200 && photo["height"] as? Int == 1600, "\(photo)")
        #expect(photo["thumbnailWidth"] as? Int == 75 && photo["thumbnailHeight"] as? Int == 100, "\(photo)")
        await files.stop()
        await world.stop()
    }

    @Test func whatAPhoneSaysOfItsMediaIsStoredUnderMetadataMedia() async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(.sqlite, storage: nil, phones: [Self.alice, Self.bob])
        typealias Case = (kind: String, mimetype: String, file: [UInt8], width: Double?, height: Double?, seconds: Double?, animated: Bool?)
        let cases: [Case] = [
            ("image", "image/gif", MediaSamples.gif(width: 480, height: 270), 480, 270, nil, nil),
            ("video", "video/mp4", MediaSamples.mp4(milliseconds: 61_000, width: 720, height: 1280, version1: true), 720, 1280, 61, nil),
            ("ptt", "audio/ogg; codecs=opus", MediaSamples.oggOpus(milliseconds: 9_000), nil, nil, 9, nil),
            ("sticker", "image/webp", MediaSamples.webp(width: 512, height: 380, .lossless), 512, 380, nil, false),
            ("sticker", "image/webp", MediaSamples.webp(width: 512, height: 512, .animated), 512, 512, nil, true),
        ]
        for item in cases {
            let body: [String: Any] = [
                "to": Self.alice, "kind": item.kind, "data": Data(item.file).base64EncodedString(), "mimetype": item.mimetype,
            ]
            let json = try JSONSerialization.data(withJSONObject: body)
            let messageID = try await world.simulator.sendMessage(from: Self.bob, json: Array(json)).id
            // Downloaded in the background; the facts are there from the first write and stay.
            let row = try await world.mediaRow(id, messageID) { $0.mediaPath != nil }
            let media = row.metadata?["media"]
            #expect(media?["width"]?.numberValue == item.width, "\(item.kind): \(String(describing: media))")
            #expect(media?["height"]?.numberValue == item.height, "\(item.kind)")
            #expect(media?["seconds"]?.numberValue == item.seconds, "\(item.kind)")
            #expect(media?["mimetype"]?.stringValue == item.mimetype)
            #expect(media?["isAnimated"]?.boolValue == item.animated, "\(item.kind)")
        }
        await world.stop()
    }
}
