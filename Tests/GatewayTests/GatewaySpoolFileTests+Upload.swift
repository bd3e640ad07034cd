import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// The spool files of streamed multipart sends are gone after every way a request can end: a
/// form whose file reaches the phone, a malformed form (400), a file over
/// `MEDIA_DOWNLOAD_MAX_BYTES` (413 from the route), and a chunked body cut off by
/// `BODY_SIZE_LIMIT` (413 from the HTTP server mid-body), and the last two use the same keep-alive
/// connection rules as any other request.
extension GatewaySpoolFileTests {
    @Test func uploadSpoolFilesAreRemovedOnEveryPath() async throws {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(Self.alice, pushName: "Alice")
        _ = try await simulator.createPhone(Self.bob, pushName: "Bob")
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("uploadtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let linked = try await LinkedGateway.start(
            simulator: simulator, account: Self.alice, key: Self.key,
            environment: ["MEDIA_DOWNLOAD_MAX_BYTES": "1mb", "BODY_SIZE_LIMIT": "2mb", "TMPDIR": temporary.path])
        defer { linked.gateway.cleanUp() }
        let route = "/api/sessions/\(linked.sessionID)/messages/send-document"
        func post(_ bytes: [UInt8], contentType: String, extra: [(String, String)] = []) async throws -> TestResponse? {
            let (port, key) = (linked.port, linked.key)
            return try await blocking {
                try LoopbackClient(port: port).request(
                    "POST", route, headers: [("X-API-Key", key), ("Content-Type", contentType)] + extra, bytes: bytes)
            }
        }
        func form(_ file: [UInt8]) -> MultipartBody {
            var form = MultipartBody()
            form.field("chatId", Self.bob)
            form.file(filename: "upload.pdf", contentType: "application/pdf", file)
            form.close()
            return form
        }
        func noSpoolFilesLeft(after step: String) async throws {
            try await LinkedGateway.wait("no spool files after \(step)") { Self.spoolFiles(temporary).isEmpty }
        }

        let document = Self.bytes(700_000, seed: 6)
        let documentForm = form(document)
        let sent = try #require(try await post(documentForm.bytes, contentType: documentForm.contentType))
        #expect(sent.status == 201, "\(sent.text)")
        let sentID = try #require(sent.object["messageId"] as? String)
        try await LinkedGateway.wait("the form's document at the phone") {
            try await simulator.inbox(of: Self.bob).contains { $0.id == sentID }
        }
        let received = try await simulator.inbox(of: Self.bob).first { $0.id == sentID }?.media
        #expect(received?.sha256 == Crypto.hex(Crypto.sha256(document)))
        #expect(received?.fileName == "upload.pdf")
        try await noSpoolFilesLeft(after: "a form that went out")

        let unclosed = form(Self.bytes(700_000, seed: 7))
        let malformed = try #require(try await post(Array(unclosed.bytes.dropLast(10)), contentType: unclosed.contentType))
        #expect(malformed.status == 400, "\(malformed.text)")
        #expect(malformed.object["statusCode"] as? Int == 400)
        #expect(malformed.text.contains("closing boundary"), "\(malformed.text)")
        try await noSpoolFilesLeft(after: "a malformed form")

        let over = form(Self.bytes(1_100_000, seed: 8))
        let tooLarge = try #require(try await post(over.bytes, contentType: over.contentType))
        #expect(tooLarge.status == 413, "\(tooLarge.text)")
        #expect(tooLarge.text.contains("MEDIA_DOWNLOAD_MAX_BYTES"), "\(tooLarge.text)")
        try await noSpoolFilesLeft(after: "a file over MEDIA_DOWNLOAD_MAX_BYTES")

        // Chunked: 1.5 MB arrive (the file part is spooled), then a chunk that passes 2 MiB.
        let big = form(Self.bytes(1_900_000, seed: 9))
        let first = Array(big.bytes.prefix(1_500_000))
        let (port, key, type) = (linked.port, linked.key, big.contentType)
        let cut = try await blocking { () -> TestResponse? in
            let client = try LoopbackClient(port: port)
            client.send(
                Array(
                    "POST \(route) HTTP/1.1\r\nHost: x\r\nX-API-Key: \(key)\r\nContent-Type: \(type)\r\nTransfer-Encoding: chunked\r\n\r\n"
                        .utf8) + Array("\(String(first.count, radix: 16))\r\n".utf8) + first + Array("\r\n100000\r\n".utf8))
            return client.readResponse()
        }
        #expect(cut?.status == 413)
        #expect(cut.map { $0.object["statusCode"] as? Int } == 413, "OpenWA's error body")
        try await noSpoolFilesLeft(after: "a body over BODY_SIZE_LIMIT")
        #expect(try await simulator.inbox(of: Self.bob).count == 1, "a refused form reached the phone")

        try await linked.stop()
        await simulator.stop()
    }
}
