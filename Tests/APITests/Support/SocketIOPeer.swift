import Foundation
import Reactor
import Synchronization
import TestSupport

/// The python-socketio client of `Fixtures/socketio_client.py`, run as a child process: what
/// it writes to stdin is emitted as `message` events, what it prints is read back as JSON lines.
final class SocketIOPeer: Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/socketio_client.py")

    private let process: Process
    private let input: Pipe
    private let output = PrintedLines()
    private let consumed = Mutex(0)

    /// - Parameters:
    ///   - key: sent in the CONNECT packet's `auth.apiKey`.
    ///   - headerKey: sent as the handshake's `x-api-key` header.
    ///   - websocketOnly: `transports=['websocket']`; otherwise the client's default (polling,
    ///     then the upgrade to a WebSocket).
    init(port: Int, key: String? = nil, headerKey: String? = nil, websocketOnly: Bool = true) throws {
        signal(SIGPIPE, SIG_IGN)
        process = Process()
        input = Pipe()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", Self.script.path, "http://127.0.0.1:\(port)"]
        if let key { arguments += ["--key", key] }
        if let headerKey { arguments += ["--header-key", headerKey] }
        arguments += ["--transport", websocketOnly ? "websocket" : "default"]
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        let lines = self.output
        output.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            lines.state.withLock { state in
                if chunk.isEmpty { state.ended = true }
                state.partial.append(contentsOf: chunk)
                while let newline = state.partial.firstIndex(of: 0x0A) {
                    let line = Array(state.partial[..<newline])
                    state.partial.removeFirst(newline + 1)
                    if let value = try? JSONParser.parse(line) { state.received.append(value) }
                }
            }
            if chunk.isEmpty { handle.readabilityHandler = nil }
        }
        do {
            try ProcessLaunch.run(process)
        } catch {
            throw SocketIOPeerError("cannot start python3 (\(error)); run scripts/setup.sh test for python-socketio")
        }
    }

    /// A test that fails before `finish()` must not leave the client running: it holds the test
    /// process's stderr, and the test runner waits for that pipe to close before it reports.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Emits `message` on the namespace with an ack callback.
    func emit(_ message: JSONValue) throws {
        try input.fileHandleForWriting.write(contentsOf: JSONWriter.bytes(message) + [0x0A])
    }

    /// The next line the client printed (`{"kind":…, "data":…}`), waiting up to `seconds`: the
    /// first one comes after Python has started and imported python-socketio, which took over
    /// 10 s once with every suite running at once.
    func next(within seconds: Double = 30) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let index = consumed.withLock { $0 }
            // Spelled out: JSONValue is nil-literal expressible, so a bare nil would be `.null`.
            let (line, ended) = output.state.withLock { state -> (JSONValue?, Bool) in
                (index < state.received.count ? Optional.some(state.received[index]) : Optional.none, state.ended)
            }
            if let line {
                consumed.withLock { $0 += 1 }
                return line
            }
            if ended { throw SocketIOPeerError("the python client exited (is python-socketio installed?)") }
            if Date() > deadline { throw SocketIOPeerError("nothing from the python client within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The data of the first line of each of `kinds`, in whatever order they come: python-engineio
    /// runs each handler on a thread of its own, so a `message` and the `disconnected` right
    /// behind it may be reported either way round.
    func next(all kinds: Set<String>, within seconds: Double = 30) async throws -> [String: JSONValue] {
        var seen: [String: JSONValue] = [:]
        while seen.count < kinds.count {
            let line = try await next(within: seconds)
            if let kind = line["kind"]?.stringValue, kinds.contains(kind), seen[kind] == nil { seen[kind] = line["data"] ?? .null }
        }
        return seen
    }

    /// The next line of `kind`, skipping others.
    func next(_ kind: String, within seconds: Double = 30) async throws -> JSONValue {
        while true {
            let line = try await next(within: seconds)
            if line["kind"]?.stringValue == kind { return line["data"] ?? .null }
        }
    }

    /// Closes stdin (the client disconnects) and waits for the process, 10 s at most, then
    /// kills it: Foundation's `waitUntilExit` can miss an exit and spin forever on Linux.
    /// Polls with `Task.sleep`: blocking here would hold one of the few cooperative threads
    /// that every other test's tasks need.
    func finish() async {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// What the child printed: complete JSON lines, the unfinished tail, and whether it ended.
private final class PrintedLines: Sendable {
    let state = Mutex<(received: [JSONValue], partial: [UInt8], ended: Bool)>(([], [], false))
}

struct SocketIOPeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
