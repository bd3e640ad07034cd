import Foundation
import Logging
import Simulator

/// `openwa serve --with-simulator`: the WhatsApp simulator in the gateway's process, with one
/// simulated phone, so a new user can link a session and see it `ready` without an account.
struct EmbeddedSimulator: Sendable {
    let simulator: Simulator
    let phone: String

    static func start(phone: String, configuration: GatewayConfiguration, logger: Logger) throws -> EmbeddedSimulator {
        var settings = Simulator.Configuration()
        settings.dataDirectory = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("simulator").path
        settings.logger = Logger(label: "openwa.simulator")
        let simulator = try Simulator.start(configuration: settings)
        _ = blockingAwait { () -> Bool in
            (try? await simulator.createPhone(phone, pushName: "Demo Phone")) != nil
        }
        let embedded = EmbeddedSimulator(simulator: simulator, phone: phone)
        embedded.printGuide(gatewayPort: configuration.port, keyFile: configuration.bootstrapKeyFile)
        return embedded
    }

    /// The native engine pointed at the simulator: its URL, its TLS certificate, its Noise root.
    var engineSettings: NativeEngineSettings {
        var settings = NativeEngineSettings()
        settings.serverURL = simulator.webSocketURL
        settings.caFile = simulator.caFile
        settings.rootPublicKey = simulator.rootPublicKey
        return settings
    }

    func stop() {
        let simulator = self.simulator
        blockingAwait { await simulator.stop() }
    }

    private func printGuide(gatewayPort: Int, keyFile: String) {
        let api = "http://127.0.0.1:\(gatewayPort)/api"
        let guide = """
            WhatsApp simulator running in this process (not WhatsApp): \(simulator.webSocketURL)
              admin API: \(simulator.adminURL)/admin   simulated phone: +\(phone) "Demo Phone"
            Link a session (in another terminal):
              KEY=$(cat \(keyFile))
              ID=$(curl -s -H "X-API-Key: $KEY" -H 'Content-Type: application/json' -d '{"name":"demo"}' \(api)/sessions | sed 's/.*"id":"\\([^"]*\\)".*/\\1/')
              curl -s -X POST -H "X-API-Key: $KEY" \(api)/sessions/$ID/start
              QR=$(curl -s -H "X-API-Key: $KEY" "\(api)/sessions/$ID/qr?format=raw" | sed 's/.*"qr":"\\([^"]*\\)".*/\\1/')
              curl -s -H 'Content-Type: application/json' -d "{\\"qr\\":\\"$QR\\"}" \(simulator.adminURL)/admin/phones/\(phone)/scan
              curl -s -H "X-API-Key: $KEY" \(api)/sessions/$ID      # "status":"ready"

            """
        FileHandle.standardOutput.write(Data(guide.utf8))
    }
}
