import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Link previews on send-text (reference 2.5 and 9.3) through REST, the native engine and a
/// simulated phone: `linkPreview: true` has the gateway fetch the page through the SSRF guard,
/// `customLinkPreview` is sent as given, and a preview that cannot be built never fails the send.
@Suite(.timeLimit(.minutes(2))) struct LinkPreviewRouteTests {
    static let alice = "15550100031"
    static let bob = "15550100032"

    static let thumbnail: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + (0..<3_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    static let page = """
        <!doctype html><html><head>
        <title>Fallback title</title>
        <script>document.write('<meta property="og:title" content="not this">')</script>
        <meta property="og:title" content="Caf&#233; &amp; Co &#x2014; the menu">
        <meta name='og:description' content='Fresh bread,
          every morning'>
        <meta property="og:image" content="/thumb.jpg">
        </head><body><p>menu</p></body></html>
        """
    static let titleOnly = "<html><head><TITLE>\n Just a  title </TITLE><meta property=og:image content=big.jpg></head></html>"

    private func linked(_ policy: WebhookURLPolicy) async throws -> (LinkWorld, String) {
        var limits = TestLimits()
        limits.media.urlPolicy = policy
        let world = try await LinkWorld.start(.sqlite, phones: [Self.alice, Self.bob], limits: limits)
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: Self.alice)
        try await world.waitForPreKeys(of: Self.alice)
        return (world, id)
    }

    private func files() async throws -> MediaFileServer {
        try await MediaFileServer.start([
            "page.html": .init(bytes: Array(Self.page.utf8), contentType: "text/html; charset=utf-8"),
            "thumb.jpg": .init(bytes: Self.thumbnail, contentType: "image/jpeg"),
            "title.html": .init(bytes: Array(Self.titleOnly.utf8), contentType: "text/html"),
            "big.jpg": .init(bytes: [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 9, count: 70_000), contentType: "image/jpeg"),
            "data.json": .init(bytes: Array(#"{"title":"no"}"#.utf8), contentType: "application/json"),
        ])
    }

    /// Sends a text and answers what Bob's phone got.
    private func send(_ world: LinkWorld, _ id: String, _ body: [String: Any]) async throws -> PhoneMessage? {
        var body = body
        body["chatId"] = Self.bob
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let response = try await world.gateway.request("POST", "/api/sessions/\(id)/messages/send-text", body: json)
        #expect(response.status == 201, "\(response.text)")
        guard let messageID = response.object["messageId"] as? String else { return nil }
        for _ in 0..<1_000 {
            if let entry = try await world.simulator.inbox(of: Self.bob).first(where: { $0.id == messageID }) { return entry }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("Bob never received \(messageID)")
        return nil
    }

    @Test func aFetchedPreviewCarriesTheOpenGraphTagsAndASmallJPEG() async throws {
        let files = try await files()
        let (world, id) = try await linked(WebhookURLPolicy(protect: true, allowedHosts: ["127.0.0.1"]))
        let url = files.url("page.html")
        let text = "Lunch? See \(url)."
        let full = try #require(try await send(world, id, ["text": text, "linkPreview": true]))
        #expect(full.body == text)
        let preview = try #require(full.linkPreview)
        #expect(full.mediaType == "url", "a preview's enc is marked as one")
        #expect(preview.matchedText == url)
        #expect(preview.title == "Café & Co — the menu")
        #expect(preview.description == "Fresh bread, every morning")
        #expect(preview.jpegThumbnail == Data(Self.thumbnail).base64EncodedString())
        // No og:title: the <title>; an og:image over the thumbnail cap is left out.
        let plain = try #require(try await send(world, id, ["text": files.url("title.html"), "linkPreview": true]))
        #expect(plain.linkPreview?.title == "Just a title")
        #expect(plain.linkPreview?.description == nil)
        #expect(plain.linkPreview?.jpegThumbnail == nil)
        // What cannot be previewed goes as the text alone: a missing page, a page that is not
        // HTML, no link at all, or no preview asked for.
        for body: [String: Any] in [
            ["text": "gone: \(files.url("missing.html"))", "linkPreview": true],
            ["text": "data \(files.url("data.json"))", "linkPreview": true],
            ["text": "no link here", "linkPreview": true],
            ["text": "not asked \(url)"],
        ] {
            let entry = try #require(try await send(world, id, body))
            #expect(entry.body == body["text"] as? String)
            #expect(entry.linkPreview == nil, "\(body)")
            #expect(entry.mediaType == nil, "\(body)")
        }
        await files.stop()
        await world.stop()
    }

    @Test func aBlockedURLStillSendsTheTextAndACustomPreviewIsSentAsGiven() async throws {
        let files = try await files()
        // The default guard: loopback is internal, so the page is never fetched.
        let (world, id) = try await linked(WebhookURLPolicy(protect: true))
        let blocked = try #require(try await send(world, id, ["text": "see \(files.url("page.html"))", "linkPreview": true]))
        #expect(blocked.body == "see \(files.url("page.html"))")
        #expect(blocked.linkPreview == nil)
        // A custom preview needs no fetch (this host would not even resolve).
        let custom = try #require(
            try await send(
                world, id,
                [
                    "text": "ours: https://shop.invalid/item", "linkPreview": true,
                    "customLinkPreview": ["url": "https://shop.invalid/item", "title": "The item", "description": "On sale"],
                ]))
        #expect(custom.linkPreview?.matchedText == "https://shop.invalid/item")
        #expect(custom.linkPreview?.title == "The item")
        #expect(custom.linkPreview?.description == "On sale")
        #expect(custom.linkPreview?.jpegThumbnail == nil)
        // A custom preview without its title is a 400, and nothing is sent.
        let before = try await world.simulator.inbox(of: Self.bob).count
        let invalid = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text",
            body: #"{"chatId":"\#(Self.bob)","text":"x","customLinkPreview":{"url":"https://a.invalid"}}"#)
        #expect(invalid.status == 400, "\(invalid.text)")
        #expect(invalid.text.contains("customLinkPreview.title"))
        let notObject = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"\#(Self.bob)","text":"x","customLinkPreview":"yes"}"#)
        #expect(notObject.status == 400, "\(notObject.text)")
        #expect(try await world.simulator.inbox(of: Self.bob).count == before)
        await files.stop()
        await world.stop()
    }
}
