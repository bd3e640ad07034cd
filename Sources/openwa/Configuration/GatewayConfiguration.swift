import API
import Engines
import Foundation
import Logging
import Persistence

/// Everything `openwa serve` reads from the environment, with OpenWA's names and defaults
/// (reference section 4). Loading validates every value; the first bad one stops the boot.
struct GatewayConfiguration: Sendable {
    enum Environment: String, Sendable { case production, development, test }

    var nodeEnvironment: Environment?
    var host: String
    var port: Int
    var logLevel: Logger.Level
    var logFormatJSON: Bool
    var dataDirectory: String
    /// `sqlite` or `postgres`, for the data database.
    var databaseType: String
    /// The data database file when `databaseType` is `sqlite`.
    var dataDatabasePath: String
    /// `sqlite` or `postgres`, for the main database (`MAIN_DATABASE_TYPE`).
    var mainDatabaseType: String
    /// The main database file when `mainDatabaseType` is `sqlite`.
    var mainDatabasePath: String
    /// The data database's server when `databaseType` is `postgres`.
    var dataPostgres: PostgresConfiguration?
    /// The main database's server when `mainDatabaseType` is `postgres`.
    var mainPostgres: PostgresConfiguration?
    var engine: EngineType
    var apiMasterKey: String?
    var allowDevApiKey: Bool
    var bootstrapKeyFile: String
    var apiKeyPepper: String?
    var bodySizeLimit: Int
    var requestTimeoutMilliseconds: Int
    var headersTimeoutMilliseconds: Int
    var keepAliveTimeoutMilliseconds: Int
    var shutdownDelayMilliseconds: Int
    var shutdownTimeoutMilliseconds: Int
    var validationErrorDetail: Bool
    var trustedProxies: [IPv4Range]
    var workerThreads: Int
    var readinessTimeoutMilliseconds: Int
    var autoStartSessions: Bool
    var maxConcurrentSessions: Int
    var sessionRestoreConcurrency: Int
    /// `SESSION_WATCHDOG_INTERVAL_MS` / `_SILENCE_MS` / `_STUCK_MS`.
    var watchdog = SessionWatchdogPolicy()
    /// `WEBHOOK_*` and `SSRF_ALLOWED_HOSTS`.
    var webhooks = WebhookSettings()
    /// Where and how the native engine connects (`WA_SERVER_URL`, `WA_CA_FILE`, `WA_ROOT_PUBLIC_KEY`).
    var native = NativeEngineSettings()
    /// Which Chromium the browser engine runs and how (`BROWSER_*`).
    var browser = BrowserEngineSettings()
    /// Nil unless `REDIS_ENABLED=true`.
    var redis: RedisConfiguration? = nil
    var storage: MediaStorageConfiguration = .local(path: "./data/media")
    /// Rate limits, metrics and audit retention.
    var observability = ObservabilityConfiguration()
    /// `WS_*`: limits of the real-time channel.
    var realtime = RealtimeSettings()
    /// `MEDIA_DOWNLOAD_*`: media that send routes fetch by URL, and the cap on all send media.
    var mediaDownload = MediaDownloader.Settings()
    /// `MEDIA_DOWNLOAD_ENABLED`, `INBOUND_MEDIA_CONCURRENCY`: media of received messages.
    var inboundMedia = MediaArchive.Settings()
    /// `TEMPLATE_RENDER_MAX_CHARS`: the longest text a rendered template may send.
    var templateRenderMaxCharacters = 65_536
    /// `BULK_MAX_CONCURRENT_BATCHES`.
    var bulk = BulkSender.Settings()
    /// `MESSAGE_REAPER_INTERVAL_MS`, `_GRACE_MS`, `_BATCH_SIZE`.
    var reaper = MessageReaper.Settings()
    /// `SIMULATE_TYPING`, `SIMULATE_TYPING_MAX_MS`.
    var typing = TypingSimulation()

    var isProduction: Bool { nodeEnvironment == .production }

