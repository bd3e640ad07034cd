import ArgumentParser
import Foundation
import Logging
import Reactor
import Simulator

/// `openwa sim`: runs the WhatsApp simulator standalone until SIGTERM or SIGINT.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the WhatsApp simulator (a local stand-in for WhatsApp's servers and phones).",
        discussion: """
            Serves WhatsApp's side of the protocol on a TLS WebSocket (wss://localhost:PORT/ws/chat) with a \
            self-signed certificate and its own Noise certificate root, plus a JSON admin API on ADMIN-PORT \
            to create phones, scan QR codes, enter pairing codes, unlink devices and inject faults. \
            See README.md, section "WhatsApp simulator".
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "WebSocket (TLS) port; 0 picks a free one.") var port = 2786
    @Option(name: .customLong("admin-port"), help: "Admin API (plain HTTP) port; 0 picks a free one.") var adminPort = 2787
    @Option(name: .customLong("data-dir"), help: "Where ca.pem and root.pub are written.") var dataDir = "./data/sim"
    @Option(name: .customLong("root-private-key"), help: "Hex of the Noise root private key (default: the published test root).")
    var rootPrivateKey: String?
    @Option(name: .customLong("ping-interval-ms"), help: "Server ping interval; 0 turns server pings off.") var pingIntervalMilliseconds = 30_000
    @Option(name: .customLong("ping-timeout-ms"), help: "Clients that do not answer a server ping within this are dropped.")
    var pingTimeoutMilliseconds = 20_000
    @Option(name: .customLong("log-level"), help: "error, warning, info, debug.") var logLevel = "info"

    func run() throws {
        // Before any other thread exists, as in `serve`: the reactor reads these from a signalfd.
        SignalFD.blockInProcess([SignalFD.terminate, SignalFD.interrupt])
        SignalFD.ignoreBrokenPipe()
        guard let level = Logger.Level(rawValue: logLevel == "warn" ? "warning" : logLevel) else {
            throw ValidationError("--log-level must be error, warning, info or debug")
        }
        LoggingSystem.bootstrap { label in GatewayLogHandler(label: label, level: level, json: false) }
        var configuration = Simulator.Configuration()
        configuration.host = host
        configuration.adminHost = host
        configuration.port = port
        configuration.adminPort = adminPort
        configuration.dataDirectory = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        configuration.pingIntervalMilliseconds = pingIntervalMilliseconds > 0 ? pingIntervalMilliseconds : nil
        configuration.pingTimeoutMilliseconds = pingTimeoutMilliseconds
        configuration.logger = Logger(label: "openwa.sim")
        if let rootPrivateKey {
            guard let key = Self.bytes(hex: rootPrivateKey), key.count == 32 else {
                throw ValidationError("--root-private-key must be 64 hex digits")
            }
            configuration.rootPrivateKey = key
        }
        let simulator: Simulator
        do {
            simulator = try Simulator.start(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Data("cannot start the simulator: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let root = Crypto.hex(simulator.rootPublicKey)
        FileHandle.standardOutput.write(
            Data(
                """
            openwa simulator
              WebSocket: \(simulator.webSocketURL)
              admin API: \(simulator.adminURL)/admin
              CA:        \(simulator.caFile)
              root key:  \(root)

            Point the gateway at it with:
              WA_SERVER_URL=\(simulator.webSocketURL)
              WA_CA_FILE=\(simulator.caFile)
              WA_ROOT_PUBLIC_KEY=\(root)

            """.utf8))
        let failed = blockingAwait { () async -> Bool in
            do {
                try await simulator.stopOnSignals()
            } catch {
                await simulator.stop()
                return true
            }
            await simulator.waitUntilStopped()
            return false
        }
        if failed { throw ExitCode(1) }
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
