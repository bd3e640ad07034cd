import Foundation

/// The throw-away Redis servers of `scripts/services.sh`, as the tests see them: `main` for
/// every Redis test, `fault` only for the outage tests that kill and restart it.
package struct RedisTestEnvironment: Sendable {
    package let host: String
    package let port: Int
    package let faultPort: Int?

    /// The servers from `OPENWA_REDIS_HOST/PORT`, or nil when they are not set.
    package static let current: RedisTestEnvironment? = {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["OPENWA_REDIS_HOST"], let port = environment["OPENWA_REDIS_PORT"].flatMap(Int.init)
        else { return nil }
        return RedisTestEnvironment(
            host: host, port: port, faultPort: environment["OPENWA_REDIS_FAULT_PORT"].flatMap(Int.init))
    }()

    package static var isAvailable: Bool { current != nil }

    package static let missingMessage = """
        *** Redis tests SKIPPED: OPENWA_REDIS_HOST/PORT are not set. \
        Run `make test` (or `eval "$(scripts/services.sh start)"` before `swift test`) to include them. ***
        """

    /// kill -9 of the fault server's process; returns once it is gone.
    package func killFaultServer() async throws { try await ServiceScript.wait("redis-kill") }

    /// Starts the fault server again on its port; returns once it accepts connections.
    package func startFaultServer() async throws { try await ServiceScript.wait("redis-start") }
}

/// Runs `scripts/services.sh COMMAND` (posix_spawn + waitpid, see `PostgresTestEnvironment`).
package enum ServiceScript {
    /// Runs the command on a thread of its own: the script waits for servers to stop or accept
    /// connections, seconds a test pool thread must not be blocked for (every test would slow).
    package static func wait(_ command: String) async throws {
        try await blocking { try run(command) }
    }

    private static func run(_ command: String) throws {
        guard let script = ProcessInfo.processInfo.environment["OPENWA_SERVICES_SCRIPT"] else {
            throw PostgresTestEnvironment.ServicesError(message: "OPENWA_SERVICES_SCRIPT is not set")
        }
        let arguments = ["/bin/bash", script, command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The test process blocks SIGTERM/SIGINT (the reactor reads them from a signalfd); the
        // servers this script starts must not inherit that mask, or they could not be stopped.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, &attributes, &argv, environ)
        guard spawned == 0 else {
            throw PostgresTestEnvironment.ServicesError(message: "cannot run services.sh: error \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw PostgresTestEnvironment.ServicesError(message: "waitpid failed: errno \(errno)") }
        }
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw PostgresTestEnvironment.ServicesError(message: "services.sh \(command) failed (status \(status))")
        }
    }
}
