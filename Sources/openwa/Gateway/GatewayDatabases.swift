import Foundation
import Logging
import Persistence
import Reactor

/// The main and data databases of a gateway, opened and migrated.
///
/// The main database (API keys, audit) must open at boot: without it nobody can authenticate.
/// The data database may be unavailable at boot; it is then retried on each use and readiness
/// reports it `down` until it opens. Either may be SQLite (files under `DATA_DIR`) or
/// PostgreSQL (a pool of non-blocking connections on the reactor, hence the `handle`).
struct GatewayDatabases: Sendable {
    let main: any SQLDatabase
    let data: ReopeningDatabase

    static func open(
        _ configuration: GatewayConfiguration, workers: WorkerPool, handle: ReactorHandle, logger: Logger
    ) async throws -> GatewayDatabases {
        // DATA_DIR also holds the bootstrap key file, so it exists whatever the drivers.
        try FileManager.default.createDirectory(
            atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let main = try await openMain(configuration, workers: workers, handle: handle)
        let path = configuration.dataDatabasePath
        let postgres = configuration.dataPostgres
        let data = ReopeningDatabase(name: "data", dialect: postgres == nil ? .sqlite : .postgres) {
            let database: any SQLDatabase
            if let postgres {
                database = try await PostgresDatabase.open(postgres, name: "data", handle: handle)
            } else {
                database = try await SQLiteDatabase.open(path: path, name: "data", pool: workers)
            }
            return try await migrated(database, DataSchema.migrations)
        }
        if let error = await data.openNow() {
            logger.warning(
                "data database unavailable, will retry on use",
                metadata: ["error": "\(error)", "database": "\(postgres.map { "\($0.host):\($0.port)/\($0.database)" } ?? path)"])
        }
        return GatewayDatabases(main: main, data: data)
    }

    static func openMain(
        _ configuration: GatewayConfiguration, workers: WorkerPool, handle: ReactorHandle
    ) async throws -> any SQLDatabase {
        let main: any SQLDatabase
        if let postgres = configuration.mainPostgres {
            main = try await PostgresDatabase.open(postgres, name: "main", handle: handle)
        } else {
            main = try await SQLiteDatabase.open(path: configuration.mainDatabasePath, name: "main", pool: workers)
        }
        return try await migrated(main, MainSchema.migrations)
    }

    /// Brings `database` up to date, closing it when that fails (a PostgreSQL pool that cannot
    /// reach its server fails here, as a SQLite file that cannot be opened fails in `open`).
    private static func migrated(_ database: any SQLDatabase, _ migrations: [Migration]) async throws -> any SQLDatabase {
        do {
            try await Migrator.migrate(database, migrations)
            return database
        } catch {
            await database.close()
            throw error
        }
    }

    func close() async {
        await data.close()
        await main.close()
    }
}
