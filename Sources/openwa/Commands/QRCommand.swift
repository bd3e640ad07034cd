import ArgumentParser
import Engines
import Foundation
import Logging
import Reactor

/// `openwa qr SESSION`: shows a running gateway's QR code for a session in the terminal, redrawn
/// as it rotates, until the phone links (exit 0) or the session fails (exit 1).
struct QRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qr", abstract: "Show a session's QR code in the terminal until a phone links it.",
        discussion: """
            Talks to a running gateway over its REST API (GET /api/sessions/:id and …/qr?format=raw). \
            The API key comes from --api-key, else OPENWA_API_KEY, else DATA_DIR/.api-key (the key the \
            first boot created). SESSION is a session id or name.
            """)

    @OptionGroup var options: ConfigurationOptions
    @Argument(help: "The session's id or name.") var session: String
    @Option(help: "The gateway's base URL (default: http://127.0.0.1:PORT).") var url: String?
    @Option(name: .customLong("api-key"), help: "An operator or admin API key.") var apiKey: String?
    @Flag(help: "Start the session first if it is not running.") var start = false
    @Flag(help: "Print the current QR code once and exit.") var once = false
    @Flag(help: "Draw with '##' instead of Unicode half blocks.") var ascii = false
    @Flag(help: "Swap dark and light (for light-on-dark terminals).") var invert = false

    func run() throws {
        let configuration = try options.load()
        guard let key = apiKey ?? ProcessInfo.processInfo.environment["OPENWA_API_KEY"] ?? Self.storedKey(configuration)
        else { throw ValidationError("no API key: pass --api-key, set OPENWA_API_KEY, or run where DATA_DIR/.api-key exists") }
        guard let base = GatewayEndpoint(url ?? "http://127.0.0.1:\(configuration.port)") else {
            throw ValidationError("--url must look like http://HOST:PORT")
        }
        let style: TerminalQR.Style = ascii ? .ascii : .halfBlocks
        let (session, start, once, invert) = (session, start, once, invert)
        let status = blockingAwait { () async -> Int32 in
            do {
                let client = try await GatewayAPIClient.connect(endpoint: base, key: key)
                defer { client.close() }
                return try await Self.watch(client, session: session, start: start, once: once) { qr in
                    guard let code = try? QRCode.encode(qr) else { return }
                    let clear = isatty(STDOUT_FILENO) == 1 && !once ? "\u{1B}[2J\u{1B}[H" : ""
                    let text = clear + TerminalQR.render(code, style: style, inverted: invert)
                        + "Scan with WhatsApp on the phone: Settings > Linked devices > Link a device.\n"
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            } catch {
                FileHandle.standardError.write(Data("openwa qr: \(error)\n".utf8))
                return 1
            }
        }
        if status != 0 { throw ExitCode(status) }
    }

    private static func storedKey(_ configuration: GatewayConfiguration) -> String? {
        let path = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent(".api-key").path
        return (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Requests in a row (polls, QR fetches, the start) that may fail for want of an answer (no
    /// connection, a timeout, a 5xx or 429) before the watch gives up: a gateway restarting or
    /// busy for a while is waited out.
    static let transientFailureLimit = 30

    /// Polls the session once a second; draws each new QR; returns the exit status.
    private static func watch(
        _ client: GatewayAPIClient, session: String, start: Bool, once: Bool, draw: (String) -> Void
    ) async throws -> Int32 {
        let id = try await client.resolveSession(session)
        var shown: String?
        var startedByUs = false
        var failures = 0
        /// One request's answer, or nil after a failure worth waiting out (no connection, a
        /// timeout, a 5xx or 429), counted; any other refusal ends the watch.
        func answer(_ method: String, _ path: String) async throws -> JSONValue? {
            do {
                let value = try await client.json(method, path)
                failures = 0
                return value
            } catch let error as GatewayAPIClientError where error.status < 500 && error.status != 429 {
                throw error
            } catch {
                failures += 1
                if failures >= transientFailureLimit { throw error }
                return nil
            }
        }
        while true {
            guard let current = try await answer("GET", "/api/sessions/\(id)") else {
                try await Task.sleep(for: .seconds(1))
                continue
            }
            let status = current["status"]?.stringValue ?? ""
            switch status {
            case "ready":
                let name = current["name"]?.stringValue ?? id
                FileHandle.standardOutput.write(Data("Linked: session \(name) is ready as +\(current["phone"]?.stringValue ?? "?").\n".utf8))
                return 0
            case "qr_ready":
                let qr = try await answer("GET", "/api/sessions/\(id)/qr?format=raw")?["qr"]?.stringValue
                if let qr, qr != shown {
                    draw(qr)
                    shown = qr
                    if once { return 0 }
                }
            case "failed":
                FileHandle.standardError.write(Data("openwa qr: the session failed: \(current["lastError"]?.stringValue ?? "")\n".utf8))
                return 1
            default:
                if current["engineLoaded"]?.boolValue != true {
                    guard start, !startedByUs else {
                        FileHandle.standardError.write(Data("openwa qr: the session is not started (use --start)\n".utf8))
                        return 1
                    }
                    // A start that got no answer is asked again on the next round, unless the
                    // next poll shows the engine loaded after all.
                    startedByUs = try await answer("POST", "/api/sessions/\(id)/start") != nil
                }
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}
