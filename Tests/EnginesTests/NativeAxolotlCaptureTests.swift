import Engines
import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// The independent check of the send path: a `pkmsg` the engine produced, captured where the
/// simulated phone received it, is decrypted by python-axolotl from the phone's keys alone.
@Suite(.timeLimit(.minutes(1))) struct NativeAxolotlCaptureTests {
    static let bob = "15557654322"
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/axolotl_decrypt_capture.py")

    @Test func aCapturedPkmsgDecryptsWithPythonAxolotl() async throws {
        let world = try await SimulatorWorld.start()
        _ = try await world.simulator.createPhone(Self.bob, pushName: "Bob")
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        let text = "checked by an implementation that is not ours"
        let sent = try await engine.sendText(chatID: "\(Self.bob)@c.us", text: text)
        let captured = try #require(try await world.simulator.inbox(of: Self.bob).first { $0.id == sent.messageID })
        #expect(captured.encType == "pkmsg")
        let sender = try JID(parsing: captured.from)
        let keys = try JSONEncoder().encode(try await world.simulator.signalKeys(of: Self.bob))
        let request: [String: Any] = [
            "keys": try JSONSerialization.jsonObject(with: keys), "sender": sender.user, "device": Int(sender.device),
            "message": Crypto.hex(try #require(Data(base64Encoded: captured.ciphertext))),
        ]
        let reply = try await Self.runPython(try JSONSerialization.data(withJSONObject: request))
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        let padded = Self.bytes(hex: try #require(reply["plaintext"] as? String))
        let message = try MessageCodec.decode(padded: padded)
        #expect(message.conversation == text)
        await world.shutdown(engine)
    }

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) }
    }

    /// Runs the fixture once with `input` on stdin (off the cooperative pool: it blocks).
    static func runPython(_ input: Data) async throws -> [String: Any] {
        let output = try await blocking { () -> Data in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script.path]
            let stdin = Pipe()
            let stdout = Pipe()
            process.standardInput = stdin
            process.standardOutput = stdout
            try ProcessLaunch.run(process)
            stdin.fileHandleForWriting.write(input)
            try stdin.fileHandleForWriting.close()
            let data = stdout.fileHandleForReading.readDataToEndOfFile()
            awaitExit(process, seconds: 10)
            return data
        }
        return try JSONSerialization.jsonObject(with: output) as? [String: Any] ?? [:]
    }
}
