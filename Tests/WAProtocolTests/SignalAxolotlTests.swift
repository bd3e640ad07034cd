import Foundation
import Testing
import TestSupport

@testable import WAProtocol

/// Cross-checks against python-axolotl, an independent libaxolotl port: it plays Bob and must read our
/// pkmsg/msg/skmsg, and we must read its replies. The peer is `Fixtures/axolotl_peer.py`.
///
/// Needs `python3` with `pip install python-axolotl`; without it these tests fail (not skip), because a
/// silent skip would hide an interop regression. The setup script installs the package.
@Suite(.timeLimit(.minutes(1)))
struct SignalAxolotlTests {
    private let group = "120363111111111111@g.us"

    @Test func pairwiseSessionWithAxolotlBob() async throws {
        let peer = try await AxolotlPeer.start()
        defer { peer.close() }
        let alice = try await SignalTestParty(name: "alice", deviceID: 3, registrationID: 4321)
        let bobAddress = SignalAddress(name: "bob", deviceID: 1)
        let reply = try await peer.call(["cmd": "bundle"])
        let bundle = PreKeyBundle(
            registrationID: try reply.uint32("registration_id"), deviceID: try reply.uint32("device_id"),
            preKeyID: try reply.uint32("pre_key_id"), preKey: try reply.bytes("pre_key"),
            signedPreKeyID: try reply.uint32("signed_pre_key_id"), signedPreKey: try reply.bytes("signed_pre_key"),
            signedPreKeySignature: try reply.bytes("signature"), identityKey: try reply.bytes("identity_key"))
        #expect(bundle.hasValidSignature)
        try await alice.signal.processBundle(bundle, for: bobAddress)

        // Two pkmsgs before Bob answers, then alternating bursts of msg in both directions.
        for index in 0..<2 {
            let plaintext = try MessagePadding.pad(Array("hello axolotl \(index)".utf8))
            let message = try await alice.signal.encrypt(plaintext, for: bobAddress)
            #expect(message.encType == "pkmsg")
            #expect(try await peer.decrypt(message, from: alice.address) == plaintext)
        }
        for round in 0..<6 {
            var replies: [(type: String, data: [UInt8], plaintext: [UInt8])] = []
            for index in 0..<(round % 3 + 1) {
                let plaintext = try MessagePadding.pad(Array("from bob \(round).\(index)".utf8))
                let answer = try await peer.call([
                    "cmd": "encrypt", "plaintext": signalHexString(plaintext), "to": alice.address.name,
                    "device": Int(alice.address.deviceID),
                ])
                replies.append((try answer.string("type"), try answer.bytes("data"), plaintext))
            }
            // Bob's messages arrive newest first: our skipped-key handling against his counters.
            for reply in replies.reversed() {
                #expect(reply.type == "msg")
                let decrypted = try await alice.signal.decrypt(encType: reply.type, reply.data, from: bobAddress)
                #expect(decrypted == reply.plaintext)
                #expect(try MessagePadding.unpad(decrypted).count < decrypted.count)
            }
            for index in 0..<(round % 2 + 1) {
                let plaintext = try MessagePadding.pad(Array("from alice \(round).\(index)".utf8))
                let message = try await alice.signal.encrypt(plaintext, for: bobAddress)
                #expect(message.encType == "msg")
                #expect(try await peer.decrypt(message, from: alice.address) == plaintext)
            }
        }
    }

