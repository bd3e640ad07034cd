import API
import Engines
import Foundation
import Logging
import Persistence
import Reactor
import Synchronization

/// The running gateway: databases, services, the reactor with its HTTP server, and the
/// shutdown sequence. `run()` returns the process exit code.
final class Gateway: Sendable {
    let configuration: GatewayConfiguration
    let logger: Logger

    init(configuration: GatewayConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Boots, serves until SIGTERM/SIGINT, drains, and returns the exit status.
    func run() async throws -> Int32 {
        let workers = WorkerPool(size: configuration.workerThreads)
        let configuration = self.configuration
        let logger = self.logger
        // The reactor starts first: PostgreSQL connections live on it, so the databases need it.
        // SIGTERM/SIGINT stay blocked meanwhile and are read once the watcher is installed.
        let handle = try ReactorThread.start(workers: workers, logger: logger)
        let databases: GatewayDatabases
        let bootstrap: ApiKeyService.BootstrapOutcome
        let boundPort = BoundPort()
        var reaping: Task<Void, Never>?
        do {
            databases = try await GatewayDatabases.open(configuration, workers: workers, handle: handle, logger: logger)
            let keys = ApiKeyService(
                store: SQLApiKeyStore(database: databases.main), pepper: configuration.apiKeyPepper,
                bootstrapKeyFile: configuration.bootstrapKeyFile)
            // Credentials live in the data database, so a session logs in again after a restart
            // (or on another node) without a new QR. The browser engine keeps its state in the
            // session's Chromium profile under DATA_DIR/browser instead.
            let authState = SQLAuthStateStore(database: databases.data)
            let bus = EventBus()
            let webhooks = try await WebhookService(
                handle: handle, workers: workers, database: databases.data, settings: configuration.webhooks, logger: logger)
            // A message, its row and its webhook outbox rows commit together.
            let ledger = MessageLedger(database: databases.data, webhooks: webhooks, bus: bus)
            let archive = try await GatewayMedia.archive(
                configuration, data: databases.data, workers: workers, handle: handle, logger: logger)
            let engines: any WhatsAppEngineFactory
            switch configuration.engine {
            case .native:
                var native = try configuration.native.engineConfiguration()
                native.media = NativeMediaTransfer(handle: handle, tls: native.tls, archive: archive, logger: logger)
                engines = NativeEngineFactory(
                    configuration: native, reactor: handle, authState: authState, messages: ledger, logger: logger)
            case .browser:
                engines = BrowserEngineFactory(
                    configuration: try configuration.browser.engineConfiguration(dataDirectory: configuration.dataDirectory),
                    reactor: handle, logger: logger)
            }
            let sessions = SessionManager(
                handle: handle, store: SQLSessionStore(database: databases.data), authState: authState,
                engines: engines, bus: bus, audit: SQLAuditLogStore(database: databases.main),
                maxConcurrentSessions: configuration.maxConcurrentSessions, logger: logger,
                messages: ledger)
            let templates = MessageTemplates(
                store: SQLTemplateStore(database: databases.data), maxRenderedCharacters: configuration.templateRenderMaxCharacters)
            templates.follow(bus)
            ledger.follow(bus, archive: archive)
            let downloader = try await handle.submit { MediaDownloader(reactor: $0, settings: configuration.mediaDownload) }
            let bulk = BulkSender(
                store: SQLBatchStore(database: databases.data), sessions: sessions, media: downloader, settings: configuration.bulk,
                logger: logger)
            bulk.follow(bus)
            // Webhook deliveries put small message media into their bodies.
            await webhooks.inlineMedia(from: MessageMediaSource(archive: archive) { id in await sessions.mediaFetcher(id: id) })
            let observability = GatewayObservability(
                configuration: configuration, main: databases.main, workers: workers, handle: handle, logger: logger)
            observability.registerStandardMetrics(
                workers: workers, sessions: sessions,
                statsCacheMilliseconds: configuration.observability.statsCacheMilliseconds)
            observability.registerWebhookMetrics(webhooks)
            let realtimeBus = await RealtimeFanOut.bus(
                local: bus, pubsub: observability.redis.map { RedisPubSub(client: $0, logger: logger) }, logger: logger)
            do {
                bootstrap = try await keys.bootstrapIfEmpty(
                    masterKey: configuration.apiMasterKey, allowDevKey: configuration.allowDevApiKey)
                try await handle.submit { reactor in
                    try Self.serve(
                        reactor: reactor, configuration: configuration, databases: databases, keys: keys,
                        sessions: sessions, webhooks: webhooks, templates: templates, bulk: bulk, media: downloader, ledger: ledger,
                        archive: archive, bus: realtimeBus,
                        observability: observability, boundPort: boundPort, logger: logger)
                }
                // Before sessions start: their first events already go to the outbox.
                try await webhooks.start(bus: bus)
                // Retention runs at startup and every 24 h; the boot does not wait for the sweep.
                Task { await observability.audit.startRetention(days: configuration.observability.auditRetentionDays, handle: handle) }
                await sessions.restoreAtBoot(
                    autoStart: configuration.autoStartSessions, concurrency: configuration.sessionRestoreConcurrency)
                // After the restore, so a resumed batch sees its session coming up, not a stale status.
                await bulk.resumeUnfinished()
                reaping = MessageReaper(ledger: ledger, settings: configuration.reaper, logger: logger).start()
                await sessions.startWatchdog(configuration.watchdog)
            } catch {
                await databases.close()
                throw error
            }
        } catch {
            handle.stop()
            await handle.waitUntilStopped()
            throw error
        }
        Banner.print(configuration: configuration, port: boundPort.value.load(ordering: .relaxed), bootstrap: bootstrap, logger: logger)
        await handle.waitUntilStopped()
        reaping?.cancel()
        await databases.close()
        logger.info("stopped")
        return 0
    }

    /// Builds the HTTP server and the shutdown sequence on the reactor thread.
    private static func serve(
        reactor: Reactor, configuration: GatewayConfiguration, databases: GatewayDatabases, keys: ApiKeyService,
        sessions: SessionManager, webhooks: WebhookService, templates: MessageTemplates, bulk: BulkSender,
        media downloader: MediaDownloader, ledger: MessageLedger, archive: MediaArchive, bus: EventBus,
        observability: GatewayObservability,
        boundPort: BoundPort, logger: Logger
    ) throws {
        let readiness = ReadinessService(
            main: databases.main, data: databases.data, handle: reactor.handle,
            timeoutMilliseconds: configuration.readinessTimeoutMilliseconds)
        var router = Router()
        router.add(contentsOf: HealthRoutes.routes(readiness: readiness))
        router.add(contentsOf: ApiKeyRoutes.routes(keys: keys, engine: configuration.engine, audit: observability.audit))
        router.add(contentsOf: SessionRoutes.routes(sessions: sessions))
        router.add(contentsOf: WebhookRoutes.routes(webhooks: webhooks, sessions: sessions))
        router.add(contentsOf: AuditRoutes.routes(audit: observability.audit))
        router.add(
            contentsOf: MetricsRoutes.routes(registry: observability.registry, token: configuration.observability.metricsToken))
        if configuration.observability.metricsToken != nil { observability.loopLag.start(on: reactor) }
        let idempotency = SendIdempotency(database: databases.data)
        let previews = LinkPreviewFetcher(reactor: reactor, settings: configuration.mediaDownload, logger: logger)
        router.add(
            contentsOf: MessageRoutes.routes(
                sessions: sessions, previews: previews, idempotency: idempotency, typing: configuration.typing))
        router.add(
            contentsOf: TemplateRoutes.routes(
                templates: templates, sessions: sessions, previews: previews, idempotency: idempotency, typing: configuration.typing))
        router.add(contentsOf: MessageListRoutes.routes(messages: ledger, sessions: sessions, archive: archive))
        router.add(contentsOf: MediaRoutes.routes(sessions: sessions, archive: archive))
        router.add(contentsOf: ContactRoutes.routes(sessions: sessions))
        router.add(contentsOf: MessageActionRoutes.routes(sessions: sessions, idempotency: idempotency))
        router.add(contentsOf: ChatRoutes.routes(sessions: sessions, messages: ledger, archive: archive))
        router.add(contentsOf: MessageGapRoutes.routes(sessions: sessions))
        router.add(contentsOf: BulkRoutes.routes(bulk: bulk, sessions: sessions, maxMediaBytes: configuration.mediaDownload.maxBytes))
        router.add(contentsOf: GroupRoutes.routes(sessions: sessions))
        router.add(contentsOf: PictureRoutes.routes(sessions: sessions, media: downloader))
        router.add(contentsOf: PresenceRoutes.routes(sessions: sessions))
        router.add(
            contentsOf: MessageSendRoutes.routes(sessions: sessions, media: downloader, idempotency: idempotency, typing: configuration.typing))
        let clientAddresses = ClientAddressResolver(trustedProxies: configuration.trustedProxies)
        let api = APIServer(
            router: router, auth: AuthGuard(keys: keys),
            options: APIServer.Options(
                validationDetail: configuration.validationErrorDetail, clientAddresses: clientAddresses,
                rateLimiter: observability.rateLimiter, metrics: observability.metrics, audit: observability.audit),
            handle: reactor.handle, logger: logger)
        // Socket.IO and the plain event stream share the API's port, as in OpenWA.
        let realtime = RealtimeChannel(
            reactor: reactor, keys: keys, settings: configuration.realtime, clientAddresses: clientAddresses, logger: logger)
        realtime.start(bus: bus)
        let server = try HTTPServer(
            reactor: reactor, configuration: serverConfiguration(configuration),
            responder: GatewayResponder(api: api, realtime: realtime))
        boundPort.value.store(server.port, ordering: .relaxed)
        let shutdown = ShutdownSequence(
            reactor: reactor, server: server, readiness: readiness, configuration: configuration, logger: logger,
            // Held long-polls are answered and sockets closed, or the HTTP drain would wait for them.
            beforeHTTPClose: { realtime.stop() },
            beforeStop: {
                // Batches stop between two messages and resume at the next boot.
                await bulk.shutdown()
                await sessions.shutdown()
                // Pending deliveries stay in the outbox and go out after the next start.
                await webhooks.shutdown()
                await observability.redis?.close()
            })
        try shutdown.watchSignals()
    }

    static func serverConfiguration(_ configuration: GatewayConfiguration) -> HTTPServer.Configuration {
        HTTPServer.Configuration(
            host: configuration.host, port: configuration.port,
            limits: HTTPRequestParser.Limits(maxBodyBytes: configuration.bodySizeLimit),
            headersTimeoutMilliseconds: configuration.headersTimeoutMilliseconds,
            requestTimeoutMilliseconds: configuration.requestTimeoutMilliseconds,
            keepAliveTimeoutMilliseconds: configuration.keepAliveTimeoutMilliseconds,
            errorResponse: { status, message in APIError(status: status, message: .string(message)).response() })
    }
}

/// The port the server bound (PORT=0 picks a free one), handed from the reactor's setup.
private final class BoundPort: Sendable {
    let value = Atomic<Int>(0)
}
