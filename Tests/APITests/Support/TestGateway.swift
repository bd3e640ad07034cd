import API
import Engines
import Foundation
import Logging
import Persistence
import Reactor
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
    let sessions: SessionManager
    let events: EventBus
    let webhooks: WebhookService?
    let audit: AuditService
    let registry: MetricsRegistry
    let loopLag: LoopLagProbe
    /// Set when the gateway counts rate limits in Redis.
    let redis: RedisClient?
    /// Received media: local files under the temporary directory unless a test names S3.
    let archive: MediaArchive
    /// Bulk sends (`send-bulk`), stopped with the gateway.
    let bulk: BulkSender

    private init(
        handle: ReactorHandle, port: Int, directory: URL, keys: ApiKeyService, main: any SQLDatabase,
        data: ReopeningDatabase, readiness: ReadinessBox, sessions: SessionManager, events: EventBus,
        webhooks: WebhookService?, audit: AuditService, registry: MetricsRegistry, loopLag: LoopLagProbe, redis: RedisClient?,
        archive: MediaArchive, bulk: BulkSender
    ) {
        self.archive = archive
        self.bulk = bulk
        self.webhooks = webhooks
        self.audit = audit
        self.registry = registry
        self.loopLag = loopLag
        self.redis = redis
        self.sessions = sessions
        self.events = events
        self.handle = handle
        self.port = port
        self.directory = directory
        self.keys = keys
        self.main = main
        self.data = data
        self.readiness = readiness
    }

    /// - Parameters:
    ///   - dataPath: where the data database lives (default: inside the temp directory); tests
    ///     point it somewhere unopenable to see readiness fail.
    ///   - dataPostgres: put the data database on this PostgreSQL server instead.
    static func start(
        clock: any ReactorClock = MonotonicReactorClock(), dataPath: String? = nil,
        dataPostgres: PostgresConfiguration? = nil, trustedProxies: [IPv4Range] = [],
        validationDetail: Bool = true, readinessTimeoutMilliseconds: Int = 3_000,
        engines: (@Sendable (ReactorHandle) throws -> any WhatsAppEngineFactory)? = nil,
        authState: any AuthStateStore = InMemoryAuthStateStore(),
        native: NativeEngineConfiguration? = nil,
        webhooks webhookSettings: WebhookSettings? = nil,
        maxConcurrentSessions: Int = 0, realtime realtimeSettings: RealtimeSettings = RealtimeSettings(),
        now: @escaping @Sendable () -> Date = { Date() }, limits: TestLimits = TestLimits(),
        inboundMedia: MediaArchive.Settings = MediaArchive.Settings(), storage: MediaStorageConfiguration? = nil
    ) async throws -> TestGateway {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let workers = WorkerPool(size: 2)
        // The reactor first, as in the gateway: PostgreSQL connections live on it.
        let handle = try ReactorThread.start(clock: clock, workers: workers, logger: quietLogger)
        let main = try await SQLiteDatabase.open(path: directory.appendingPathComponent("main.sqlite").path, name: "main", pool: workers)
        try await Migrator.migrate(main, MainSchema.migrations)
        let dataFile = dataPath ?? directory.appendingPathComponent("openwa.sqlite").path
        let data = ReopeningDatabase(name: "data", dialect: dataPostgres == nil ? .sqlite : .postgres) {
            let database: any SQLDatabase
            if let dataPostgres {
                database = try await PostgresDatabase.open(dataPostgres, name: "data", handle: handle)
            } else {
                database = try await SQLiteDatabase.open(path: dataFile, name: "data", pool: workers)
            }
            do {
                try await Migrator.migrate(database, DataSchema.migrations)
            } catch {
                await database.close()
                throw error
            }
            return database
        }
        _ = await data.openNow()
        let keys = ApiKeyService(
            store: SQLApiKeyStore(database: main), pepper: nil,
            bootstrapKeyFile: directory.appendingPathComponent(".api-key").path, now: now)
        _ = try await keys.bootstrapIfEmpty(masterKey: adminKey, allowDevKey: false)
        let readiness = ReadinessBox()
        let events = EventBus()
        // With `native`, credentials live in the data database beside the sessions, as in the gateway.
        let sessionAuth: any AuthStateStore = native == nil ? authState : SQLAuthStateStore(database: data)
        var webhooks: WebhookService?
        if let webhookSettings {
            webhooks = try await WebhookService(
                handle: handle, workers: workers, database: data, settings: webhookSettings, logger: quietLogger)
        }
        let ledger = MessageLedger(database: data, webhooks: webhooks, bus: events)
        let archive = try await TestMediaStorage.archive(
            storage ?? .local(path: directory.appendingPathComponent("media").path), data: data, settings: inboundMedia,
            workers: workers, handle: handle)
        let factory: (any WhatsAppEngineFactory)? = try native.map { native in
            var native = native
            if native.media == nil {
                native.media = NativeMediaTransfer(handle: handle, tls: native.tls, archive: archive, logger: quietLogger)
            }
            return NativeEngineFactory(configuration: native, reactor: handle, authState: sessionAuth, messages: ledger, logger: quietLogger)
        } ?? engines?(handle)
        let sessions = SessionManager(
            handle: handle, store: SQLSessionStore(database: data), authState: sessionAuth, engines: factory,
            bus: events,
            audit: SQLAuditLogStore(database: main), maxConcurrentSessions: maxConcurrentSessions, logger: quietLogger,
            messages: ledger)
        await webhooks?.inlineMedia(from: MessageMediaSource(archive: archive) { id in await sessions.mediaFetcher(id: id) })
        try await webhooks?.start(bus: events)
        let webhooksForRoutes = webhooks
        let templates = MessageTemplates(
            store: SQLTemplateStore(database: data), maxRenderedCharacters: limits.templateRenderMaxCharacters)
        templates.follow(events)
        ledger.follow(events, archive: archive)
        let mediaSettings = limits.media
        let bulkDownloader = try await handle.submit { MediaDownloader(reactor: $0, settings: mediaSettings) }
        let bulk = BulkSender(
            store: SQLBatchStore(database: data), sessions: sessions, media: bulkDownloader, settings: limits.bulk, logger: quietLogger)
        bulk.follow(events)
        let audit = AuditService(store: SQLAuditLogStore(database: main), logger: quietLogger)
        let registry = MetricsRegistry()
        let loopLag = LoopLagProbe(intervalMilliseconds: limits.loopLagIntervalMilliseconds)
        let metrics = HTTPMetrics(registry: registry, handle: handle)
        GatewayMetrics.register(
            in: registry,
            GatewayMetrics.Sources(workers: workers, loopLag: loopLag, sessions: sessions, statsCacheMilliseconds: 0))
        let redis = limits.redis.map { RedisClient(configuration: $0, handle: handle, logger: quietLogger) }
        let rateLimiter = limits.rateLimits.map { windows in limits.makeLimiter(windows, redis: redis) }
        for record in limits.auditSeed { await audit.write(record) }
        if limits.auditRetentionDays > 0 {
            await audit.startRetention(
                days: limits.auditRetentionDays, handle: handle, intervalMilliseconds: 86_400_000,
                onSweep: limits.onRetentionSweep)
        }
        let port = try await handle.submit { reactor in
            let service = ReadinessService(
                main: main, data: data, handle: reactor.handle, timeoutMilliseconds: readinessTimeoutMilliseconds)
            readiness.service = service
            var router = Router()
            router.add(contentsOf: HealthRoutes.routes(readiness: service))
            router.add(contentsOf: ApiKeyRoutes.routes(keys: keys, engine: .native, audit: audit))
            router.add(contentsOf: SessionRoutes.routes(sessions: sessions))
            if let webhooks = webhooksForRoutes { router.add(contentsOf: WebhookRoutes.routes(webhooks: webhooks, sessions: sessions)) }
            router.add(contentsOf: AuditRoutes.routes(audit: audit))
            router.add(contentsOf: MetricsRoutes.routes(registry: registry, token: limits.metricsToken))
            if limits.metricsToken != nil { loopLag.start(on: reactor) }
            router.add(
                contentsOf: MessageRoutes.routes(
                    sessions: sessions, previews: LinkPreviewFetcher(reactor: reactor, settings: limits.media, logger: quietLogger),
                    idempotency: SendIdempotency(database: data), typing: limits.typing))
            router.add(
                contentsOf: TemplateRoutes.routes(
                    templates: templates, sessions: sessions, idempotency: SendIdempotency(database: data), typing: limits.typing))
            router.add(contentsOf: MessageGapRoutes.routes(sessions: sessions))
            router.add(contentsOf: BulkRoutes.routes(bulk: bulk, sessions: sessions, maxMediaBytes: limits.media.maxBytes))
            router.add(contentsOf: MessageListRoutes.routes(messages: ledger, sessions: sessions, archive: archive))
            router.add(contentsOf: MediaRoutes.routes(sessions: sessions, archive: archive))
            router.add(contentsOf: ContactRoutes.routes(sessions: sessions))
            router.add(contentsOf: MessageActionRoutes.routes(sessions: sessions, idempotency: SendIdempotency(database: data)))
            router.add(contentsOf: ChatRoutes.routes(sessions: sessions, messages: ledger, archive: archive))
            let downloader = MediaDownloader(reactor: reactor, settings: limits.media)
            router.add(contentsOf: GroupRoutes.routes(sessions: sessions))
            router.add(contentsOf: PictureRoutes.routes(sessions: sessions, media: downloader))
            router.add(contentsOf: PresenceRoutes.routes(sessions: sessions))
            router.add(
                contentsOf: MessageSendRoutes.routes(
                    sessions: sessions, media: downloader, idempotency: SendIdempotency(database: data), typing: limits.typing))
            let api = APIServer(
                router: router, auth: AuthGuard(keys: keys),
                options: APIServer.Options(
                    validationDetail: validationDetail, clientAddresses: ClientAddressResolver(trustedProxies: trustedProxies),
                    rateLimiter: rateLimiter, metrics: metrics, audit: audit),
                handle: reactor.handle, logger: quietLogger)
            let realtime = RealtimeChannel(
                reactor: reactor, keys: keys, settings: realtimeSettings,
                clientAddresses: ClientAddressResolver(trustedProxies: trustedProxies), logger: quietLogger)
            realtime.start(bus: events)
            let server = try HTTPServer(
                reactor: reactor, configuration: HTTPServer.Configuration(),
                responder: GatewayResponder(api: api, realtime: realtime))
            reactor.onShutdown {
                realtime.stop()
                server.closeNow()
            }
            return server.port
        }
        return TestGateway(
            handle: handle, port: port, directory: directory, keys: keys, main: main, data: data,
            readiness: readiness, sessions: sessions, events: events, webhooks: webhooksForRoutes, audit: audit,
            registry: registry, loopLag: loopLag, redis: redis, archive: archive, bulk: bulk)
    }

    /// How long a request waits for its response. Past the engine's own request timeout (60 s),
    /// so a slow round trip to the simulator under a loaded parallel run surfaces as the
    /// gateway's error body rather than a client that gave up first; the suites' time limits
    /// still catch a hang.
    static let responseTimeoutSeconds = 75

    /// One request on a fresh connection.
    func request(
        _ method: String, _ path: String, key: String? = TestGateway.adminKey, headers: [(String, String)] = [],
        body: String? = nil
    ) async throws -> TestResponse {
        let port = self.port
        var all = headers
        if let key { all.append(("X-API-Key", key)) }
        let headerList = all
        let response = try await blocking {
            try LoopbackClient(port: port, receiveTimeoutSeconds: Self.responseTimeoutSeconds).request(method, path, headers: headerList, body: body)
        }
        guard let response else { throw TestGatewayError.noResponse }
        return response
    }

    /// One request with a binary body on a fresh connection.
    func request(
        _ method: String, _ path: String, key: String? = TestGateway.adminKey, headers: [(String, String)] = [], bytes: [UInt8]
    ) async throws -> TestResponse {
        let port = self.port
        var all = headers
        if let key { all.append(("X-API-Key", key)) }
        let headerList = all
        let response = try await blocking {
            try LoopbackClient(port: port, receiveTimeoutSeconds: Self.responseTimeoutSeconds).request(method, path, headers: headerList, bytes: bytes)
        }
        guard let response else { throw TestGatewayError.noResponse }
        return response
    }

    func stop() async {
        await bulk.shutdown()
        await sessions.shutdown()
        await webhooks?.shutdown()
        await redis?.close()
        // The data database first: a PostgreSQL pool closes its connections on the reactor.
        await data.close()
        handle.stop()
        await handle.waitUntilStopped()
        await main.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

enum TestGatewayError: Error { case noResponse }

/// The readiness service made on the reactor thread during setup, for tests that drain.
final class ReadinessBox: @unchecked Sendable {
    // Set once during setup on the reactor, which completes before `start` returns (the submit
    // that runs it is awaited); read only afterwards.
    var service: ReadinessService?
}
