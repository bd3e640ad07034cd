import Engines
import Foundation
import WAProtocol
import Reactor
import Testing
import TestSupport

/// Every send route through REST with the browser engine on real Chromium; the fixture page
/// standing in for WhatsApp Web records what the bridge asked its modules to send.
///
/// Serialized: each test runs its own Chromium, and on a 2-core machine parallel launches only
/// slow each other down.
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: BrowserRESTWorld.enabled))
struct BrowserSendRouteTests {
    @Test func mediaOfEveryKindIsUploadedAndSentByteForByte() async throws {
        let world = try await BrowserRESTWorld.start()
        let (id, engine) = try await world.readySession()
        // Over one staging piece (768 KiB), so the file reaches the page in several.
        let photo = (0..<1_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let image = try await world.post(id, "send-image", [
            "chatId": "15550001111", "base64": Data(photo).base64EncodedString(), "mimetype": "image/jpeg",
            "caption": "look @15550002222", "mentions": ["15550002222"],
        ])
        #expect(image.status == 201, "\(image.text)")
        #expect((image.object["messageId"] as? String)?.hasPrefix("true_15550001111@c.us_") == true)
        var sent = try await world.lastSent(engine)
        #expect(sent["type"] == "image")
        #expect(sent["caption"] == "look @15550002222")
        #expect(sent["mimetype"] == "image/jpeg")
        #expect(sent["size"]?.intValue == photo.count)
        #expect(sent["filehash"]?.stringValue == Data(Crypto.sha256(photo)).base64EncodedString())
        #expect(sent["mentions"] == ["15550002222@c.us"])
        #expect(sent["clientUrl"]?.stringValue?.hasPrefix("https://mmg.whatsapp.net/") == true)

        let cases: [(route: String, body: [String: Any], type: String, mimetype: String)] = [
            ("send-video", ["mimetype": "video/mp4", "caption": "clip"], "video", "video/mp4"),
            ("send-audio", ["mimetype": "audio/mpeg"], "audio", "audio/mpeg"),
            ("send-audio", ["ptt": true], "ptt", "audio/ogg; codecs=opus"),
            ("send-document", ["mimetype": "application/pdf", "caption": "the report"], "document", "application/pdf"),
            ("send-sticker", ["mimetype": "image/webp"], "sticker", "image/webp"),
        ]
        for (index, item) in cases.enumerated() {
            let bytes = Array("file number \(index)".utf8)
            var body = item.body
            body["chatId"] = "15550001111@c.us"
            body["base64"] = Data(bytes).base64EncodedString()
            let response = try await world.post(id, item.route, body)
            #expect(response.status == 201, "\(item.route): \(response.text)")
            sent = try await world.lastSent(engine)
            #expect(sent["type"]?.stringValue == item.type, "\(item.route)")
            #expect(sent["mimetype"]?.stringValue == item.mimetype, "\(item.route)")
            #expect(sent["filehash"]?.stringValue == Data(Crypto.sha256(bytes)).base64EncodedString(), "\(item.route)")
        }
        let document = try await world.sent(engine, from: -2)
        #expect(document["filename"] == "file", "a document without a filename is named file")
        #expect(document["caption"] == "the report")
        #expect(sent["caption"] == .null, "a sticker carries no caption")
        #expect(try await engine.evaluate("__fake.uploads.length") == .number(Double(cases.count + 1)))
        await world.stop()
    }

    @Test func locationContactReplyAndReaction() async throws {
        let world = try await BrowserRESTWorld.start()
        let (id, engine) = try await world.readySession()
        let location = try await world.post(id, "send-location", [
            "chatId": "15550001111", "latitude": 52.52, "longitude": 13.405, "description": "Brandenburg Gate", "address": "Pariser Platz",
        ])
        #expect(location.status == 201, "\(location.text)")
        var sent = try await world.lastSent(engine)
        #expect(sent["type"] == "location")
        #expect(sent["lat"] == .number(52.52))
        #expect(sent["lng"] == .number(13.405))
        #expect(sent["loc"] == "Brandenburg Gate\nPariser Platz")

        let contact = try await world.post(id, "send-contact", ["chatId": "15550001111", "contactName": "Ann, Q", "contactNumber": "+1 555 000 3333"])
        #expect(contact.status == 201, "\(contact.text)")
        sent = try await world.lastSent(engine)
        #expect(sent["type"] == "vcard")
        #expect(sent["vcardFormattedName"] == "Ann, Q")
        #expect(sent["body"] == .string(MessageCodec.vCard(name: "Ann, Q", number: "+1 555 000 3333")))
        #expect(sent["body"]?.stringValue?.contains("FN:Ann\\, Q\nTEL;type=CELL;type=VOICE;waid=15550003333:+15550003333") == true)

        let incoming = try #require(try await engine.evaluate("__fake.incoming('quote me')").stringValue)
        let stanza = String(incoming.split(separator: "_").last ?? "")
        let reply = try await world.post(id, "reply", ["chatId": "15550001111", "quotedMessageId": incoming, "text": "quoted"])
        #expect(reply.status == 201, "\(reply.text)")
        sent = try await world.lastSent(engine)
        #expect(sent["body"] == "quoted")
        #expect(sent["quotedStanzaID"] == .string(stanza))
        let text = try await world.post(
            id, "send-text", ["chatId": "15550001111", "text": "hi @15550002222", "quotedMessageId": incoming, "mentions": ["15550002222@c.us"]])
        #expect(text.status == 201, "\(text.text)")
        sent = try await world.lastSent(engine)
        #expect(sent["quotedStanzaID"] == .string(stanza))
        #expect(sent["mentions"] == ["15550002222@c.us"])
        let quotedLocation = try await world.post(
            id, "send-location", ["chatId": "15550001111", "latitude": 1, "longitude": 2, "quotedMessageId": incoming])
        #expect(quotedLocation.status == 201)
        #expect(try await world.lastSent(engine)["quotedStanzaID"] == .string(stanza))

        let react = try await world.post(id, "react", ["chatId": "15550001111", "messageId": incoming, "emoji": "👍"])
        #expect(react.status == 200, "\(react.text)")
        #expect(react.object["success"] as? Bool == true)
        let unreact = try await world.post(id, "react", ["chatId": "15550001111", "messageId": incoming, "emoji": ""])
        #expect(unreact.status == 200, "an empty emoji removes the reaction")
        #expect(try await engine.evaluate("__fake.reactions") == [["messageId": .string(incoming), "emoji": "👍"], ["messageId": .string(incoming), "emoji": ""]])
        await world.stop()
    }

    @Test func unknownOrForeignMessagesAreRefusedWithoutSending() async throws {
        let world = try await BrowserRESTWorld.start()
        let (id, engine) = try await world.readySession()
        let elsewhere = try #require(try await engine.evaluate("__fake.incoming('other chat', '15559999999@c.us')").stringValue)
        let sentBefore = try await engine.evaluate("__fake.sent.length")
        let attempts: [(String, [String: Any])] = [
            ("reply", ["chatId": "15550001111", "quotedMessageId": "true_15550001111@c.us_NOPE", "text": "x"]),
            ("reply", ["chatId": "15550001111", "quotedMessageId": elsewhere, "text": "x"]),
            ("send-image", ["chatId": "15550001111", "base64": "AAAA", "mimetype": "image/png", "quotedMessageId": "nope"]),
            ("react", ["chatId": "15550001111", "messageId": elsewhere, "emoji": "👍"]),
        ]
        for (route, body) in attempts {
            let response = try await world.post(id, route, body)
            #expect(response.status == 404, "\(route): \(response.text)")
            #expect((response.object["message"] as? String)?.contains("not found") == true)
        }
        // A ready-made link preview is the native engine's; WhatsApp Web builds its own (OpenWA: 501).
        let custom = try await world.post(
            id, "send-text",
            ["chatId": "15550001111", "text": "https://shop.test/x", "customLinkPreview": ["url": "https://shop.test/x", "title": "X"]])
        #expect(custom.status == 501, "\(custom.text)")
        #expect(try await engine.evaluate("__fake.sent.length") == sentBefore)
        #expect(try await engine.evaluate("__fake.uploads.length") == 0, "a bad quote is caught before any upload")
        #expect(try await engine.evaluate("__fake.reactions.length") == 0)
        // `linkPreview: true` is accepted; the page builds the preview, the gateway fetches nothing.
        let previewed = try await world.post(id, "send-text", ["chatId": "15550001111", "text": "https://shop.test/x", "linkPreview": true])
        #expect(previewed.status == 201, "\(previewed.text)")
        #expect(try await world.lastSent(engine)["body"] == "https://shop.test/x")
        await world.stop()
    }

    @Test func mediaByURLIsFetchedThroughTheSSRFGuardUnderTheCap() async throws {
        let picture = Array(repeating: UInt8(0xAB), count: 40_000)
        let files = try await MediaFileServer.start([
            "cat.png": .init(bytes: picture, contentType: "image/png; charset=binary"),
            "big.bin": .init(bytes: Array(repeating: 1, count: 70_000), contentType: "application/octet-stream"),
        ])
        var media = MediaDownloader.Settings()
        media.maxBytes = 64 * 1_024
        // Loopback is internal: only the allow list lets the test's file server through.
        media.urlPolicy = WebhookURLPolicy(protect: true, allowedHosts: ["127.0.0.1"])
        let world = try await BrowserRESTWorld.start(media: media)
        let (id, engine) = try await world.readySession()

        let fetched = try await world.post(id, "send-image", ["chatId": "15550001111", "url": files.url("cat.png")])
        #expect(fetched.status == 201, "\(fetched.text)")
        let sent = try await world.lastSent(engine)
        #expect(sent["mimetype"] == "image/png")
        #expect(sent["filehash"]?.stringValue == Data(Crypto.sha256(picture)).base64EncodedString())
        let document = try await world.post(id, "send-document", ["chatId": "15550001111", "url": files.url("cat.png")])
        #expect(document.status == 201)
        #expect(try await world.lastSent(engine)["filename"] == "cat.png", "the URL's last segment names a document")

        let big = try await world.post(id, "send-document", ["chatId": "15550001111", "url": files.url("big.bin")])
        #expect(big.status == 413, "\(big.text)")
        let missing = try await world.post(id, "send-image", ["chatId": "15550001111", "url": files.url("nothing.png")])
        #expect(missing.status == 400, "\(missing.text)")
        let loopback = try await world.post(id, "send-image", ["chatId": "15550001111", "url": "http://[::1]:\(files.port)/cat.png"])
        #expect(loopback.status == 400, "\(loopback.text)")
        #expect((loopback.object["message"] as? String)?.contains("SSRF") == true)
        let largeBase64 = try await world.post(
            id, "send-image", ["chatId": "15550001111", "base64": Data(Array(repeating: 2, count: 70_000)).base64EncodedString(), "mimetype": "image/png"])
        #expect(largeBase64.status == 413, "the cap applies to decoded base64 too: \(largeBase64.text)")
        await world.stop()
        await files.stop()
    }
}

extension BrowserRESTWorld {
    func post(_ session: String, _ route: String, _ body: [String: Any]) async throws -> TestResponse {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        return try await gateway.request("POST", "/api/sessions/\(session)/messages/\(route)", body: json)
    }

    /// What the fixture recorded for the last message the bridge sent.
    func lastSent(_ engine: BrowserEngine) async throws -> JSONValue {
        try await sent(engine, from: -1)
    }

    /// A recorded message counted from the end (-1 is the last).
    func sent(_ engine: BrowserEngine, from end: Int) async throws -> JSONValue {
        try await engine.evaluate("__fake.sent.at(\(end))")
    }
}
