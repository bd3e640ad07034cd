import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Media through the real binary and its default configuration (local storage under DATA_DIR,
/// downloads on): a phone's image is downloaded and served by the media route, and an image
/// sent through REST (JSON or a multipart form) reaches the phone intact.
@Suite(.timeLimit(.minutes(3))) struct GatewayMediaTests {
    static let key = "owa_k1_" + String(repeating: "cd", count: 32)
    static let alice = "15550004001"
    static let bob = "15550004002"

    @Test func mediaGoesBothWaysThroughTheBinary() async throws {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(Self.alice, pushName: "Alice")
        _ = try await simulator.createPhone(Self.bob, pushName: "Bob")
        var environment = GatewayProcess.simulatorEnvironment(simulator, key: Self.key)
        environment["BODY_SIZE_LIMIT"] = "100kb"
        let gateway = try GatewayProcess(environment: environment)
        defer { gateway.cleanUp() }
        let port = try await gateway.waitForPort()
        func request(_ method: String, _ path: String, _ body: String? = nil) async throws -> TestResponse {
            try #require(try await gateway.request(method, path, port: port, key: Self.key, body: body))
        }
        func wait(_ what: String, _ condition: () async throws -> Bool) async throws {
            for _ in 0..<1_000 {
                if try await condition() { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("timed out waiting for \(what)")
            throw CancellationError()
        }
        let id = try #require(try await request("POST", "/api/sessions", #"{"name":"media"}"#).object["id"] as? String)
        #expect(try await request("POST", "/api/sessions/\(id)/start").status == 200)
        try await wait("qr_ready") { try await request("GET", "/api/sessions/\(id)").object["status"] as? String == "qr_ready" }
        let qr = try await request("GET", "/api/sessions/\(id)/qr?format=raw")
        _ = try await simulator.scan(qr: try #require(qr.object["qr"] as? String), by: Self.alice)
        try await wait("ready") { try await request("GET", "/api/sessions/\(id)").object["status"] as? String == "ready" }
        try await wait("prekeys") { (try await simulator.companions(of: Self.alice).first?.preKeyCount ?? 0) > 0 }

        let picture = (0..<30_000).map { _ in UInt8.random(in: 0...255) }
        let body = #"{"to":"\#(Self.alice)","kind":"image","mimetype":"image/jpeg","data":"\#(Data(picture).base64EncodedString())"}"#
        let sent = try await simulator.sendMessage(from: Self.bob, json: Array(body.utf8))
        var served: TestResponse?
        try await wait("the image on the media route") {
            served = try await request("GET", "/api/sessions/\(id)/messages/\(Self.bob)@c.us/\(sent.id)/media")
            return served?.status == 200
        }
        #expect(served?.body == picture)
        #expect(served?.header("content-type") == "image/jpeg")

        let outgoing = (0..<10_000).map { _ in UInt8.random(in: 0...255) }
        let response = try await request(
            "POST", "/api/sessions/\(id)/messages/send-image",
            #"{"chatId":"\#(Self.bob)","mimetype":"image/png","base64":"\#(Data(outgoing).base64EncodedString())"}"#)
        #expect(response.status == 201, "\(response.text)")
        let messageID = try #require(response.object["messageId"] as? String)
        let received = try await simulator.inbox(of: Self.bob).first { $0.id == messageID }
        #expect(received?.media?.sha256 == Crypto.hex(Crypto.sha256(outgoing)))

        // The same as a multipart form, and a form over BODY_SIZE_LIMIT refused by the HTTP server
        // with OpenWA's error body before any route runs.
        func form(_ size: Int) -> (MultipartBody, [UInt8]) {
            let file = (0..<size).map { _ in UInt8.random(in: 0...255) }
            var form = MultipartBody()
            form.field("chatId", Self.bob)
            form.file(filename: "photo.jpg", contentType: "image/jpeg", file)
            form.close()
            return (form, file)
        }
        func post(_ form: MultipartBody) async throws -> TestResponse {
            try #require(
                try await blocking {
                    try LoopbackClient(port: port).request(
                        "POST", "/api/sessions/\(id)/messages/send-image",
                        headers: [("X-API-Key", Self.key), ("Content-Type", form.contentType)], bytes: form.bytes)
                })
        }
        let (small, smallFile) = form(50_000)
        let uploaded = try await post(small)
        #expect(uploaded.status == 201, "\(uploaded.text)")
        let uploadedID = try #require(uploaded.object["messageId"] as? String)
        try await wait("the form's image at the phone") { try await simulator.inbox(of: Self.bob).contains { $0.id == uploadedID } }
        let opened = try await simulator.inbox(of: Self.bob).first { $0.id == uploadedID }
        #expect(opened?.media?.sha256 == Crypto.hex(Crypto.sha256(smallFile)))
        #expect(opened?.media?.mimetype == "image/jpeg")
        let tooBig = try await post(form(110_000).0)
        #expect(tooBig.status == 413, "\(tooBig.text)")
        #expect(tooBig.object["statusCode"] as? Int == 413, "\(tooBig.text)")
        gateway.signal(SIGTERM)
        _ = try await gateway.waitForExit()
        await simulator.stop()
    }
}
