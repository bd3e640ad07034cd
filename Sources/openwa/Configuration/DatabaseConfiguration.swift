import Persistence

/// The PostgreSQL part of the configuration (reference section 4.3): `DATABASE_*` for the data
/// database, `MAIN_DATABASE_*` for the main one, which falls back to the data database's server
/// and credentials and shares its TLS, pool and timeout settings.
enum DatabaseConfiguration {
    /// The data database's server, from `DATABASE_*`.
    static func dataPostgres(_ read: ConfigurationReader) throws -> PostgresConfiguration {
        guard let username = read.optionalString("DATABASE_USERNAME") else {
            throw ConfigurationError(variable: "DATABASE_USERNAME", problem: "is required when DATABASE_TYPE=postgres")
        }
        return try PostgresConfiguration(
            host: read.string("DATABASE_HOST", default: "localhost"),
            port: read.integer("DATABASE_PORT", default: 5432, range: 1...65535),
            username: username,
            password: read.string("DATABASE_PASSWORD", default: ""),
            database: read.string("DATABASE_NAME", default: "openwa"),
            tls: tls(read), schema: schema(read),
            poolSize: read.integer("DATABASE_POOL_SIZE", default: 10, range: 1...1000),
            statementTimeoutMilliseconds: read.integer(
                "DATABASE_STATEMENT_TIMEOUT_MS", default: 30_000, range: 1...86_400_000),
            idleTimeoutMilliseconds: read.integer("DATABASE_IDLE_TIMEOUT_MS", default: 30_000, range: 1...86_400_000),
            connectionTimeoutMilliseconds: read.integer(
                "DATABASE_CONNECTION_TIMEOUT_MS", default: 10_000, range: 1...600_000))
    }

    /// The main database's server, from `MAIN_DATABASE_*`, falling back to `DATABASE_*`.
    static func mainPostgres(_ read: ConfigurationReader) throws -> PostgresConfiguration {
        guard let username = read.optionalString("MAIN_DATABASE_USERNAME") ?? read.optionalString("DATABASE_USERNAME")
        else {
            throw ConfigurationError(
                variable: "MAIN_DATABASE_USERNAME", problem: "is required when MAIN_DATABASE_TYPE=postgres")
        }
        let defaultPort = try read.integer("DATABASE_PORT", default: 5432, range: 1...65535)
        return try PostgresConfiguration(
            host: read.optionalString("MAIN_DATABASE_HOST") ?? read.string("DATABASE_HOST", default: "localhost"),
            port: read.integer("MAIN_DATABASE_PORT", default: defaultPort, range: 1...65535),
            username: username,
            password: read.optionalString("MAIN_DATABASE_PASSWORD") ?? read.string("DATABASE_PASSWORD", default: ""),
            database: read.string("MAIN_DATABASE_NAME", default: "openwa_main"),
            tls: tls(read), schema: schema(read),
            poolSize: read.integer("DATABASE_POOL_SIZE", default: 10, range: 1...1000),
            statementTimeoutMilliseconds: read.integer(
                "DATABASE_STATEMENT_TIMEOUT_MS", default: 30_000, range: 1...86_400_000),
            idleTimeoutMilliseconds: read.integer("DATABASE_IDLE_TIMEOUT_MS", default: 30_000, range: 1...86_400_000),
            connectionTimeoutMilliseconds: read.integer(
                "DATABASE_CONNECTION_TIMEOUT_MS", default: 10_000, range: 1...600_000))
    }

    /// `DATABASE_SSL=true` requires TLS; `DATABASE_SSL_REJECT_UNAUTHORIZED` (default true) then
    /// also verifies the server's certificate and name, as node-postgres does.
    private static func tls(_ read: ConfigurationReader) throws -> PostgresConfiguration.TLSMode {
        guard try read.bool("DATABASE_SSL", default: false) else { return .disable }
        return try read.bool("DATABASE_SSL_REJECT_UNAUTHORIZED", default: true) ? .verifyFull : .require
    }

    /// `POSTGRES_SCHEMA`: an existing schema; OpenWA refuses the reserved `pg_` prefix.
    private static func schema(_ read: ConfigurationReader) throws -> String {
        let schema = read.string("POSTGRES_SCHEMA", default: "public")
        let allowed = schema.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard allowed, !schema.isEmpty, !schema.lowercased().hasPrefix("pg_"), !(schema.first?.isNumber ?? true) else {
            throw ConfigurationError(
                variable: "POSTGRES_SCHEMA",
                problem: "must be a plain identifier (letters, digits, _) not starting with pg_ (got \"\(schema)\")")
        }
        return schema
    }
}