    // swiftlint:disable:next function_body_length
    static func load(_ source: EnvironmentSource) throws -> GatewayConfiguration {
        let read = ConfigurationReader(source: source)
        let environment = try read.choice("NODE_ENV", default: "", allowed: ["production", "development", "test"])
        let nodeEnvironment = Environment(rawValue: environment)
        let production = nodeEnvironment == .production
        let dataDirectory = read.string("DATA_DIR", default: "./data")
        let logLevel = try read.choice("LOG_LEVEL", default: "info", allowed: ["error", "warn", "info", "debug", "verbose"])
        let logFormat = try read.choice("LOG_FORMAT", default: production ? "json" : "pretty", allowed: ["json", "pretty"])
        let databaseType = try read.choice("DATABASE_TYPE", default: "sqlite", allowed: ["sqlite", "postgres"])
        let mainDatabaseType = try read.choice("MAIN_DATABASE_TYPE", default: "sqlite", allowed: ["sqlite", "postgres"])
        let engineName = read.string("ENGINE_TYPE", default: "native")
        guard let engine = EngineType(configValue: engineName) else {
            throw ConfigurationError(variable: "ENGINE_TYPE", problem: "must be one of \(EngineType.allowedValues) (got \"\(engineName)\")")
        }
        let proxies = try read.optionalString("TRUSTED_PROXIES").map { list in
            try list.split(separator: ",").map { item -> IPv4Range in
                let text = item.trimmingCharacters(in: .whitespaces)
                guard let range = IPv4Range(text) else {
                    throw ConfigurationError(variable: "TRUSTED_PROXIES", problem: "must list IPv4 addresses or CIDRs (got \"\(text)\")")
                }
                return range
            }
        } ?? []
        var configuration = GatewayConfiguration(
            nodeEnvironment: nodeEnvironment,
            host: read.string("HOST", default: production ? "0.0.0.0" : "127.0.0.1"),
            port: try read.integer("PORT", default: 2785, range: 0...65535),
            logLevel: Self.level(logLevel),
            logFormatJSON: logFormat == "json",
            dataDirectory: dataDirectory,
            databaseType: databaseType,
            dataDatabasePath: read.string("DATABASE_NAME", default: "\(dataDirectory)/openwa.sqlite"),
            mainDatabaseType: mainDatabaseType,
            mainDatabasePath: read.string("MAIN_DATABASE_NAME", default: "\(dataDirectory)/main.sqlite"),
            dataPostgres: databaseType == "postgres" ? try DatabaseConfiguration.dataPostgres(read) : nil,
            mainPostgres: mainDatabaseType == "postgres" ? try DatabaseConfiguration.mainPostgres(read) : nil,
            engine: engine,
            apiMasterKey: read.optionalString("API_MASTER_KEY"),
            allowDevApiKey: try read.bool("ALLOW_DEV_API_KEY", default: false),
            bootstrapKeyFile: read.string("BOOTSTRAP_KEY_FILE", default: "\(dataDirectory)/.api-key"),
            apiKeyPepper: read.optionalString("API_KEY_PEPPER"),
            bodySizeLimit: try read.byteSize("BODY_SIZE_LIMIT", default: 25 << 20),
            requestTimeoutMilliseconds: try read.integer("REQUEST_TIMEOUT_MS", default: 300_000, range: 1...86_400_000),
            headersTimeoutMilliseconds: try read.integer("HEADERS_TIMEOUT_MS", default: 65_000, range: 1...86_400_000),
            keepAliveTimeoutMilliseconds: try read.integer("KEEPALIVE_TIMEOUT_MS", default: 5_000, range: 1...86_400_000),
            shutdownDelayMilliseconds: min(
                30_000,
                try read.integer(
                    "SHUTDOWN_DELAY_MS", default: nodeEnvironment == .development || nodeEnvironment == .test ? 0 : 3_000,
                    range: 0...86_400_000)),
            shutdownTimeoutMilliseconds: try read.integer("SHUTDOWN_TIMEOUT_MS", default: 10_000, range: 1...300_000),
            validationErrorDetail: try read.bool("VALIDATION_ERROR_DETAIL", default: !production),
            trustedProxies: proxies,
            workerThreads: try read.integer(
                "WORKER_THREADS", default: max(1, ProcessInfo.processInfo.activeProcessorCount), range: 1...256),
            readinessTimeoutMilliseconds: try read.integer("READINESS_TIMEOUT_MS", default: 3_000, range: 1...60_000),
            autoStartSessions: try read.bool("AUTO_START_SESSIONS", default: false),
            maxConcurrentSessions: try read.integer("MAX_CONCURRENT_SESSIONS", default: 0, range: 0...1_000_000),
            sessionRestoreConcurrency: try read.integer("SESSION_RESTORE_CONCURRENCY", default: 3, range: 1...1_000))
        configuration.watchdog = SessionWatchdogPolicy(
            intervalMilliseconds: try read.integer("SESSION_WATCHDOG_INTERVAL_MS", default: 30_000, range: 0...86_400_000),
            silenceMilliseconds: try read.integer("SESSION_WATCHDOG_SILENCE_MS", default: 120_000, range: 1_000...86_400_000),
            stuckMilliseconds: try read.integer("SESSION_WATCHDOG_STUCK_MS", default: 180_000, range: 1_000...86_400_000))
        configuration.webhooks = try Self.webhookSettings(read)
        configuration.native = try NativeEngineSettings.load(read)
        configuration.browser = try BrowserEngineSettings.load(read)
        if engine == .browser { try configuration.browser.validate() }
        configuration.realtime = try Self.realtimeSettings(read)
        configuration.mediaDownload = try Self.mediaDownloadSettings(read, urlPolicy: configuration.webhooks.urlPolicy)
        configuration.inboundMedia = try Self.inboundMediaSettings(read, download: configuration.mediaDownload)
        configuration.redis = try RedisStorageConfiguration.redis(read)
        configuration.storage = try RedisStorageConfiguration.storage(read, dataDirectory: dataDirectory)
        configuration.observability = try ObservabilityConfiguration.load(read)
        configuration.templateRenderMaxCharacters = try read.integer(
            "TEMPLATE_RENDER_MAX_CHARS", default: 65_536, range: 1...(16 << 20))
        configuration.bulk.maxConcurrentBatches = try read.integer("BULK_MAX_CONCURRENT_BATCHES", default: 50, range: 1...10_000)
        configuration.reaper.intervalMilliseconds = try read.integer(
            "MESSAGE_REAPER_INTERVAL_MS", default: 600_000, range: 0...86_400_000)
        configuration.reaper.graceMilliseconds = try read.integer("MESSAGE_REAPER_GRACE_MS", default: 3_600_000, range: 60_000...2_592_000_000)
        configuration.reaper.batchSize = try read.integer("MESSAGE_REAPER_BATCH_SIZE", default: 50, range: 1...10_000)
        configuration.typing = TypingSimulation(
            enabled: try read.bool("SIMULATE_TYPING", default: true),
            maxMilliseconds: try read.integer("SIMULATE_TYPING_MAX_MS", default: 5_000, range: 0...60_000))
        try configuration.validateCombinations(read)
        if configuration.databaseType == "sqlite" {
            configuration.dataDatabasePath = Self.absolute(configuration.dataDatabasePath)
        }
        if configuration.mainDatabaseType == "sqlite" {
            configuration.mainDatabasePath = Self.absolute(configuration.mainDatabasePath)
        }
        return configuration
    }

