import Foundation
import Glibc
import Synchronization

/// The throw-away PostgreSQL clusters of `scripts/services.sh`, as the tests see them.
///
/// `scripts/test.sh` starts them and exports `OPENWA_PG_*`; a plain `swift test` without them
/// skips the PostgreSQL suites loudly. With `OPENWA_TEST_SERVICES=1` (set by `scripts/test.sh`
/// and so by CI) missing variables are a failure, recorded by `PostgresServiceCheck` tests.
package struct PostgresTestEnvironment: Sendable {
    package let host: String
    package let port: Int
    package let username: String
    package let password: String
    package let database: String
    /// The cluster the outage tests stop and start; nothing else connects to it.
    package let faultPort: Int?
    private let servicesScript: String?

    /// The clusters from the environment, or nil when `OPENWA_PG_*` are not set.
    package static let current: PostgresTestEnvironment? = {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["OPENWA_PG_HOST"], let port = environment["OPENWA_PG_PORT"].flatMap(Int.init),
            let username = environment["OPENWA_PG_USER"], let password = environment["OPENWA_PG_PASSWORD"],
            let database = environment["OPENWA_PG_DB"]
        else { return nil }
        return PostgresTestEnvironment(
            host: host, port: port, username: username, password: password, database: database,
            faultPort: environment["OPENWA_PG_FAULT_PORT"].flatMap(Int.init),
            servicesScript: environment["OPENWA_SERVICES_SCRIPT"])
    }()

    /// True when the run promised its services (`OPENWA_TEST_SERVICES=1`): then a missing
    /// service is a failure, not a skip.
    package static var servicesRequired: Bool {
        ProcessInfo.processInfo.environment["OPENWA_TEST_SERVICES"] == "1"
    }

    /// True when PostgreSQL suites can run.
    package static var isAvailable: Bool { current != nil }

    /// The message printed (and, under `OPENWA_TEST_SERVICES=1`, recorded as a failure) when the
    /// clusters are missing.
    package static let missingMessage = """
        *** PostgreSQL tests SKIPPED: OPENWA_PG_HOST/PORT/USER/PASSWORD/DB are not set. \
        Run `make test` (or `eval "$(scripts/services.sh start)"` before `swift test`) to include them. ***
        """

    /// True when the outage tests can stop and start their cluster.
    package var canInjectFaults: Bool { faultPort != nil && servicesScript != nil }

    /// Stops the fault cluster (`pg_ctl stop -m fast`) and returns once it is down.
    package func stopFaultCluster() throws { try runServices("fault-stop") }

    /// Starts the fault cluster again on its port and returns once it accepts connections.
    package func startFaultCluster() throws { try runServices("fault-start") }

    /// Runs `services.sh command` and waits for it with posix_spawn/waitpid: Foundation's
    /// `Process.waitUntilExit` was seen to miss the exit of this script (which leaves a
    /// daemonized server behind) and hang with the child a zombie.
    private func runServices(_ command: String) throws {
        guard let servicesScript else { throw ServicesError(message: "OPENWA_SERVICES_SCRIPT is not set") }
        let arguments = ["/bin/bash", servicesScript, command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, &argv, environ)
        guard spawned == 0 else { throw ServicesError(message: "cannot run services.sh: error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw ServicesError(message: "waitpid failed: errno \(errno)") }
        }
        // WIFEXITED/WEXITSTATUS are macros Swift cannot import.
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            throw ServicesError(message: "services.sh \(command) failed (status \(status))")
        }
    }

    package struct ServicesError: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }
}

/// Makes the outage tests of every test target take turns on the one fault cluster: they all
/// run in one test process, in parallel unless told otherwise.
package actor FaultClusterLock {
    package static let shared = FaultClusterLock()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` while no other outage test runs.
    package func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}
