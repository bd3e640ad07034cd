/// Where a PostgreSQL database is and how the pool in front of it behaves.
///
/// Plain values only: `PostgresDatabase` turns them into a libpq connection string.
package struct PostgresConfiguration: Sendable, Equatable {
    /// How the connection is protected (libpq's `sslmode`).
    package enum TLSMode: String, Sendable {
        /// No TLS (`DATABASE_SSL=false`).
        case disable
        /// TLS required, the certificate not checked (`DATABASE_SSL_REJECT_UNAUTHORIZED=false`).
        case require
        /// TLS required, the certificate and host name verified against the system's trust.
        case verifyFull = "verify-full"
    }

    package var host: String
    package var port: Int
    package var username: String
    package var password: String
    package var database: String
    package var tls: TLSMode
    /// The schema unqualified table names resolve to (`POSTGRES_SCHEMA`, default `public`).
    package var schema: String
    /// Most connections open at once (`DATABASE_POOL_SIZE`).
    package var poolSize: Int
    /// How long one statement may run (`DATABASE_STATEMENT_TIMEOUT_MS`). The server enforces it
    /// (`statement_timeout`); the reactor's timer is a backstop a little later, for a server or
    /// network that stopped answering altogether.
    package var statementTimeoutMilliseconds: Int
    /// How long an unused connection stays open (`DATABASE_IDLE_TIMEOUT_MS`).
    package var idleTimeoutMilliseconds: Int
    /// How long a caller may wait for a connection, opening one included
    /// (`DATABASE_CONNECTION_TIMEOUT_MS`); after it the call fails as unavailable.
    package var connectionTimeoutMilliseconds: Int

    /// A configuration with OpenWA's defaults for everything but the address and credentials.
    package init(
        host: String = "localhost", port: Int = 5432, username: String, password: String, database: String,
        tls: TLSMode = .disable, schema: String = "public", poolSize: Int = 10,
        statementTimeoutMilliseconds: Int = 30_000, idleTimeoutMilliseconds: Int = 30_000,
        connectionTimeoutMilliseconds: Int = 10_000
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.schema = schema
        self.poolSize = poolSize
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.connectionTimeoutMilliseconds = connectionTimeoutMilliseconds
    }

    /// How much later than `statementTimeoutMilliseconds` the reactor gives up on a statement
    /// itself: long enough for the server's own cancellation to arrive first when it can.
    static let clientTimeoutGraceMilliseconds = 1_000

    /// The libpq connection string, with `hostaddr` when the host has been resolved (so libpq
    /// does no blocking name lookup on the reactor thread) and `host` kept for TLS verification.
    func connectionString(resolvedAddress: String?) -> String {
        var pairs: [(String, String)] = [
            ("host", host), ("port", String(port)), ("user", username), ("password", password),
            ("dbname", database), ("sslmode", tls.rawValue), ("application_name", "openwa"),
            // Timestamps are ISO text in our columns, but now() and friends stay in UTC as
            // OpenWA pins them; the statement timeout makes the server cancel runaway work.
            ("options", "-c statement_timeout=\(statementTimeoutMilliseconds) -c TimeZone=UTC"
                + " -c search_path=\(Self.escapeOption(schema))"),
        ]
        if let resolvedAddress { pairs.append(("hostaddr", resolvedAddress)) }
        return pairs.map { "\($0.0)=\(Self.quote($0.1))" }.joined(separator: " ")
    }

    /// A value in libpq's `key='value'` syntax: single quotes, with `\` and `'` escaped.
    private static func quote(_ value: String) -> String {
        var quoted = "'"
        for character in value {
            if character == "\\" || character == "'" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "'"
    }

    /// A value inside `options`, where spaces separate arguments and `\` escapes.
    private static func escapeOption(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == " " || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