    /// Rules across variables, and the production guard on secrets.
    private func validateCombinations(_ read: ConfigurationReader) throws {
        if databaseType == "sqlite" {
            if mainDatabaseType == "sqlite", Self.absolute(dataDatabasePath) == Self.absolute(mainDatabasePath) {
                throw ConfigurationError(variable: "DATABASE_NAME", problem: "must not be the same file as MAIN_DATABASE_NAME")
            }
            if !dataDatabasePath.contains("/") {
                throw ConfigurationError(
                    variable: "DATABASE_NAME", problem: "must be a path to a SQLite file, not a bare name (got \"\(dataDatabasePath)\")")
            }
        }
        if let data = dataPostgres, let main = mainPostgres, data.host == main.host, data.port == main.port,
            data.database == main.database
        {
            // One database for both is what OpenWA's split exists to avoid: authentication must
            // survive the data database being down or replaced.
            throw ConfigurationError(variable: "MAIN_DATABASE_NAME", problem: "must name another database than DATABASE_NAME")
        }
        guard isProduction else { return }
        if allowDevApiKey {
            throw ConfigurationError(variable: "ALLOW_DEV_API_KEY", problem: "must not be true when NODE_ENV=production")
        }
        if let key = apiMasterKey {
            let weak = ["dev-admin-key", "changeme", "change-me", "openwa", "admin", "password", "secret", "123456", "qwerty", "root", "test", "demo"]
            if key.count < 32 || weak.contains(key.lowercased()) {
                throw ConfigurationError(
                    variable: "API_MASTER_KEY", problem: "is too weak for NODE_ENV=production (use at least 32 random characters)")
            }
        }
    }

