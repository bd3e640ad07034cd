import Foundation
import Logging
import Persistence
import Reactor

/// The main and data databases of a gateway, opened and migrated.
///
/// The main database (API keys, audit) must open at boot: without it nobody can authenticate.
/// The data database may be unavailable at boot; it is then retried on each use and readiness
/// reports it `down` until it opens.
struct GatewayDatabases: Sendable {
    let main: any SQLDatabase
    let data: ReopeningDatabase

    static func open(_ configuration: GatewayConfiguration, workers: WorkerPool, logger: Logger) async throws -> GatewayDatabases {
        guard configuration.databaseType == "sqlite" else {
            throw PersistenceError.unavailable(
                database: "data", reason: "DATABASE_TYPE=postgres is not available in this build; use sqlite")
        }
        try FileManager.default.createDirectory(
            atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let main = try await openMain(configuration, workers: workers)
        let path = configuration.dataDatabasePath
        let data = ReopeningDatabase(name: "data", dialect: .sqlite) {
            let database = try await SQLiteDatabase.open(path: path, name: "data", pool: workers)
            do {
                try await Migrator.migrate(database, DataSchema.migrations)
            } catch {
                await database.close()
                throw error
            }
            return database
        }
        if let error = await data.openNow() {
            logger.warning("data database unavailable, will retry on use", metadata: ["error": "\(error)", "path": "\(path)"])
        }
        return GatewayDatabases(main: main, data: data)
    }

    static func openMain(_ configuration: GatewayConfiguration, workers: WorkerPool) async throws -> any SQLDatabase {
        let main = try await SQLiteDatabase.open(path: configuration.mainDatabasePath, name: "main", pool: workers)
        do {
            try await Migrator.migrate(main, MainSchema.migrations)
        } catch {
            await main.close()
            throw error
        }
        return main
    }

    func close() async {
        await data.close()
        await main.close()
    }
}
