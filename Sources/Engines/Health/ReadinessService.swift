import Persistence
import Reactor
import Synchronization

/// The readiness verdict of `/api/health/ready`.
package enum Readiness: Sendable, Equatable {
    case ready
    /// Which of `mainDatabase` / `dataDatabase` answered (true = up).
    case degraded(mainUp: Bool, dataUp: Bool)
    case draining
}

/// Checks both databases in parallel with a deadline each, and reports draining during shutdown.
package final class ReadinessService: Sendable {
    private let main: any SQLDatabase
    private let data: any SQLDatabase
    private let handle: ReactorHandle
    private let timeoutMilliseconds: Int
    private let drainingFlag = Atomic<Bool>(false)

    package init(main: any SQLDatabase, data: any SQLDatabase, handle: ReactorHandle, timeoutMilliseconds: Int = 3_000) {
        self.main = main
        self.data = data
        self.handle = handle
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Flips readiness to 503 for good: the instance is shutting down.
    package func beginDraining() {
        drainingFlag.store(true, ordering: .relaxed)
    }

    package var isDraining: Bool { drainingFlag.load(ordering: .relaxed) }

    package func check() async -> Readiness {
        if isDraining { return .draining }
        async let mainUp = probe(main)
        async let dataUp = probe(data)
        let (mainResult, dataResult) = await (mainUp, dataUp)
        if isDraining { return .draining }
        return mainResult && dataResult ? .ready : .degraded(mainUp: mainResult, dataUp: dataResult)
    }

    private func probe(_ database: any SQLDatabase) async -> Bool {
        let outcome = await handle.withDeadline(milliseconds: timeoutMilliseconds) { try await database.ping() }
        if case .success = outcome { return true }
        return false
    }
}