    private static func level(_ name: String) -> Logger.Level {
        switch name {
        case "error": return .error
        case "warn": return .warning
        case "debug": return .debug
        case "verbose": return .trace
        default: return .info
        }
    }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}

extension GatewayConfiguration {
    static func realtimeSettings(_ read: ConfigurationReader) throws -> RealtimeSettings {
        var settings = RealtimeSettings()
        settings.framesPerSecond = try read.integer("WS_RATE_LIMIT_FRAME_PER_SECOND", default: 60, range: 1...100_000)
        settings.frameBurst = try read.integer("WS_RATE_LIMIT_FRAME_BURST", default: 120, range: 1...100_000)
        settings.handshakesPerWindow = try read.integer("WS_RATE_LIMIT_HANDSHAKE_MAX", default: 10, range: 1...1_000_000)
        settings.handshakeWindowMilliseconds = try read.integer(
            "WS_RATE_LIMIT_HANDSHAKE_WINDOW_MS", default: 60_000, range: 1...86_400_000)
        settings.maxSocketsPerKey = try read.integer("WS_MAX_SOCKETS_PER_KEY", default: 16, range: 1...100_000)
        settings.pingIntervalMilliseconds = try read.integer("WS_PING_INTERVAL_MS", default: 25_000, range: 100...3_600_000)
        settings.pingTimeoutMilliseconds = try read.integer("WS_PING_TIMEOUT_MS", default: 20_000, range: 100...3_600_000)
        settings.maxQueuedBytesPerSocket = try read.byteSize("WS_MAX_QUEUED_BYTES", default: 4 << 20)
        return settings
    }

    static func webhookSettings(_ read: ConfigurationReader) throws -> WebhookSettings {
        var settings = WebhookSettings()
        settings.timeoutMilliseconds = try read.integer("WEBHOOK_TIMEOUT", default: 10_000, range: 100...300_000)
        settings.retryDelayMilliseconds = try read.integer("WEBHOOK_RETRY_DELAY", default: 5_000, range: 1...3_600_000)
        settings.destinationConcurrency = try read.integer("WEBHOOK_DISPATCH_CONCURRENCY", default: 16, range: 1...1_024)
        settings.maxPerSession = try read.integer("WEBHOOK_MAX_PER_SESSION", default: 16, range: 0...10_000)
        settings.maxPayloadBytes = try read.integer("WEBHOOK_MAX_PAYLOAD_BYTES", default: 1_048_576, range: 1_024...(64 << 20))
        settings.mediaInlineMaxBytes = try read.integer("WEBHOOK_MEDIA_INLINE_MAX_BYTES", default: 1_048_576, range: 0...(64 << 20))
        settings.outboxRetentionDays = try read.integer("WEBHOOK_OUTBOX_RETENTION_DAYS", default: 7, range: 0...3_650)
        let allowed = (read.optionalString("SSRF_ALLOWED_HOSTS") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        settings.urlPolicy = WebhookURLPolicy(
            protect: try read.bool("WEBHOOK_SSRF_PROTECT", default: true), allowedHosts: Set(allowed))
        return settings
    }
}
