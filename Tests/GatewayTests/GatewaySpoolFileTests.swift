import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Media spool files of the binary (given a temporary directory of its own through `TMPDIR`) are
/// gone after every way a transfer can end: a URL send that reaches the phone, a base64 one, one
/// over the cap, one the URL refuses, one whose upload the media host refuses, and a received
/// document stored.
@Suite(.timeLimit(.minutes(3))) struct GatewaySpoolFileTests {
    static let key = "owa_k1_" + String(repeating: "ab", count: 32)
    static let alice = "15550006001"
    static let bob = "15550006002"

    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(seed) &+ $0 >> 10) }
    }

    /// The media spool files in `directory` (every spool name starts with `openwa-`).
    static func spoolFiles(_ directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix("openwa-") }
    }

    @Test func spoolFilesAreRemovedOnEveryPath() async throws {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(Self.alice, pushName: "Alice")
        _ = try await simulator.createPhone(Self.bob, pushName: "Bob")
        let fits = Self.bytes(700_000, seed: 1)
        let files = try await MediaFileServer.start([
            "fits.pdf": .init(bytes: fits, contentType: "application/pdf"),
            "over.pdf": .init(bytes: Self.bytes(1_300_000, seed: 2), contentType: "application/pdf"),
        ])
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("spooltest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        // What a killed gateway left behind an hour ago is swept when the next one starts.
        let stale = temporary.appendingPathComponent("openwa-url-media-\(UUID().uuidString)")
        let staleUpload = temporary.appendingPathComponent("\(HTTPUploadFile.namePrefix)\(UUID().uuidString)")
        for file in [stale, staleUpload] {
            try Data(count: 1_000).write(to: file)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7_200)], ofItemAtPath: file.path)
        }
        let linked = try await LinkedGateway.start(
            simulator: simulator, account: Self.alice, key: Self.key,
            environment: [
                "SSRF_ALLOWED_HOSTS": "127.0.0.1", "MEDIA_DOWNLOAD_MAX_BYTES": "1mb", "TMPDIR": temporary.path,
            ])
        defer { linked.gateway.cleanUp() }
        #expect(!FileManager.default.fileExists(atPath: stale.path), "a stale spool file survived the start")
        #expect(!FileManager.default.fileExists(atPath: staleUpload.path), "a stale upload spool file survived the start")
        let route = "/api/sessions/\(linked.sessionID)/messages/send-document"
        func send(_ name: String) async throws -> TestResponse {
            try await linked.request("POST", route, #"{"chatId":"\#(Self.bob)","url":"\#(files.url(name))"}"#)
        }
        func noSpoolFilesLeft(after step: String) async throws {
            try await LinkedGateway.wait("no spool files after \(step)") { Self.spoolFiles(temporary).isEmpty }
        }

        let sent = try await send("fits.pdf")
        #expect(sent.status == 201, "\(sent.text)")
        let sentID = try #require(sent.object["messageId"] as? String)
        try await LinkedGateway.wait("the document at the phone") {
            try await simulator.inbox(of: Self.bob).contains { $0.id == sentID }
        }
        let received = try await simulator.inbox(of: Self.bob).first { $0.id == sentID }?.media
        #expect(received?.sha256 == Crypto.hex(Crypto.sha256(fits)))
        // The sent plaintext is stored after the ack, from its spool file, which goes afterwards.
        try await noSpoolFilesLeft(after: "a send that went out")

        // Base64 media over one chunk is encrypted from memory into a spool file, uploaded from it.
        let inline = Self.bytes(400_000, seed: 4)
        let base64 = try await linked.request(
            "POST", route,
            #"{"chatId":"\#(Self.bob)","mimetype":"application/pdf","base64":"\#(Data(inline).base64EncodedString())"}"#)
        #expect(base64.status == 201, "\(base64.text)")
        let base64ID = try #require(base64.object["messageId"] as? String)
        try await LinkedGateway.wait("the base64 document at the phone") {
            try await simulator.inbox(of: Self.bob).contains { $0.id == base64ID }
        }
        let inlineReceived = try await simulator.inbox(of: Self.bob).first { $0.id == base64ID }?.media
        #expect(inlineReceived?.sha256 == Crypto.hex(Crypto.sha256(inline)))
        try await noSpoolFilesLeft(after: "a base64 send")

        let over = try await send("over.pdf")
        #expect(over.status == 413, "\(over.text)")
        try await noSpoolFilesLeft(after: "a body over the cap")

        let missing = try await send("missing.pdf")
        #expect(missing.status == 400, "\(missing.text)")
        try await noSpoolFilesLeft(after: "a URL answering 404")

        try await simulator.injectMediaFault(.rejectUpload, count: 2)
        let refused = try await send("fits.pdf")
        #expect(refused.status == 503, "\(refused.text)")
        try await noSpoolFilesLeft(after: "an upload the media host refused")

        let incoming = Self.bytes(600_000, seed: 3)
        let body: [String: Any] = [
            "to": Self.alice, "kind": "document", "mimetype": "application/pdf", "data": Data(incoming).base64EncodedString(),
        ]
        let json = Array(try JSONSerialization.data(withJSONObject: body))
        let phoneSent = try await simulator.sendMessage(from: Self.bob, json: json)
        let stored = linked.gateway.directory.appendingPathComponent("data/media/\(linked.sessionID)/\(phoneSent.id).pdf")
        try await LinkedGateway.wait("the stored document") {
            FileManager.default.contents(atPath: stored.path) == Data(incoming)
        }
        try await noSpoolFilesLeft(after: "a received document stored")

        try await linked.stop()
        await files.stop()
        await simulator.stop()
    }
}
