import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// The HTTP side of large media through the real binary: a 32 MiB document sent as a multipart
/// form (with `BODY_SIZE_LIMIT` raised to let it in) reaches the phone byte for byte, and a stored
/// 32 MiB document is served back byte for byte by the media route. Both are streamed (the form's
/// file part to a spool file, the stored file from disk in chunks), so the gateway's peak resident
/// memory over each must grow by well under the document's size. The peak is reset between the
/// two (`clear_refs`), so each figure is its own; both are printed.
extension GatewayLargeMediaTests {
    static let streamedSize = 32 << 20

    /// Resets the process's peak resident size (`VmHWM`) to its current one.
    static func resetPeak(pid: Int32) {
        try? "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
    }

    /// Serves Bob's message `messageID` through the media route and checks it is `expected`;
    /// the gateway's resident size before (KiB) and its peak while serving, the peak reset first.
    static func serveMeasured(_ linked: LinkedGateway, messageID: String, expecting expected: [UInt8]) async throws -> (Int, Int) {
        let pid = linked.gateway.process.processIdentifier
        let before = memory("VmRSS", pid: pid) ?? -1
        resetPeak(pid: pid)
        let served = try await linked.request("GET", "/api/sessions/\(linked.sessionID)/messages/\(bob)@c.us/\(messageID)/media")
        let peak = memory("VmHWM", pid: pid) ?? -1
        #expect(served.status == 200)
        #expect(served.header("content-length") == "\(expected.count)")
        #expect(served.body == expected)
        return (before, peak)
    }

    @Test func aLargeFormUploadAndAMediaDownloadStreamThroughTheBinary() async throws {
        let simulator = try await Self.simulatorWithPhones()
        let linked = try await LinkedGateway.start(
            simulator: simulator, account: Self.alice, key: Self.key,
            environment: ["BODY_SIZE_LIMIT": "40mb", "MEDIA_DOWNLOAD_TIMEOUT_MS": "120000"])
        let (gateway, id, pid) = (linked.gateway, linked.sessionID, linked.gateway.process.processIdentifier)
        defer { gateway.cleanUp() }
        let wait = LinkedGateway.wait

        // Out: a multipart form.
        var document = [UInt8](repeating: 0x3c, count: Self.streamedSize)
        for index in stride(from: 0, to: document.count, by: 509) { document[index] = UInt8(truncatingIfNeeded: index >> 7) }
        var form = MultipartBody()
        form.field("chatId", Self.bob)
        form.field("caption", "a large form")
        form.file(filename: "large.pdf", contentType: "application/pdf", document)
        form.close()
        let settled = Self.memory("VmRSS", pid: pid) ?? -1
        Self.resetPeak(pid: pid)
        let (port, key, formBytes, formType) = (linked.port, Self.key, form.bytes, form.contentType)
        let answer = try await blocking {
            try LoopbackClient(port: port, receiveTimeoutSeconds: 120).request(
                "POST", "/api/sessions/\(id)/messages/send-document",
                headers: [("X-API-Key", key), ("Content-Type", formType)], bytes: formBytes)
        }
        let sent = try #require(answer)
        #expect(sent.status == 201, "\(sent.text)")
        let sentID = try #require(sent.object["messageId"] as? String)
        var received: PhoneMedia?
        try await wait("the form's document at the phone") {
            received = try await simulator.inbox(of: Self.bob).first { $0.id == sentID }?.media
            return received != nil
        }
        #expect(received?.error == nil, "\(received?.error ?? "")")
        #expect(received?.size == Self.streamedSize)
        #expect(received?.sha256 == Crypto.hex(Crypto.sha256(document)))
        let uploadPeak = Self.memory("VmHWM", pid: pid) ?? -1

        // In: a document from the phone, stored, then served by the media route.
        let incoming = Array(document.reversed())
        let body: [String: Any] = [
            "to": Self.alice, "kind": "document", "mimetype": "application/pdf", "fileName": "in.pdf",
            "data": Data(incoming).base64EncodedString(),
        ]
        let phoneSent = try await simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body)))
        let stored = gateway.directory.appendingPathComponent("data/media/\(id)/\(phoneSent.id).pdf").path
        try await wait("the stored document") {
            (try? FileManager.default.attributesOfItem(atPath: stored)[.size] as? Int) == Self.streamedSize
        }
        let (beforeServing, servePeak) = try await Self.serveMeasured(linked, messageID: phoneSent.id, expecting: incoming)
        print(
            "gateway memory, KiB: VmRSS \(settled) before a 32 MiB multipart send, peak VmHWM during it \(uploadPeak); "
                + "VmRSS \(beforeServing) before serving a 32 MiB stored document, peak VmHWM during it \(servePeak)")
        // Streamed, neither transfer holds the document: the peak stays far below its size over
        // what the process held before (a whole-body path needs two to three times the size).
        let budget = Self.streamedSize / 1_024 / 2
        #expect(uploadPeak - settled < budget, "a 32 MiB form raised the peak by \(uploadPeak - settled) KiB")
        #expect(servePeak - beforeServing < budget, "serving 32 MiB raised the peak by \(servePeak - beforeServing) KiB")

        try await linked.stop()
        await simulator.stop()
    }
}
