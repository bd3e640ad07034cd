import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// The media route over S3 storage through the real binary: a 32 MiB document from the phone is
/// downloaded, stored in a bucket of the test S3 server, and served back byte for byte. The object
/// is fetched a part at a time into a spool file that is unlinked once open, so the gateway's peak
/// resident memory while serving grows by far less than the document (fetching the object whole
/// and answering with its bytes needs two to three times its size), and no file is left behind.
extension GatewayLargeMediaTests {
    @Test(.enabled(if: S3TestEnvironment.isAvailable)) func aLargeDocumentOnS3IsServedInBoundedMemory() async throws {
        let endpoint = try #require(S3TestEnvironment.endpoint)
        let s3Port = try #require(URL(string: endpoint)?.port)
        let bucket = "large-" + UUID().uuidString.prefix(8).lowercased()
        // The test server takes any credentials, so a plain PUT creates the bucket.
        let created = try await blocking { try LoopbackClient(port: s3Port).request("PUT", "/\(bucket)", headers: [], bytes: []) }
        #expect(created?.status == 200)

        let simulator = try await Self.simulatorWithPhones()
        let linked = try await LinkedGateway.start(
            simulator: simulator, account: Self.alice, key: Self.key,
            environment: [
                "STORAGE_TYPE": "s3", "S3_ENDPOINT": endpoint, "S3_BUCKET": bucket, "S3_ACCESS_KEY_ID": "test-key",
                "S3_SECRET_ACCESS_KEY": "test-secret", "MEDIA_DOWNLOAD_TIMEOUT_MS": "120000",
            ])
        let (gateway, id) = (linked.gateway, linked.sessionID)
        defer { gateway.cleanUp() }

        var document = [UInt8](repeating: 0x61, count: Self.streamedSize)
        for index in stride(from: 0, to: document.count, by: 521) { document[index] = UInt8(truncatingIfNeeded: index >> 5) }
        let body: [String: Any] = [
            "to": Self.alice, "kind": "document", "mimetype": "application/pdf", "fileName": "s3.pdf",
            "data": Data(document).base64EncodedString(),
        ]
        let phoneSent = try await simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body)))
        let objectPath = "/\(bucket)/\(id)/\(phoneSent.id).pdf"
        try await LinkedGateway.wait("the document stored in the bucket") {
            let first = try await blocking {
                try LoopbackClient(port: s3Port).request("GET", objectPath, headers: [("Range", "bytes=0-0")], bytes: [])
            }
            return first?.status == 206
        }

        let spoolBefore = Self.servingSpoolFiles()
        let (beforeServing, servePeak) = try await Self.serveMeasured(linked, messageID: phoneSent.id, expecting: document)
        #expect(Self.servingSpoolFiles() == spoolBefore, "a spool file of the served object was left behind")
        print("gateway memory, KiB: VmRSS \(beforeServing) before serving a 32 MiB document from S3, peak VmHWM during it \(servePeak)")
        // One range at a time (plus the client's buffers), never the object: under half its size.
        let budget = Self.streamedSize / 1_024 / 2
        #expect(servePeak - beforeServing < budget, "serving 32 MiB from S3 raised the peak by \(servePeak - beforeServing) KiB")

        // An object gone from the bucket is fetched again from WhatsApp's media host on demand.
        let deleted = try await blocking { try LoopbackClient(port: s3Port).request("DELETE", objectPath, headers: [], bytes: []) }
        #expect(deleted?.status == 204)
        let again = try await linked.request("GET", "/api/sessions/\(id)/messages/\(Self.bob)@c.us/\(phoneSent.id)/media")
        #expect(again.status == 200, "\(again.text.prefix(200))")
        #expect(again.body == document)
        #expect(Self.servingSpoolFiles() == spoolBefore)

        try await linked.stop()
        await simulator.stop()
    }

    /// The media route's spool files (`openwa-media-serve-*`) in the temporary directory.
    static func servingSpoolFiles() -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
        return Set(names.filter { $0.hasPrefix("openwa-media-serve-") })
    }
}
