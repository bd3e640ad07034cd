import API
import Engines
import Foundation
import Logging
import Persistence
import Reactor
import Synchronization
import TestSupport

/// The API served for real: a reactor thread, an HTTP server on 127.0.0.1:0, SQLite main and
/// data databases in a fresh temporary directory, and a known admin key.
final class TestGateway: Sendable {
    static let adminKey = "owa_k1_" + String(repeating: "ab", count: 32)

    let handle: ReactorHandle
    let port: Int
    let directory: URL
    let keys: ApiKeyService
    let main: any SQLDatabase
    let data: ReopeningDatabase
    let readiness: ReadinessBox

    private init(
        handle: ReactorHandle, port: Int, directory: URL, keys: ApiKeyService, main: any SQLDatabase,
        data: ReopeningDatabase, readiness: ReadinessBox
    ) {
        self.handle = handle
        self.port = port
        self.directory = directory
        self.keys = keys
        self.main = main
        self.data = data
        self.readiness = readiness
    }

    /// - Parameter dataPath: where the data database lives (default: inside the temp directory);
    ///   tests point it somewhere unopenable to see readiness fail.
    static func start(
        clock: any ReactorClock = MonotonicReactorClock(), dataPath: String? = nil, trustedProxies: [IPv4Range] = [],
        validationDetail: Bool = true, now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> TestGateway {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let workers = WorkerPool(size: 2)
        let main = try await SQLiteDatabase.open(path: directory.appendingPathComponent("main.sqlite").path, name: "main", pool: workers)
        try await Migrator.migrate(main, MainSchema.migrations)
        let dataFile = dataPath ?? directory.appendingPathComponent("openwa.sqlite").path
        let data = ReopeningDatabase(name: "data", dialect: .sqlite) {
            let database = try await SQLiteDatabase.open(path: dataFile, name: "data", pool: workers)
            try await Migrator.migrate(database, DataSchema.migrations)
            return database
        }
        _ = await data.openNow()
        let keys = ApiKeyService(
            store: SQLApiKeyStore(database: main), pepper: nil,
            bootstrapKeyFile: directory.appendingPathComponent(".api-key").path, now: now)
        _ = try await keys.bootstrapIfEmpty(masterKey: adminKey, allowDevKey: false)
        let port = Atomic<Int>(0)
        let readiness = ReadinessBox()
        let handle = try ReactorThread.start(clock: clock, workers: workers, logger: quietLogger) { reactor in
            let service = ReadinessService(main: main, data: data, handle: reactor.handle)
            readiness.service = service
            var router = Router()
            router.add(contentsOf: HealthRoutes.routes(readiness: service))
            router.add(contentsOf: ApiKeyRoutes.routes(keys: keys, engine: .native))
            let api = APIServer(
                router: router, auth: AuthGuard(keys: keys),
                options: APIServer.Options(
                    validationDetail: validationDetail, clientAddresses: ClientAddressResolver(trustedProxies: trustedProxies)),
                handle: reactor.handle, logger: quietLogger)
            let server = try HTTPServer(
                reactor: reactor, configuration: HTTPServer.Configuration(),
                responder: api)
            port.store(server.port, ordering: .relaxed)
            reactor.onShutdown { server.closeNow() }
        }
        return TestGateway(
            handle: handle, port: port.load(ordering: .relaxed), directory: directory, keys: keys, main: main, data: data,
            readiness: readiness)
    }

    /// One request on a fresh connection.
    func request(
        _ method: String, _ path: String, key: String? = TestGateway.adminKey, headers: [(String, String)] = [],
        body: String? = nil
    ) async throws -> TestResponse {
        let port = self.port
        var all = headers
        if let key { all.append(("X-API-Key", key)) }
        let headerList = all
        let response = try await blocking { try LoopbackClient(port: port).request(method, path, headers: headerList, body: body) }
        guard let response else { throw TestGatewayError.noResponse }
        return response
    }

    func stop() async {
        handle.stop()
        await handle.waitUntilStopped()
        await data.close()
        await main.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

enum TestGatewayError: Error { case noResponse }

/// The readiness service made on the reactor thread during setup, for tests that drain.
final class ReadinessBox: @unchecked Sendable {
    // Set once during reactor setup, which completes before `ReactorThread.start` returns;
    // read only afterwards.
    var service: ReadinessService?
}
