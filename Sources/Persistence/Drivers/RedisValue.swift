/// A Redis reply in Swift terms; hiredis' `redisReply` never leaves the driver.
package enum RedisValue: Sendable, Hashable {
    /// A status reply (`+OK`).
    case simple(String)
    /// A bulk string: binary-safe bytes.
    case bulk([UInt8])
    case integer(Int64)
    /// A nil bulk or nil array.
    case null
    case array([RedisValue])
    /// An error reply nested in an array (a top-level error reply is thrown instead).
    case error(String)

    /// The value as UTF-8 text, for bulk and status replies.
    package var string: String? {
        switch self {
        case .simple(let text): text
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The bytes of a bulk or status reply.
    package var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .simple(let text): Array(text.utf8)
        default: nil
        }
    }

    package var int: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk, .simple: string.flatMap { Int64($0) }
        default: nil
        }
    }

    package var array: [RedisValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    package var isNull: Bool { self == .null }
}

/// One argument of a Redis command: text or raw bytes, sent binary-safe either way.
package struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral {
    package let bytes: [UInt8]
    package init(_ text: String) { bytes = Array(text.utf8) }
    package init(_ bytes: [UInt8]) { self.bytes = bytes }
    package init(_ value: Int) { bytes = Array(String(value).utf8) }
    package init(_ value: Int64) { bytes = Array(String(value).utf8) }
    package init(stringLiteral value: String) { self.init(value) }
}

/// Where the Redis server is and how long to wait for it.
package struct RedisConfiguration: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var username: String?
    package var password: String?
    /// Longest a connection attempt may take (`REDIS_CONNECT_TIMEOUT_MS`).
    package var connectTimeoutMilliseconds: Int
    /// Longest a command may wait for its reply; OpenWA's throttler uses 2 s.
    package var commandTimeoutMilliseconds: Int
    /// First wait before reconnecting after a failure; doubles up to `maximumBackoffMilliseconds`.
    package var initialBackoffMilliseconds: Int
    package var maximumBackoffMilliseconds: Int

    package init(
        host: String = "localhost", port: Int = 6379, username: String? = nil, password: String? = nil,
        connectTimeoutMilliseconds: Int = 5_000, commandTimeoutMilliseconds: Int = 2_000,
        initialBackoffMilliseconds: Int = 100, maximumBackoffMilliseconds: Int = 5_000
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        self.initialBackoffMilliseconds = initialBackoffMilliseconds
        self.maximumBackoffMilliseconds = maximumBackoffMilliseconds
    }

    var endpoint: String { "\(host):\(port)" }
}
