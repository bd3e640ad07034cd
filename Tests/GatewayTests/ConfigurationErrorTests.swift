import Foundation
import Testing

/// A bad configuration value stops the boot with one clear line and exit status 1.
@Suite(.timeLimit(.minutes(2))) struct ConfigurationErrorTests {
    @Test(arguments: [
        (["PORT": "abc"], #"Invalid configuration: PORT must be a decimal integer from 0 to 65535 (got "abc")"#),
        (["PORT": "70000"], "Invalid configuration: PORT must be a decimal integer from 0 to 65535"),
        (["LOG_LEVEL": "loud"], "Invalid configuration: LOG_LEVEL must be one of error, warn, info, debug, verbose"),
        (["ALLOW_DEV_API_KEY": "yes"], #"Invalid configuration: ALLOW_DEV_API_KEY must be exactly true or false (got "yes")"#),
        (["DATABASE_TYPE": "mysql"], "Invalid configuration: DATABASE_TYPE must be one of sqlite, postgres"),
        (["ENGINE_TYPE": "selenium"], "Invalid configuration: ENGINE_TYPE must be one of native, baileys, browser, whatsapp-web.js"),
        (["BODY_SIZE_LIMIT": "lots"], "Invalid configuration: BODY_SIZE_LIMIT must be a positive size"),
        (["NODE_ENV": "staging"], "Invalid configuration: NODE_ENV must be one of production, development, test"),
        (["NODE_ENV": "production", "API_MASTER_KEY": "changeme"], "Invalid configuration: API_MASTER_KEY is too weak"),
        (["NODE_ENV": "production", "ALLOW_DEV_API_KEY": "true"], "Invalid configuration: ALLOW_DEV_API_KEY must not be true"),
        (["DATABASE_TYPE": "postgres"], "Invalid configuration: DATABASE_USERNAME is required when DATABASE_TYPE=postgres"),
        (["MAIN_DATABASE_TYPE": "postgres"],
         "Invalid configuration: MAIN_DATABASE_USERNAME is required when MAIN_DATABASE_TYPE=postgres"),
        (["MAIN_DATABASE_TYPE": "mysql"], "Invalid configuration: MAIN_DATABASE_TYPE must be one of sqlite, postgres"),
        (["DATABASE_TYPE": "postgres", "DATABASE_USERNAME": "u", "DATABASE_POOL_SIZE": "0"],
         #"Invalid configuration: DATABASE_POOL_SIZE must be a decimal integer from 1 to 1000 (got "0")"#),
        (["DATABASE_TYPE": "postgres", "DATABASE_USERNAME": "u", "DATABASE_PORT": "5432x"],
         "Invalid configuration: DATABASE_PORT must be a decimal integer from 1 to 65535"),
        (["DATABASE_TYPE": "postgres", "DATABASE_USERNAME": "u", "DATABASE_SSL": "1"],
         #"Invalid configuration: DATABASE_SSL must be exactly true or false (got "1")"#),
        (["DATABASE_TYPE": "postgres", "DATABASE_USERNAME": "u", "POSTGRES_SCHEMA": "pg_catalog"],
         "Invalid configuration: POSTGRES_SCHEMA must be a plain identifier"),
        (["DATABASE_TYPE": "postgres", "MAIN_DATABASE_TYPE": "postgres", "DATABASE_USERNAME": "u",
          "DATABASE_NAME": "same", "MAIN_DATABASE_NAME": "same"],
         "Invalid configuration: MAIN_DATABASE_NAME must name another database than DATABASE_NAME"),
        (["DATABASE_NAME": "./data/same.sqlite", "MAIN_DATABASE_NAME": "./data/same.sqlite"],
         "Invalid configuration: DATABASE_NAME must not be the same file as MAIN_DATABASE_NAME"),
        (["TRUSTED_PROXIES": "10.0.0.0/33"], "Invalid configuration: TRUSTED_PROXIES must list IPv4 addresses or CIDRs"),
        (["WA_SERVER_URL": "https://web.whatsapp.com/ws/chat"], "Invalid configuration: WA_SERVER_URL must be a ws:// or wss:// URL"),
        (["ENGINE_TYPE": "browser", "BROWSER_EXECUTABLE": "/nonexistent/chromium"],
         "Invalid configuration: BROWSER_EXECUTABLE must name an executable Chromium (/nonexistent/chromium is not"),
        (["BROWSER_HEADLESS_SHELL": "yes"], #"Invalid configuration: BROWSER_HEADLESS_SHELL must be exactly true or false (got "yes")"#),
        (["BROWSER_WA_HTML": "/nonexistent/index.html"], "Invalid configuration: BROWSER_WA_HTML must be a readable HTML file"),
        (["BROWSER_QR_MAX_RETRIES": "-1"], #"Invalid configuration: BROWSER_QR_MAX_RETRIES must be a decimal integer from 0 to 10000 (got "-1")"#),
        (["MEDIA_DOWNLOAD_MAX_BYTES": "huge"], "Invalid configuration: MEDIA_DOWNLOAD_MAX_BYTES must be a positive size"),
        (["MEDIA_DOWNLOAD_TIMEOUT_MS": "10"], "Invalid configuration: MEDIA_DOWNLOAD_TIMEOUT_MS must be a decimal integer from 100 to 600000"),
        (["INBOUND_MEDIA_CONCURRENCY": "0"], #"Invalid configuration: INBOUND_MEDIA_CONCURRENCY must be a decimal integer from 1 to 256 (got "0")"#),
        (["WA_CA_FILE": "/nonexistent/ca.pem"], "Invalid configuration: WA_CA_FILE must be a readable PEM file"),
        (["WA_ROOT_PUBLIC_KEY": "1423"], "Invalid configuration: WA_ROOT_PUBLIC_KEY must be 64 hexadecimal digits"),
        (["WA_ROOT_PUBLIC_KEY": String(repeating: "zz", count: 32)],
         "Invalid configuration: WA_ROOT_PUBLIC_KEY must be 64 hexadecimal digits"),
        (["REDIS_ENABLED": "yes"], #"Invalid configuration: REDIS_ENABLED must be exactly true or false (got "yes")"#),
        (["REDIS_ENABLED": "true", "REDIS_PORT": "0"], "Invalid configuration: REDIS_PORT must be a decimal integer from 1 to 65535"),
        (["REDIS_ENABLED": "true", "REDIS_CONNECT_TIMEOUT_MS": "soon"],
         "Invalid configuration: REDIS_CONNECT_TIMEOUT_MS must be a decimal integer"),
        (["REDIS_ENABLED": "true", "REDIS_USERNAME": "u"], "Invalid configuration: REDIS_USERNAME needs REDIS_PASSWORD as well"),
        (["TEMPLATE_RENDER_MAX_CHARS": "0"], "Invalid configuration: TEMPLATE_RENDER_MAX_CHARS must be a decimal integer from 1 to"),
        (["BULK_MAX_CONCURRENT_BATCHES": "many"], "Invalid configuration: BULK_MAX_CONCURRENT_BATCHES must be a decimal integer from 1 to"),
        (["MESSAGE_REAPER_GRACE_MS": "5"], "Invalid configuration: MESSAGE_REAPER_GRACE_MS must be a decimal integer from 60000 to"),
        (["MESSAGE_REAPER_BATCH_SIZE": "0"], "Invalid configuration: MESSAGE_REAPER_BATCH_SIZE must be a decimal integer from 1 to"),
        (["STORAGE_TYPE": "gcs"], "Invalid configuration: STORAGE_TYPE must be one of local, s3"),
        (["STORAGE_TYPE": "s3"], "Invalid configuration: S3_ACCESS_KEY_ID is required when STORAGE_TYPE=s3"),
        (["STORAGE_TYPE": "s3", "S3_ACCESS_KEY": "legacy"],
         "Invalid configuration: S3_SECRET_ACCESS_KEY is required when STORAGE_TYPE=s3"),
        (["STORAGE_TYPE": "s3", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_KEY": "s", "S3_ENDPOINT": "minio:9000"],
         "Invalid configuration: S3_ENDPOINT must be an http:// or https:// URL"),
    ])
    func badValuesStopTheBootWithOneLine(environment: [String: String], expected: String) async throws {
        let gateway = try GatewayProcess(environment: environment)
        defer { gateway.cleanUp() }
        let status = try await gateway.waitForExit()
        #expect(status == 1)
        let lines = gateway.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(gateway.stderr)")
        #expect(gateway.stderr.hasPrefix(expected), "\(gateway.stderr)")
        // Nothing was created: validation runs before any file is touched.
        #expect(!FileManager.default.fileExists(atPath: gateway.directory.appendingPathComponent("data").path))
    }

    @Test func dotEnvValuesAreReadAndTheEnvironmentWins() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let envFile = directory.appendingPathComponent("test.env")
        try "# comment\nexport BODY_SIZE_LIMIT=\"chatty\" # inline\n\nPORT=abc\n".write(to: envFile, atomically: true, encoding: .utf8)
        // BODY_SIZE_LIMIT comes from the file only, so the file was read...
        let fromFile = try GatewayProcess(arguments: ["serve", "--env-file", envFile.path], environment: [:])
        defer { fromFile.cleanUp() }
        #expect(try await fromFile.waitForExit() == 1)
        #expect(fromFile.stderr.contains(#"BODY_SIZE_LIMIT must be a positive size such as 25mb, 512kb or 1048576 (got "chatty")"#))
        // ...and PORT=abc in the file loses to PORT=0 in the environment.
        try "PORT=abc\n".write(to: envFile, atomically: true, encoding: .utf8)
        let overridden = try GatewayProcess(arguments: ["serve", "--env-file", envFile.path], environment: [:])
        defer { overridden.cleanUp() }
        #expect(try await overridden.waitForPort() > 0)
    }
}
