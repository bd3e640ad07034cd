import Engines
import Foundation
import WAProtocol
import Testing
import TestSupport

/// The send routes' DTO checks: OpenWA's 400 bodies (every message of a body at once), the
/// media cap (413), and the whitelist. Validation runs before any session or engine is asked,
/// so no engine is needed here.
@Suite(.timeLimit(.minutes(1)))
struct MessageSendValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let route: String
        let body: String
        let messages: [String]
        init(_ route: String, _ body: String, _ messages: [String]) {
            self.route = route
            self.body = body
            self.messages = messages
        }
        var testDescription: String { "\(route) \(body.prefix(60))" }
    }

    static let cases: [Case] = [
        Case("send-image", #"{}"#, ["chatId should not be empty", "either url or base64 must be provided"]),
        Case("send-image", #"{"chatId":"1","url":"https://x.test/a.png","base64":"AAAA"}"#, ["only one of url or base64 may be provided"]),
        Case("send-image", #"{"chatId":"1","url":"ftp://x.test/a.png"}"#, ["url must be a URL address"]),
        Case("send-image", #"{"chatId":1,"base64":"AAAA","mimetype":"image/png","caption":7}"#, ["chatId must be a string", "caption must be a string"]),
        Case("send-image", #"{"chatId":"1","base64":"AAAA","mimetype":"image/png","mentions":"1555"}"#, ["mentions must be an array"]),
        Case("send-image", #"{"chatId":"1","base64":"AAAA","mimetype":"image/png","mentions":[1]}"#, ["each value in mentions must be a string"]),
        Case("send-image", #"{"chatId":"1","base64":"AAAA"}"#, ["mimetype should not be empty when base64 is given"]),
        Case("send-image", #"{"chatId":"1","base64":"not base64!","mimetype":"image/png"}"#, ["base64 must be base64 encoded"]),
        Case("send-image", #"{"chatId":"1","base64":"AAAA","mimetype":"image/png","ptt":true}"#, ["property ptt should not exist"]),
        Case("send-audio", #"{"chatId":"1","base64":"AAAA","ptt":"yes","mimetype":"audio/mpeg"}"#, ["ptt must be a boolean value"]),
        Case("send-document", #"{"chatId":"1","base64":"AAAA","mimetype":"application/pdf","filename":"\#(String(repeating: "f", count: 256))"}"#,
         ["filename must be shorter than or equal to 255 characters"]),
        Case("send-video", #"{"chatId":"1","base64":"AAAA","mimetype":"video/mp4","caption":"\#(String(repeating: "c", count: 1_025))"}"#,
         ["caption must be shorter than or equal to 1024 characters"]),
        Case("send-location", #"{"chatId":"1","latitude":91,"longitude":-181}"#,
         ["latitude must not be greater than 90", "longitude must not be less than -180"]),
        Case("send-location", #"{"chatId":"1","latitude":"north"}"#,
         ["latitude must be a number conforming to the specified constraints", "longitude must be a number conforming to the specified constraints"]),
        Case("send-contact", #"{"chatId":"1","contactName":"","contactNumber":"\#(String(repeating: "1", count: 31))"}"#,
         ["contactName should not be empty", "contactNumber must be shorter than or equal to 30 characters"]),
        Case("reply", #"{"chatId":"1","text":"x"}"#, ["quotedMessageId should not be empty"]),
        Case("reply", #"{"chatId":"1","quotedMessageId":"m","text":""}"#, ["text should not be empty"]),
        Case("react", #"{"chatId":"1","messageId":"m"}"#, ["emoji must be a string"]),
        Case("react", #"{"chatId":"1","messageId":"m","emoji":"\#(String(repeating: "x", count: 33))"}"#,
         ["emoji must be shorter than or equal to 32 characters"]),
        Case("send-text", #"{"chatId":"1","text":"x","mentions":"1555"}"#, ["mentions must be an array"]),
        Case("send-text", #"{"chatId":"1","text":"x","quotedMessageId":5}"#, ["quotedMessageId must be a string"]),
    ]

    @Test(arguments: cases)
    func badBodiesGetEveryMessage(_ bad: Case) async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("POST", "/api/sessions/any/messages/\(bad.route)", body: bad.body)
        #expect(response.status == 400, "\(response.text)")
        #expect(response.object["message"] as? [String] == bad.messages)
        await gateway.stop()
    }

    @Test func mediaOverTheCapIsRefusedBeforeAnyEngineIsAsked() async throws {
        var limits = TestLimits()
        limits.media.maxBytes = 1_024
        let gateway = try await TestGateway.start(limits: limits)
        let over = Data(repeating: 7, count: 1_025).base64EncodedString()
        let response = try await gateway.request(
            "POST", "/api/sessions/any/messages/send-image", body: #"{"chatId":"1","base64":"\#(over)","mimetype":"image/png"}"#)
        #expect(response.status == 413, "\(response.text)")
        #expect(response.object["error"] as? String == "Payload Too Large")
        let atCap = Data(repeating: 7, count: 1_024).base64EncodedString()
        let fits = try await gateway.request(
            "POST", "/api/sessions/any/messages/send-image", body: #"{"chatId":"1","base64":"data:image/png;base64,\#(atCap)"}"#)
        #expect(fits.status == 404, "at the cap the body is fine, and a data URL gives the type; then the session is unknown: \(fits.text)")
        await gateway.stop()
    }

    @Test func mediaURLIsNotFetchedForASessionThatCannotSend() async throws {
        let gateway = try await TestGateway.start()
        let unknown = try await gateway.request(
            "POST", "/api/sessions/any/messages/send-image", body: #"{"chatId":"1","url":"https://media.invalid/a.png"}"#)
        #expect(unknown.status == 404, "the session is checked before the URL is resolved: \(unknown.text)")
        let created = try await gateway.request("POST", "/api/sessions", body: #"{"name":"idle"}"#)
        let id = try #require(created.object["id"] as? String)
        let idle = try await gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-image", body: #"{"chatId":"1","url":"https://media.invalid/a.png"}"#)
        #expect(idle.status == 400)
        #expect(idle.object["message"] as? String == "Session is not ready")
        await gateway.stop()
    }

    @Test func contactCardIsAVCardWithAnEscapedNameAndTheNumbersDigits() {
        let card = MessageCodec.vCard(name: "Doe; John\nJr", number: "+44 (20) 7946-0018")
        #expect(card == "BEGIN:VCARD\nVERSION:3.0\nFN:Doe\\; John\\nJr\nTEL;type=CELL;type=VOICE;waid=442079460018:+442079460018\nEND:VCARD")
    }
}
