import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// The simulator's media host over HTTPS on the chat listener, driven by the project's HTTP
/// client with the simulator's CA: uploads need the `media_conn` auth token and a token that is
/// the blob's SHA-256; downloads serve the blob back by its direct path.
@Suite(.timeLimit(.minutes(1))) struct SimulatorMediaHostTests {
    @Test func uploadsAreCheckedAndServedBackByDirectPath() async throws {
        let fixture = try SimFixture.start()
        let tls = try TLSContext(clientTrusting: fixture.simulator.caFile)
        let client = try await fixture.handle.submit { reactor in
            var configuration = HTTPClient.Configuration()
            configuration.tls = tls
            return SharedHTTPClient(reactor: reactor, configuration: configuration)
        }
        let host = try await fixture.simulator.mediaHost()
        #expect(host.hostname == "localhost:\(fixture.simulator.port)")
        #expect(host.blobs == 0)
        let (blob, digests) = try MediaEncryptor.encrypt(
            (0..<5_000).map { _ in UInt8.random(in: 0...255) }, mediaKey: try MediaKeys.generateMediaKey(), kind: .image)
        let token = Data(digests.fileEncSHA256).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
        func send(_ method: String, _ target: String, body: [UInt8] = []) async throws -> HTTPClientResponse {
            try await client.execute(
                HTTPClientRequest(
                    method: method, host: "localhost", port: fixture.simulator.port, target: target, body: body, isSecure: true))
        }
        let auth = host.auth.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? host.auth
        #expect(try await send("POST", "/mms/image/\(token)?auth=wrong&token=\(token)", body: blob).status == 401)
        var other = blob
        other[0] ^= 1
        #expect(try await send("POST", "/mms/image/\(token)?auth=\(auth)&token=\(token)", body: other).status == 400)
        // Padded (whatsmeow) and unpadded (Baileys) tokens are both accepted.
        let padded = token.replacingOccurrences(of: "=", with: "%3D")
        let unpadded = token.replacingOccurrences(of: "=", with: "")
        for form in [padded, unpadded] {
            let uploaded = try await send("POST", "/mms/image/\(form)?auth=\(auth)&token=\(form)", body: blob)
            #expect(uploaded.status == 200, "\(String(decoding: uploaded.body, as: UTF8.self))")
            let json = try JSONParser.parse(uploaded.body)
            let directPath = try #require(json["direct_path"]?.stringValue)
            #expect(json["url"]?.stringValue == "https://\(host.hostname)\(directPath)")
            let fetched = try await send("GET", directPath + "?hash=\(unpadded)&mms-type=image&__wa-mms=")
            #expect(fetched.status == 200)
            #expect(fetched.body == blob)
        }
        #expect(try await send("GET", "/v/t62.sim-image/nothing.enc").status == 404)
        // The corruption fault flips a byte of the next download only.
        let directPath = try #require(try JSONParser.parse(try await send("POST", "/mms/image/\(unpadded)?auth=\(auth)", body: blob).body)["direct_path"]?.stringValue)
        try await fixture.simulator.injectMediaFault(.corruptDownload, count: 1)
        let corrupted = try await send("GET", directPath)
        #expect(corrupted.body != blob && corrupted.body.count == blob.count)
        #expect(try await send("GET", directPath).body == blob)
        #expect(try await fixture.simulator.mediaHost().blobs == 1, "one blob, whatever the number of uploads of it")
        client.close()
        await fixture.stop()
    }

    @Test func aPhoneMediaSendNeedsItsFile() async throws {
        let fixture = try SimFixture.start()
        _ = try await fixture.simulator.createPhone("15551230001", pushName: "A")
        _ = try await fixture.simulator.createPhone("15551230002", pushName: "B")
        await #expect(throws: (any Error).self) {
            _ = try await fixture.simulator.sendMessage(from: "15551230001", json: Array(#"{"to":"15551230002","kind":"image"}"#.utf8))
        }
        let sent = try await fixture.simulator.sendMessage(
            from: "15551230001", json: Array(#"{"to":"15551230002","kind":"document","data":"AAEC","fileName":"a.bin"}"#.utf8))
        #expect(sent.devices == 0, "B has no companions; the blob is on the host all the same")
        #expect(try await fixture.simulator.mediaHost().blobs == 1)
        await fixture.stop()
    }
}
