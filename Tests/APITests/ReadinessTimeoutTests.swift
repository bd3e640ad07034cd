import Engines
import Persistence
import Reactor
import Testing
import TestSupport

/// The readiness probe gives up on a database after its timeout, measured on a manual clock.
@Suite(.timeLimit(.minutes(1))) struct ReadinessTimeoutTests {
    /// A database whose ping never answers, like a server that accepted the connection and hung.
    final class HangingDatabase: SQLDatabase {
        let name = "data"
        let dialect = SQLDialect.sqlite
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] { try await hang() }
        func execute(_ sql: String, _ binds: [SQLValue]) async throws -> Int { try await hang() }
        func withTransaction<T: Sendable>(_ body: @escaping @Sendable (any AsyncSQLTransaction) async throws -> T) async throws -> T {
            try await hang()
        }
        func ping() async throws { let _: Void = try await hang() }
        func close() async {}
        private func hang<T>() async throws -> T {
            try await Task.sleep(for: .seconds(3_600))
            throw PersistenceError.unavailable(database: name, reason: "never")
        }
    }

    @Test func aHangingDatabaseIsReportedDownAfterTheProbeTimeout() async throws {
        let clock = ManualReactorClock()
        let workers = WorkerPool(size: 1)
        let handle = try ReactorThread.start(clock: clock, workers: workers, logger: quietLogger)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("openwa-ready-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let main = try await SQLiteDatabase.open(path: directory.appendingPathComponent("main.sqlite").path, name: "main", pool: workers)
        let readiness = ReadinessService(main: main, data: HangingDatabase(), handle: handle, timeoutMilliseconds: 3_000)
        let verdict = Task { await readiness.check() }
        let finished = Flag()
        Task {
            _ = await verdict.value
            finished.set()
        }
        var advanced = 0
        while !finished.isSet {
            clock.advance(milliseconds: 500)
            advanced += 500
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(await verdict.value == .degraded(mainUp: true, dataUp: false))
        #expect(advanced >= 3_000)
        await main.close()
        handle.stop()
        await handle.waitUntilStopped()
    }
}

import Foundation
import Synchronization

final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
