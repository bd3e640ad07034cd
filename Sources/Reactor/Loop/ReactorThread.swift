import Foundation
import Logging

/// Starts a reactor on a thread of its own and hands back its handle.
package enum ReactorThread {
    /// Creates the reactor on a new thread, runs `setup` there before the first tick, and returns
    /// once the loop is about to start. Errors from creating the reactor or from `setup` are
    /// rethrown here and no thread is left running.
    package static func start(
        name: String = "openwa-reactor",
        clock: any ReactorClock = MonotonicReactorClock(),
        workers: WorkerPool,
        logger: Logger,
        setup: @escaping @Sendable (Reactor) throws -> Void = { _ in }
    ) throws -> ReactorHandle {
        let eventFD = try EventFD.create()
        let handle = ReactorHandle(eventFD: eventFD)
        let started = StartSignal()
        let thread = Thread {
            ThreadIdentity.setCurrentName(name)
            let reactor: Reactor
            do {
                reactor = try Reactor(handle: handle, clock: clock, workers: workers, logger: logger)
                try setup(reactor)
            } catch {
                _ = handle.close()
                Socket.close(eventFD)
                handle.markFinished()
                started.finish(.failure(error))
                return
            }
            started.finish(.success(()))
            reactor.run()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
        try started.wait().get()
        return handle
    }
}

/// A one-shot hand-off from the reactor thread to the thread that started it.
private final class StartSignal: @unchecked Sendable {
    // `result` is written once by the reactor thread before `semaphore.signal()` and read by
    // the starting thread only after `semaphore.wait()`: the semaphore orders the two.
    private var result: Result<Void, any Error> = .success(())
    private let semaphore = DispatchSemaphore(value: 0)

    func finish(_ result: Result<Void, any Error>) {
        self.result = result
        semaphore.signal()
    }

    func wait() -> Result<Void, any Error> {
        semaphore.wait()
        return result
    }
}
