import Engines
import Foundation
import Reactor
import Simulator
import Testing
import TestSupport

/// Media sends as `multipart/form-data` over real sockets: the file part reaches the phone intact
/// with the fields the other parts carry; malformed bodies are 400s with OpenWA's error body, and
/// a file over `MEDIA_DOWNLOAD_MAX_BYTES` is a 413.
@Suite(.timeLimit(.minutes(3))) struct MultipartSendTests {
    static let alice = "15550100051"
    static let bob = "15550100052"
    static var bobChat: String { "\(bob)@c.us" }

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }
    static func sha(_ bytes: [UInt8]) -> String { Crypto.hex(Crypto.sha256(bytes)) }

    private func post(_ world: LinkWorld, _ id: String, _ route: String, _ form: MultipartBody) async throws -> TestResponse {
        try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/\(route)", headers: [("Content-Type", form.contentType)], bytes: form.bytes)
    }

    @Test func mediaSentAsAFormReachesThePhoneIntact() async throws {
        let (world, id) = try await LinkWorld.linkedForMedia(.sqlite, storage: nil, phones: [Self.alice, Self.bob])
        // The file holds what looks like framing: only the real delimiter may end it.
        var picture = Self.bytes(40_000)
        picture.replaceSubrange(1_000..<1_000, with: Array("\r\n--not-the-boundary\r\n\r\n".utf8))
        var form = MultipartBody()
        form.field("chatId", Self.bob)
        form.field("caption", "from a form")
        form.file(filename: "cat.png", contentType: "image/png", picture)
        form.close()
        let sent = try await post(world, id, "send-image", form)
        #expect(sent.status == 201, "\(sent.text)")
        let image = try await world.inboxEntry(Self.bob, try #require(sent.object["messageId"] as? String))
        #expect(image.media?.sha256 == Self.sha(picture), "the phone opened other bytes")
        #expect(image.media?.mimetype == "image/png")
        #expect(image.media?.caption == "from a form")
        // The file part's name is the document's; a `mimetype` field beats the part's type.
        let pdf = Self.bytes(5_000)
        var document = MultipartBody()
        document.field("chatId", Self.bobChat)
        document.field("mimetype", "application/pdf")
        document.file(filename: "report.pdf", contentType: "application/octet-stream", pdf)
        document.close()
        let sentDocument = try await post(world, id, "send-document", document)
        #expect(sentDocument.status == 201, "\(sentDocument.text)")
        let received = try await world.inboxEntry(Self.bob, try #require(sentDocument.object["messageId"] as? String))
        #expect(received.media?.fileName == "report.pdf")
        #expect(received.media?.mimetype == "application/pdf")
        #expect(received.media?.sha256 == Self.sha(pdf))
        // A voice note: `ptt` as text, mentions both ways, a generic part type.
        let voice = Self.bytes(3_000)
        var note = MultipartBody()
        note.field("chatId", Self.bobChat)
        note.field("ptt", "true")
        note.field("mentions", #"["\#(Self.bob)"]"#)
        note.field("mentions", "15550100059")
        note.file(filename: "note.ogg", contentType: "application/octet-stream", voice)
        note.close()
        let sentNote = try await post(world, id, "send-audio", note)
        #expect(sentNote.status == 201, "\(sentNote.text)")
        let heard = try await world.inboxEntry(Self.bob, try #require(sentNote.object["messageId"] as? String))
        #expect(heard.media?.kind == "ptt")
        #expect(heard.media?.mimetype == "audio/ogg; codecs=opus")
        #expect(heard.media?.sha256 == Self.sha(voice))
        await world.stop()
    }

    @Test func malformedFormsAreRefusedWithOpenWAsErrorBody() async throws {
        var limits = TestLimits()
        limits.media.maxBytes = 16 * 1_024
        let (world, id) = try await LinkWorld.linkedForMedia(.sqlite, storage: nil, phones: [Self.alice, Self.bob], limits: limits)
        let path = "/api/sessions/\(id)/messages/send-image"
        var good = MultipartBody(boundary: "b0undary")
        good.field("chatId", Self.bob)
        good.file(filename: "a.png", contentType: "image/png", Self.bytes(100))
        good.close()
        var noFile = MultipartBody()
        noFile.field("chatId", Self.bob)
        noFile.close()
        var unknown = MultipartBody()
        unknown.field("chatId", Self.bob)
        unknown.field("base64", "AAAA")
        unknown.file(filename: "a.png", contentType: "image/png", Self.bytes(10))
        unknown.close()
        var nameless = MultipartBody(boundary: "xyz")
        nameless.append("--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xyz--\r\n")
        let unclosed = Array(good.bytes.dropLast(12))
        let cases: [(String, String, [UInt8], String)] = [
            ("no boundary", "multipart/form-data", good.bytes, "boundary"),
            ("wrong boundary", "multipart/form-data; boundary=other", good.bytes, "no part starts with the boundary"),
            ("no closing delimiter", good.contentType, unclosed, "closing boundary"),
            ("a part without a name", nameless.contentType, nameless.bytes, "no Content-Disposition name"),
            ("no file part", noFile.contentType, noFile.bytes, "file should not be empty"),
            ("a JSON-only field", unknown.contentType, unknown.bytes, "property base64 should not exist"),
        ]
        for (what, contentType, body, reason) in cases {
            let response = try await world.gateway.request("POST", path, headers: [("Content-Type", contentType)], bytes: body)
            #expect(response.status == 400, "\(what): \(response.text)")
            #expect(response.object["statusCode"] as? Int == 400, "\(what): \(response.text)")
            #expect(response.object["error"] as? String == "Bad Request", "\(what): \(response.text)")
            #expect(response.text.contains(reason), "\(what): \(response.text)")
        }
        // A file over MEDIA_DOWNLOAD_MAX_BYTES.
        var big = MultipartBody()
        big.field("chatId", Self.bob)
        big.file(filename: "big.png", contentType: "image/png", Self.bytes(16 * 1_024 + 1))
        big.close()
        let refused = try await world.gateway.request("POST", path, headers: [("Content-Type", big.contentType)], bytes: big.bytes)
        #expect(refused.status == 413, "\(refused.text)")
        #expect(refused.object["statusCode"] as? Int == 413)
        #expect((refused.object["message"] as? String)?.contains("MEDIA_DOWNLOAD_MAX_BYTES") == true, "\(refused.text)")
        // Nothing reached the phone, and the well-formed body still works.
        #expect(try await world.simulator.inbox(of: Self.bob).isEmpty)
        let sent = try await world.gateway.request("POST", path, headers: [("Content-Type", good.contentType)], bytes: good.bytes)
        #expect(sent.status == 201, "\(sent.text)")
        // RFC 2046 leeway: a quoted boundary, a preamble, padding after a delimiter, an epilogue.
        let file = Self.bytes(500)
        var lenient = MultipartBody(boundary: "a b")
        lenient.append("preamble to skip\r\n")
        lenient.field("chatId", Self.bob)
        lenient.append("--a b  \r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\photos\\x.png\"\r\n\r\n")
        lenient.bytes += file
        lenient.append("\r\n--a b--\r\nepilogue")
        let accepted = try await world.gateway.request(
            "POST", path, headers: [("Content-Type", #"multipart/form-data; charset=utf-8; boundary="a b""#)], bytes: lenient.bytes)
        #expect(accepted.status == 201, "\(accepted.text)")
        let entry = try await world.inboxEntry(Self.bob, try #require(accepted.object["messageId"] as? String))
        #expect(entry.media?.sha256 == Self.sha(file))
        #expect(entry.media?.mimetype == "application/octet-stream", "a part without a type")
        await world.stop()
    }
}
