import Persistence

/// The Redis (reference 4.4) and media storage (4.5) parts of the configuration.
enum RedisStorageConfiguration {
    /// `REDIS_ENABLED` (false); when true, `REDIS_HOST`, `REDIS_PORT`, `REDIS_USERNAME`,
    /// `REDIS_PASSWORD`, `REDIS_CONNECT_TIMEOUT_MS`. Nil when Redis is off.
    static func redis(_ read: ConfigurationReader) throws -> RedisConfiguration? {
        guard try read.bool("REDIS_ENABLED", default: false) else { return nil }
        let username = read.optionalString("REDIS_USERNAME")
        let password = read.optionalString("REDIS_PASSWORD")
        if username != nil, password == nil {
            throw ConfigurationError(variable: "REDIS_USERNAME", problem: "needs REDIS_PASSWORD as well")
        }
        return RedisConfiguration(
            host: read.string("REDIS_HOST", default: "localhost"),
            port: try read.integer("REDIS_PORT", default: 6379, range: 1...65535),
            username: username, password: password,
            connectTimeoutMilliseconds: try read.integer("REDIS_CONNECT_TIMEOUT_MS", default: 5_000, range: 1...600_000))
    }

    /// `STORAGE_TYPE` (local|s3), `STORAGE_LOCAL_PATH` (`<DATA_DIR>/media`), and for S3
    /// `S3_ENDPOINT`, `S3_BUCKET` (openwa), `S3_REGION` (us-east-1), `S3_ACCESS_KEY_ID` /
    /// `S3_SECRET_ACCESS_KEY` (legacy `S3_ACCESS_KEY` / `S3_SECRET_KEY`).
    static func storage(_ read: ConfigurationReader, dataDirectory: String) throws -> MediaStorageConfiguration {
        let type = try read.choice("STORAGE_TYPE", default: "local", allowed: ["local", "s3"])
        guard type == "s3" else {
            return .local(path: read.string("STORAGE_LOCAL_PATH", default: "\(dataDirectory)/media"))
        }
        guard let accessKey = read.optionalString("S3_ACCESS_KEY_ID") ?? read.optionalString("S3_ACCESS_KEY") else {
            throw ConfigurationError(variable: "S3_ACCESS_KEY_ID", problem: "is required when STORAGE_TYPE=s3")
        }
        guard let secret = read.optionalString("S3_SECRET_ACCESS_KEY") ?? read.optionalString("S3_SECRET_KEY") else {
            throw ConfigurationError(variable: "S3_SECRET_ACCESS_KEY", problem: "is required when STORAGE_TYPE=s3")
        }
        let endpoint = read.optionalString("S3_ENDPOINT")
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw ConfigurationError(variable: "S3_ENDPOINT", problem: "must be an http:// or https:// URL (got \"\(endpoint)\")")
        }
        let bucket = read.string("S3_BUCKET", default: "openwa")
        if bucket.isEmpty || bucket.contains("/") {
            throw ConfigurationError(variable: "S3_BUCKET", problem: "must be a bucket name (got \"\(bucket)\")")
        }
        return .s3(
            S3Configuration(
                endpoint: endpoint, bucket: bucket, region: read.string("S3_REGION", default: "us-east-1"),
                accessKeyID: accessKey, secretAccessKey: secret))
    }
}
