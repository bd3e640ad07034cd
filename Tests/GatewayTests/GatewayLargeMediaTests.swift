import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// A 40 MiB document both ways through the real binary, under the default 50 MiB cap: sent by URL
/// (fetched through the SSRF guard) it reaches the phone, which decrypts it byte for byte; sent
/// by the phone it is downloaded, checked, stored and served byte for byte. The gateway's peak
/// resident memory over both transfers is printed (`VmHWM`), not asserted: it is a measurement.
///
/// The test process itself holds several copies of both documents (the file server, the
/// simulator's media host and phones, the base64 of the phone's send), a few hundred MiB that
/// would throw off the suites measuring their own resident memory if it ran beside them; it
/// runs only with `OPENWA_TEST_LARGE_MEDIA=1`, which `scripts/test.sh` sets for a pass of its own.
@Suite(.timeLimit(.minutes(4)), .enabled(if: LargeMediaSwitch.enabled))
struct GatewayLargeMediaTests {
    static let key = "owa_k1_" + String(repeating: "ef", count: 32)
    static let alice = "15550005001"
    static let bob = "15550005002"
    static let size = 40 << 20

    static func document(seed: UInt8) -> [UInt8] {
        var bytes = [UInt8](repeating: seed, count: size)
        for index in stride(from: 0, to: size, by: 512) { bytes[index] = UInt8(truncatingIfNeeded: index >> 9) }
        return bytes
    }

    /// A quiet simulator with Alice's (the linked account) and Bob's phones.
    static func simulatorWithPhones() async throws -> Simulator {
        var configuration = Simulator.Configuration()
        configuration.logger = quietLogger
        let simulator = try Simulator.start(configuration: configuration)
        _ = try await simulator.createPhone(alice, pushName: "Alice")
        _ = try await simulator.createPhone(bob, pushName: "Bob")
        return simulator
    }

    /// A line of /proc/<pid>/status in KiB (`VmHWM`, `VmRSS`).
    static func memory(_ field: String, pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        return line?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    @Test func aFortyMebibyteDocumentGoesBothWaysThroughTheBinary() async throws {
        let simulator = try await Self.simulatorWithPhones()
        let outgoing = Self.document(seed: 0x5a)
        let files = try await MediaFileServer.start(["report.pdf": .init(bytes: outgoing, contentType: "application/pdf")])
        let linked = try await LinkedGateway.start(
            simulator: simulator, account: Self.alice, key: Self.key,
            environment: ["SSRF_ALLOWED_HOSTS": "127.0.0.1", "MEDIA_DOWNLOAD_TIMEOUT_MS": "120000"])
        let (gateway, id, pid) = (linked.gateway, linked.sessionID, linked.gateway.process.processIdentifier)
        defer { gateway.cleanUp() }
        func request(_ method: String, _ path: String, _ body: String? = nil) async throws -> TestResponse {
            try await linked.request(method, path, body)
        }
        let wait = LinkedGateway.wait
        let settled = Self.memory("VmRSS", pid: pid)

        // Out: by URL, to the phone.
        let response = try await request(
            "POST", "/api/sessions/\(id)/messages/send-document",
            #"{"chatId":"\#(Self.bob)","url":"\#(files.url("report.pdf"))","filename":"report.pdf"}"#)
        #expect(response.status == 201, "\(response.text)")
        let sentID = try #require(response.object["messageId"] as? String)
        var received: PhoneMedia?
        try await wait("the document at the phone") {
            received = try await simulator.inbox(of: Self.bob).first { $0.id == sentID }?.media
            return received != nil
        }
        #expect(received?.error == nil, "\(received?.error ?? "")")
        #expect(received?.size == Self.size)
        #expect(received?.sha256 == Crypto.hex(Crypto.sha256(outgoing)))

        // In: from the phone, downloaded and stored under DATA_DIR/media.
        let incoming = Self.document(seed: 0xa5)
        let body: [String: Any] = [
            "to": Self.alice, "kind": "document", "mimetype": "application/pdf", "fileName": "in.pdf",
            "data": Data(incoming).base64EncodedString(),
        ]
        let json = Array(try JSONSerialization.data(withJSONObject: body))
        let phoneSent = try await simulator.sendMessage(from: Self.bob, json: json)
        let stored = gateway.directory.appendingPathComponent("data/media/\(id)/\(phoneSent.id).pdf").path
        try await wait("the stored document") {
            (try? FileManager.default.attributesOfItem(atPath: stored)[.size] as? Int) == Self.size
        }
        // Measured before the media route reads the file back (it serves from memory).
        let peak = Self.memory("VmHWM", pid: pid)
        print("gateway memory, KiB: settled VmRSS \(settled ?? -1), peak VmHWM over a 40 MiB send and receive \(peak ?? -1)")
        let served = try await request("GET", "/api/sessions/\(id)/messages/\(Self.bob)@c.us/\(phoneSent.id)/media")
        #expect(served.status == 200)
        #expect(served.body.count == Self.size)
        #expect(served.body == incoming)

        try await linked.stop()
        await files.stop()
        await simulator.stop()
    }
}

enum LargeMediaSwitch {
    static let enabled = ProcessInfo.processInfo.environment["OPENWA_TEST_LARGE_MEDIA"] == "1"
}
