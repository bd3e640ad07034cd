import API
import ArgumentParser
import Engines
import Foundation
import Logging
import Persistence
import Reactor

/// `openwa api-keys`: manage API keys in the main database without a running server (for
/// recovery when no admin key is at hand). A running gateway sees changes within seconds.
struct ApiKeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-keys", abstract: "Create, list or revoke API keys offline.",
        subcommands: [List.self, Create.self, Revoke.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List API keys (never their secrets).")
        @OptionGroup var options: ConfigurationOptions

        func run() throws {
            let configuration = try options.load()
            let lines = try withKeyService(configuration) { keys in
                try await keys.list().map { key in
                    let scope = key.allowedSessions.map { " sessions=\($0.joined(separator: ","))" } ?? ""
                    let state = key.isActive ? "active" : "revoked"
                    return "\(key.id)  \(key.keyPrefix)…  \(key.role.rawValue)  \(state)  \(key.name)\(scope)"
                }
            }
            print(lines.isEmpty ? "no API keys" : lines.joined(separator: "\n"))
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an API key and print it once.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "A name for the key (3-100 characters).") var name: String
        @Option(help: "admin, operator or viewer.") var role: String = "operator"
        @Option(name: .customLong("allowed-ip"), help: "An IPv4 address or CIDR the key may be used from (repeatable).")
        var allowedIps: [String] = []
        @Option(name: .customLong("allowed-session"), help: "A session id the key is limited to (repeatable).")
        var allowedSessions: [String] = []
        @Option(name: .customLong("expires-at"), help: "An ISO-8601 expiry, e.g. 2027-01-31T00:00:00Z.")
        var expiresAt: String?

        func validate() throws {
            guard (3...100).contains(name.count) else { throw ValidationError("--name must be 3 to 100 characters") }
            guard ApiKeyRole(rawValue: role) != nil else { throw ValidationError("--role must be admin, operator or viewer") }
            if let bad = allowedIps.first(where: { IPv4Range($0) == nil }) {
                throw ValidationError("--allowed-ip \(bad) is not an IPv4 address or CIDR")
            }
            if let expiresAt, ISODate.parse(expiresAt) == nil { throw ValidationError("--expires-at is not a parseable date") }
        }

        func run() throws {
            let configuration = try options.load()
            let (name, role, ips, sessions) = (name, ApiKeyRole(rawValue: role)!, allowedIps, allowedSessions)
            let expiry = expiresAt.flatMap(ISODate.parse)
            let created = try withKeyService(configuration) { keys in
                try await keys.create(
                    name: name, role: role, allowedIps: ips, allowedSessions: sessions, allowedChats: nil, expiresAt: expiry)
            }
            print("id: \(created.key.id)\nrole: \(created.key.role.rawValue)\nkey: \(created.plaintext)")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an API key by id.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The key's id.") var id: String

        func run() throws {
            let configuration = try options.load()
            let id = self.id
            let key = try withKeyService(configuration) { keys in try await keys.revoke(id: id) }
            print("revoked \(key.id) (\(key.name))")
        }
    }
}

/// Opens the main database, runs its migrations, and runs `body` with a key service on it.
private func withKeyService<T: Sendable>(
    _ configuration: GatewayConfiguration, _ body: @escaping @Sendable (ApiKeyService) async throws -> T
) throws -> T {
    let outcome: Result<T, any Error> = blockingAwait {
        do {
            let workers = WorkerPool(size: 1)
            // A PostgreSQL main database lives on a reactor, as in the gateway.
            let handle = try ReactorThread.start(workers: workers, logger: Logger(label: "openwa.api-keys"))
            defer { handle.stop() }
            let main = try await GatewayDatabases.openMain(configuration, workers: workers, handle: handle)
            let keys = ApiKeyService(
                store: SQLApiKeyStore(database: main), pepper: configuration.apiKeyPepper,
                bootstrapKeyFile: configuration.bootstrapKeyFile)
            let result: Result<T, any Error>
            do { result = .success(try await body(keys)) } catch { result = .failure(error) }
            await main.close()
            return result
        } catch {
            return .failure(error)
        }
    }
    do {
        return try outcome.get()
    } catch let error as EngineError {
        throw ValidationError(error.message)
    }
}
