import Foundation
import Testing
import TestSupport

@testable import Engines

/// Helpers shared by the QR suites: the matrix as text, and running the external checkers (zbarimg,
/// Python with segno) that serve as independent implementations.
enum QRTestSupport {
    /// The symbol as rows of "0"/"1", "1" for dark, without quiet zone: the format segno's reference
    /// matrices and our Python helper use.
    static func rows(_ code: QRCode) -> [String] {
        (0..<code.size).map { y in
            String((0..<code.size).map { x in code.isDark(x: x, y: y) ? "1" : "0" })
        }
    }

    /// What a finished child process left behind.
    struct ProcessResult {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    /// The absolute path of `name` found on `PATH`, or nil.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` to completion. Input and output go through files rather than pipes, so a child
    /// that writes a lot before reading all its input cannot deadlock against us. It blocks its thread
    /// until the child exits: call it inside `blocking {}`, never on the cooperative pool.
    static func run(_ executable: String, _ arguments: [String], stdin: Data = Data()) throws -> ProcessResult {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let inURL = directory.appendingPathComponent("stdin")
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        try stdin.write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try ProcessLaunch.run(process)
        awaitExit(process, seconds: 120)
        return ProcessResult(
            status: exitStatus(of: process), stdout: try Data(contentsOf: outURL),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// A fresh private directory under the system temporary directory; the caller removes it.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-qr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A deterministic string shaped like a WhatsApp pairing QR payload: a `2@` ref then three base64
    /// keys and a platform digit, which exercises `@`, `,`, `+`, `/` and `=`.
    static func pairingLikeString(seed: UInt64, refLength: Int = 80) -> String {
        var generator = QRSeededRandom(state: seed)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        func chars(_ count: Int) -> String {
            String((0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        }
        // 32 bytes of base64 is 43 characters and one '=' of padding.
        let keys = (0..<3).map { _ in chars(43) + "=" }
        return "2@" + chars(refLength) + "," + keys.joined(separator: ",") + ",1"
    }

    /// A text of exactly `count` characters valid for `mode`, varied so that masks differ between cases.
    static func filler(count: Int, mode: QRCode.Mode, seed: UInt64) -> String {
        var generator = QRSeededRandom(state: seed)
        let alphabet: [Character] =
            switch mode {
            case .numeric: Array("0123456789")
            case .alphanumeric: Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
            case .byte: Array("abcdefghijklmnopqrstuvwxyz@,+/=!?")
            }
        return String((0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}

/// A tiny seeded generator (QRSeededRandom) so test inputs are varied but the same on every run.
struct QRSeededRandom {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
