import API
import Engines
import Foundation
import Logging
import Persistence

/// What the operator sees once the gateway is up. The bootstrap admin key is shown in full only
/// on the boot that created it, as OpenWA does; later boots show where to find it.
enum Banner {
    static func print(configuration: GatewayConfiguration, port: Int, bootstrap: ApiKeyService.BootstrapOutcome, logger: Logger) {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        var lines = [
            "openwa \(GatewayInfo.version) listening on http://\(host):\(port)/api",
            "  engine: \(configuration.engine.rawValue), database: \(describe(configuration.dataPostgres, configuration.databaseType)), "
                + "main database: \(describe(configuration.mainPostgres, configuration.mainDatabaseType)), data: \(configuration.dataDirectory)",
        ]
        switch bootstrap {
        case .created(let plaintext, let source):
            lines.append("  Admin API key created (shown once, keep it safe): \(plaintext)")
            if source == .generated {
                lines.append("  It is also in \(configuration.bootstrapKeyFile) (mode 0600) until that key is revoked.")
            } else {
                lines.append("  Taken from \(source.rawValue).")
            }
        case .existing(let count):
            lines.append("  \(count) API key(s) configured; the first admin key is in \(configuration.bootstrapKeyFile) if it still exists.")
        }
        // Written straight to the descriptor: stdout is block-buffered on a pipe, and supervisors
        // (and tests) wait for this line.
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        logger.info("ready", metadata: ["http.port": "\(port)"])
    }

    /// "sqlite", or "postgres user@host:port/name" (never the password).
    private static func describe(_ postgres: PostgresConfiguration?, _ type: String) -> String {
        guard let postgres else { return type }
        return "postgres \(postgres.username)@\(postgres.host):\(postgres.port)/\(postgres.database)"
    }
}
