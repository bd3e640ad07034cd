import Logging
import TestSupport
import Synchronization
import Testing
@testable import Reactor

@Suite struct ReactorLoopTests {
    private func start(clock: any ReactorClock = MonotonicReactorClock()) throws -> ReactorHandle {
        try ReactorThread.start(clock: clock, workers: WorkerPool(size: 2), logger: quietLogger)
    }

    private func stop(_ handle: ReactorHandle) async {
        handle.stop()
        await handle.waitUntilStopped()
    }

    @Test(.timeLimit(.minutes(1)))
    func postedWorkRunsOnTheReactorThread() async throws {
        let handle = try start()
        #expect(!handle.inReactorThread)
        let onReactor = try await handle.submit { reactor in reactor.handle.inReactorThread }
        #expect(onReactor)
        await stop(handle)
    }

    @Test(.timeLimit(.minutes(1)))
    func tasksPreferringTheReactorRunThereAndResumeThereAfterWorkerHops() async throws {
        let handle = try start()
        let workers = WorkerPool(size: 2)
        let observed = await Task(executorPreference: handle) { () -> [Bool] in
            var seen = [handle.inReactorThread]
            let onWorker = try? await workers.lane(for: 1).run { handle.inReactorThread }
            seen.append(onWorker ?? true)
            seen.append(handle.inReactorThread)
            return seen
        }.value
        #expect(observed == [true, false, true])
        await stop(handle)
    }

    @Test(.timeLimit(.minutes(1)))
    func aBurstOfPostsFromManyThreadsAllRunExactlyOnce() async throws {
        let handle = try start()
        let counter = AtomicCounter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<5_000 { handle.post { _ in counter.add(1) } }
                }
            }
        }
        _ = try await handle.submit { _ in 0 }
        #expect(counter.load() == 40_000)
        await stop(handle)
    }

    @Test(.timeLimit(.minutes(1)))
    func manualClockFiresTimersOnlyWhenAdvanced() async throws {
        let clock = ManualReactorClock()
        let handle = try start(clock: clock)
        let fired = AtomicCounter()
        _ = try await handle.submit { reactor in
            reactor.schedule(afterMilliseconds: 1_000) { fired.add(1) }
            reactor.schedule(afterMilliseconds: 5_000) { fired.add(10) }
        }
        clock.advance(milliseconds: 999)
        _ = try await handle.submit { _ in 0 }
        #expect(fired.load() == 0)
        clock.advance(milliseconds: 1)
        _ = try await handle.submit { _ in 0 }
        #expect(fired.load() == 1)
        clock.advance(milliseconds: 10_000)
        _ = try await handle.submit { _ in 0 }
        #expect(fired.load() == 11)
        let timersLeft = try await handle.submit { $0.timerCount }
        #expect(timersLeft == 0)
        await stop(handle)
    }

    @Test(.timeLimit(.minutes(1)))
    func deadlineReturnsTheResultWhenTheOperationWins() async throws {
        let clock = ManualReactorClock()
        let handle = try start(clock: clock)
        let outcome = await handle.withDeadline(milliseconds: 3_000) { 42 }
        #expect(try outcome?.get() == 42)
        _ = try await handle.submit { _ in 0 }
        let timersLeft = try await handle.submit { $0.timerCount }
        #expect(timersLeft == 0)
        await stop(handle)
    }

    @Test(.timeLimit(.minutes(1)))
    func deadlineGivesUpWhenTheClockPassesIt() async throws {
        let clock = ManualReactorClock()
        let handle = try start(clock: clock)
        let race = Task {
            await handle.withDeadline(milliseconds: 3_000) { () async throws -> Int in
                try await Task.sleep(for: .seconds(3_600))
                return 1
            }
        }
        let finished = AtomicCounter()
        Task {
            _ = await race.value
            finished.add(1)
        }
        // The timer is armed relative to the clock when the race starts; keep moving time until
        // it has fired (each step is a whole timeout, so one step after arming suffices).
        while finished.load() == 0 {
            clock.advance(milliseconds: 3_000)
            try await Task.sleep(for: .milliseconds(5))
        }
        let outcome = await race.value
        #expect(outcome == nil)
        await stop(handle)
    }

    @Test(.timeLimit(.minutes(1)))
    func postsAfterStopAreRefusedAndSubmitThrows() async throws {
        let handle = try start()
        await stop(handle)
        #expect(!handle.post { _ in })
        await #expect(throws: ReactorError.self) { try await handle.submit { _ in 1 } }
    }
}

/// A shareable counter for closures that run on other threads.
final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ amount: Int) { value.add(amount, ordering: .relaxed) }
    func load() -> Int { value.load(ordering: .relaxed) }
}
