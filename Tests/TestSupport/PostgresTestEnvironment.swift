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

    /// Stops the fault cluster (`pg_ctl stop -m fast`) and returns once it is down. The script is
    /// waited for on a thread of its own: a test pool thread blocked for seconds slows every test.
    package func stopFaultCluster() async throws { try await ServiceScript.wait("fault-stop") }

    /// Starts the fault cluster again on its port and returns once it accepts connections.
    package func startFaultCluster() async throws { try await ServiceScript.wait("fault-start") }

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
