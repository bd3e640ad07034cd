import Foundation
import Reactor
import Simulator
import Synchronization
import TestSupport

/// The built `openwa` binary run as a child process with its own data directory.
final class GatewayProcess: Sendable {
    let process: Process
    let directory: URL
    private let output = TextBuffer()
    private let errors = TextBuffer()

    static var binary: URL {
        // Tests run from the build products directory, where the executable sits too.
        let products = Bundle.main.bundleURL.deletingLastPathComponent()
        let candidates = [
            products.appendingPathComponent("openwa"),
            Bundle.main.bundleURL.appendingPathComponent("openwa"),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("openwa"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    init(arguments: [String] = ["serve", "--env-file", "none"], environment: [String: String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = GatewayProcess.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ["PATH": "/usr/bin:/bin", "DATA_DIR": directory.appendingPathComponent("data").path, "PORT": "0",
                   "NODE_ENV": "test", "LOG_LEVEL": "warn",
                   // Tests poll routes faster than OpenWA's 10 per second; those that test the
                   // throttlers set their own limits.
                   "RATE_LIMIT_SHORT_LIMIT": "100000", "RATE_LIMIT_MEDIUM_LIMIT": "100000", "RATE_LIMIT_LONG_LIMIT": "100000"]
        env.merge(environment) { $1 }
        process.environment = env
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        stdout.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            if data.isEmpty {
                output.finish()
                handle.readabilityHandler = nil
            } else {
                output.append(data)
            }
        }
        stderr.fileHandleForReading.readabilityHandler = { [errors] handle in
            let data = handle.availableData
            if data.isEmpty {
                errors.finish()
                handle.readabilityHandler = nil
            } else {
                errors.append(data)
            }
        }
        try ProcessLaunch.run(process)
    }

    var stdout: String { output.text }
    var stderr: String { errors.text }

    /// Waits for the banner and returns the port it names.
    func waitForPort(seconds: Double = 30) async throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let range = stdout.range(of: #"listening on http://127\.0\.0\.1:(\d+)/api"#, options: .regularExpression) {
                let match = stdout[range]
                if let port = Int(match.split(separator: ":").last!.dropLast(4)) { return port }
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw GatewayProcessError.notReady(stdout: stdout, stderr: stderr)
    }

    /// Waits for the process to exit; nil if it is still running after `seconds`.
    func waitForExit(seconds: Double = 30) async throws -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { return nil }
        // The exit can be seen before the pipe readers got the last output: wait (briefly, as
        // Foundation does not always report the end of file) for their EOF.
        let drained = Date().addingTimeInterval(2)
        while !(output.isFinished && errors.isFinished), Date() < drained { try await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    func request(
        _ method: String, _ path: String, port: Int, key: String? = nil, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> TestResponse? {
        let all = (key.map { [("X-API-Key", $0)] } ?? []) + headers
        return try await blocking { try LoopbackClient(port: port).request(method, path, headers: all, body: body) }
    }

    /// Kills a process a failed or cancelled test left running, without waiting: this runs in a
    /// `defer` on a cooperative thread, and Foundation's `waitUntilExit` can hang there for good
    /// when the exit is reported to another thread. Foundation reaps the child by itself.
    func cleanUp() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}

enum GatewayProcessError: Error { case notReady(stdout: String, stderr: String) }

extension GatewayProcess {
    /// The environment of a gateway that talks to `simulator`, restores sessions at boot and
    /// has `key` as its master key; `dataDirectory` reuses another process's data.
    static func simulatorEnvironment(_ simulator: Simulator, key: String, dataDirectory: String? = nil) -> [String: String] {
        var environment = [
            "API_MASTER_KEY": key, "AUTO_START_SESSIONS": "true", "WA_SERVER_URL": simulator.webSocketURL,
            "WA_CA_FILE": simulator.caFile, "WA_ROOT_PUBLIC_KEY": Crypto.hex(simulator.rootPublicKey),
        ]
        if let dataDirectory { environment["DATA_DIR"] = dataDirectory }
        return environment
    }
}

/// Output collected from a child's pipe, appended from the pipe's reader thread.
final class TextBuffer: Sendable {
    private let storage = Mutex<(text: String, finished: Bool)>(("", false))
    func append(_ data: Data) { storage.withLock { $0.text += String(decoding: data, as: UTF8.self) } }
    /// The pipe reached end of file: everything the child wrote is in `text`.
    func finish() { storage.withLock { $0.finished = true } }
    var text: String { storage.withLock { $0.text } }
    var isFinished: Bool { storage.withLock { $0.finished } }
}
