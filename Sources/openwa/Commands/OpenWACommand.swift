import Foundation
import API
import ArgumentParser

/// `openwa`: the gateway's command line. `serve` runs when no subcommand is given.
struct OpenWACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openwa",
        abstract: "A self-hosted WhatsApp HTTP API gateway, compatible with OpenWA's REST API.",
        discussion: """
            Configuration comes from the environment and a .env file in the working directory, \
            with OpenWA's variable names (PORT, HOST, DATABASE_TYPE, DATA_DIR, LOG_LEVEL, \
            API_MASTER_KEY, BODY_SIZE_LIMIT, ...). See README.md for the full list.
            """,
        version: GatewayInfo.version,
        subcommands: [ServeCommand.self, VersionCommand.self, ApiKeysCommand.self, SimCommand.self, DebugCommand.self, QRCommand.self],
        defaultSubcommand: ServeCommand.self)
}

/// Where the `.env` file is read from, shared by the subcommands that load configuration.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .customLong("env-file"), help: "The .env file to read (default: ./.env; 'none' to skip).")
    var envFile: String = ".env"

    func load() throws -> GatewayConfiguration {
        let source = try EnvironmentSource.load(
            processEnvironment: ProcessInfo.processInfo.environment, envFilePath: envFile == "none" ? nil : envFile)
        return try GatewayConfiguration.load(source)
    }
}
