import Foundation
import Glibc
import Logging
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport

/// A clock for the rate limiter and the work queue that moves only when told to.
final class ManualMilliseconds: Sendable {
    private let value: Mutex<Int64>
    init(_ start: Int64 = 1_700_000_000_000) { value = Mutex(start) }
    var now: Int64 { value.withLock { $0 } }
    func advance(_ milliseconds: Int64) { value.withLock { $0 += milliseconds } }
    var clock: MillisecondClock { { [self] in self.now } }
}

extension RedisTestEnvironment {
    func configuration(
        port: Int? = nil, commandTimeout: Int = 2_000, connectTimeout: Int = 2_000, backoff: Int = 50
    ) -> RedisConfiguration {
        RedisConfiguration(
            host: host, port: port ?? self.port, connectTimeoutMilliseconds: connectTimeout,
            commandTimeoutMilliseconds: commandTimeout, initialBackoffMilliseconds: backoff,
            maximumBackoffMilliseconds: backoff * 4)
    }
}

/// Runs `body` with a reactor and a Redis client on the main test server, closed afterwards.
func withRedis<T>(
    port: Int? = nil, commandTimeout: Int = 2_000, _ body: (RedisClient, ReactorHandle) async throws -> T
) async throws -> T {
    let environment = try #require(RedisTestEnvironment.current)
    return try await withReactor { handle in
        let client = RedisClient(
            configuration: environment.configuration(port: port, commandTimeout: commandTimeout), handle: handle,
            logger: quietLogger)
        do {
            let result = try await body(client, handle)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}

/// A unique key prefix per test, so parallel tests on one server never meet.
func uniquePrefix() -> String { "t:" + UUID().uuidString.prefix(8).lowercased() + ":" }

/// Polls `condition` until it holds or `seconds` pass.
func eventually(seconds: Double = 5, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// A TCP listener on 127.0.0.1 that accepts connections (in the kernel's backlog) and never
/// answers: a server that hangs.
final class SilentRedisListener {
    let fd: CInt
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, __CONST_SOCKADDR_ARG(__sockaddr__: $0), length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, __SOCKADDR_ARG(__sockaddr__: $0), &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { Glibc.close(fd) }
}

/// A port nothing listens on (bound once, then closed).
func closedPort() throws -> Int {
    let listener = try SilentRedisListener()
    return listener.port
}