    @Test func senderKeysWithAxolotlBob() async throws {
        let peer = try await AxolotlPeer.start()
        defer { peer.close() }
        let alice = try await SignalTestParty(name: "alice", deviceID: 2)
        let bobAddress = SignalAddress(name: "bob", deviceID: 1)

        // Our sender key → Bob, including a gap and a late message.
        let distribution = try await alice.signal.senderKeyDistributionMessage(group: group, sender: alice.address)
        _ = try await peer.call(groupRequest("group_process", sender: alice.address, data: distribution.serialized))
        var sent: [([UInt8], [UInt8])] = []
        for index in 0..<6 {
            let plaintext = try MessagePadding.pad(Array("group \(index)".utf8))
            sent.append(
                (
                    plaintext,
                    try await alice.signal.groupEncrypt(plaintext, group: group, sender: alice.address).serialized
                ))
        }
        for index in [0, 1, 4, 2, 5, 3] {
            let reply = try await peer.call(groupRequest("group_decrypt", sender: alice.address, data: sent[index].1))
            #expect(try reply.bytes("plaintext") == sent[index].0)
        }

        // Bob's sender key → us.
        let bobDistribution = try await peer.call(["cmd": "group_create", "group": group]).bytes("data")
        try await alice.signal.processSenderKeyDistribution(bobDistribution, group: group, sender: bobAddress)
        for index in 0..<5 {
            let plaintext = try MessagePadding.pad(Array("from bob \(index)".utf8))
            let skmsg = try await peer.call(["cmd": "group_encrypt", "group": group, "plaintext": signalHexString(plaintext)])
                .bytes("data")
            #expect(try await alice.signal.groupDecrypt(skmsg, group: group, sender: bobAddress) == plaintext)
        }
    }

    private func groupRequest(_ cmd: String, sender: SignalAddress, data: [UInt8]) -> [String: Any] {
        ["cmd": cmd, "group": group, "sender": sender.name, "device": Int(sender.deviceID), "data": signalHexString(data)]
    }
}

/// The python peer process and its line-oriented JSON channel. Each exchange waits for the peer
/// on a thread of its own (`blocking`), never on the test pool's threads.
///
/// `@unchecked Sendable`: a test makes one call at a time, so `buffer` is never touched by two.
private final class AxolotlPeer: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer: [UInt8] = []

    /// A test that fails before `close()` must not leave the peer running: it holds the test
    /// process's stderr, and the test runner waits for that pipe to close before it reports.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/axolotl_peer.py")

    static func start() async throws -> AxolotlPeer {
        let peer = try AxolotlPeer()
        do { _ = try await peer.call(["cmd": "hello"]) } catch {
            peer.close()
            throw PeerError("python-axolotl is not importable (\(error)); run `pip install python-axolotl`")
        }
        return peer
    }

    private init() throws {
        // A peer that died (python3 missing) must surface as a write error, not kill the test runner.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        do { try ProcessLaunch.run(process) } catch {
            throw PeerError("cannot start python3 (\(error)); install python3 and run `pip install python-axolotl`")
        }
    }

    func decrypt(_ message: CiphertextMessage, from address: SignalAddress) async throws -> [UInt8] {
        try await call([
            "cmd": "decrypt", "type": message.encType, "data": signalHexString(message.serialized), "from": address.name,
            "device": Int(address.deviceID),
        ]).bytes("plaintext")
    }

    func call(_ request: [String: Any]) async throws -> Reply {
        var line = try JSONSerialization.data(withJSONObject: request)
        line.append(0x0A)
        let sent = line
        let reply = try await blocking {
            try self.input.fileHandleForWriting.write(contentsOf: sent)
            return try self.readLine()
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any] else {
            throw PeerError("peer sent non-object JSON")
        }
        guard object["ok"] as? Bool == true else {
            throw PeerError("peer refused \(request["cmd"] ?? "?"): \(object["error"] ?? "no error text")")
        }
        return Reply(values: object)
    }

    private func readLine() throws -> [UInt8] {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw PeerError("peer exited (is python-axolotl installed?)") }
            buffer.append(contentsOf: chunk)
        }
    }

    /// Closes the peer's input (it exits at end of input) and reaps it on a thread of its own.
    func close() {
        try? input.fileHandleForWriting.close()
        Thread.detachNewThread { [self] in awaitExit(self.process, seconds: 10) }
    }

    struct Reply {
        let values: [String: Any]

        func string(_ key: String) throws -> String {
            guard let value = values[key] as? String else { throw PeerError("reply lacks \(key)") }
            return value
        }

        func bytes(_ key: String) throws -> [UInt8] { signalHex(try string(key)) }

        func uint32(_ key: String) throws -> UInt32 {
            guard let value = values[key] as? Int, let exact = UInt32(exactly: value) else {
                throw PeerError("reply lacks \(key)")
            }
            return exact
        }
    }
}

private struct PeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
