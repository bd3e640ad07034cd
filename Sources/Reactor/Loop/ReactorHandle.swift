import Synchronization

/// The one reactor type that crosses threads.
///
/// Any thread may post work to the reactor through it, hand results back from the worker pool,
/// or run Swift tasks on the reactor thread (it is the reactor's serial and task executor). Every
/// post goes into a queue under one mutex; only the poster that finds no wake-up pending writes
/// the eventfd, so a burst of posts costs one syscall (the coalescing of libuv's `uv_async_send`).
package final class ReactorHandle: SerialExecutor, TaskExecutor, Sendable {
    package typealias Work = @Sendable (Reactor) -> Void

    struct Queues {
        var completions: [Work] = []
        var tasks: [Work] = []
        var jobs: [UnownedJob] = []
        var wakePending = false
        var accepting = true
    }

    let queues = Mutex(Queues())
    let eventFD: CInt
    private let reactorThread = Atomic<UInt>(0)
    private let finished = Mutex<[CheckedContinuation<Void, Never>]?>([])

    init(eventFD: CInt) {
        self.eventFD = eventFD
    }

    /// True on the reactor's own thread.
    package var inReactorThread: Bool {
        reactorThread.load(ordering: .relaxed) == ThreadIdentity.current()
    }

    /// Traps when called off the reactor thread: reactor-owned state is confined to it.
    package func preconditionInReactorThread(_ file: StaticString = #fileID, _ line: UInt = #line) {
        precondition(inReactorThread, "must run on the reactor thread", file: file, line: line)
    }

    /// Runs `work` on the reactor thread in the posted-tasks phase. Returns false when the
    /// reactor has stopped, in which case `work` never runs.
    @discardableResult
    package func post(_ work: @escaping Work) -> Bool {
        enqueue { $0.tasks.append(work) }
    }

    /// Hands a worker's result back: `work` runs in the completions phase of the next tick.
    @discardableResult
    package func complete(_ work: @escaping Work) -> Bool {
        enqueue { $0.completions.append(work) }
    }

    /// Runs `body` on the reactor thread and returns its result to the caller.
    package func submit<T: Sendable>(_ body: @escaping @Sendable (Reactor) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let posted = post { reactor in continuation.resume(with: Result { try body(reactor) }) }
            if !posted { continuation.resume(throwing: ReactorError.stopped) }
        }
    }

    /// Asks the loop to stop after the current tick.
    package func stop() {
        post { $0.requestStop() }
    }

    /// Waits until the reactor thread has left its loop.
    package func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let alreadyDone = finished.withLock { waiters -> Bool in
                guard waiters != nil else { return true }
                waiters?.append(continuation)
                return false
            }
            if alreadyDone { continuation.resume() }
        }
    }

    // MARK: - Executor

    package func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let accepted = enqueue { $0.jobs.append(unowned) }
        // A stopped reactor cannot run the job; running it here keeps the task from hanging,
        // and it can only observe that the reactor is gone.
        if !accepted { unowned.runSynchronously(on: asUnownedSerialExecutor()) }
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }
    package func asUnownedTaskExecutor() -> UnownedTaskExecutor { UnownedTaskExecutor(ordinary: self) }

    package func checkIsolated() {
        preconditionInReactorThread()
    }

    // MARK: - Reactor side

    func bindToCurrentThread() {
        reactorThread.store(ThreadIdentity.current(), ordering: .relaxed)
    }

    /// Swaps out everything queued and re-arms the wake-up, in one critical section.
    func takeQueued() -> (completions: [Work], tasks: [Work], jobs: [UnownedJob]) {
        queues.withLock { queues in
            queues.wakePending = false
            defer {
                queues.completions.removeAll(keepingCapacity: true)
                queues.tasks.removeAll(keepingCapacity: true)
                queues.jobs.removeAll(keepingCapacity: true)
            }
            return (queues.completions, queues.tasks, queues.jobs)
        }
    }

    /// Stops accepting posts and returns what was still queued.
    func close() -> (completions: [Work], tasks: [Work], jobs: [UnownedJob]) {
        let left = queues.withLock { queues in
            queues.accepting = false
            return (queues.completions, queues.tasks, queues.jobs)
        }
        return left
    }

    func markFinished() {
        let waiters = finished.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    func wake() {
        EventFD.signal(eventFD)
    }

    private func enqueue(_ add: (inout Queues) -> Void) -> Bool {
        let (accepted, mustWake) = queues.withLock { queues -> (Bool, Bool) in
            guard queues.accepting else { return (false, false) }
            add(&queues)
            if queues.wakePending { return (true, false) }
            queues.wakePending = true
            return (true, true)
        }
        if mustWake && !inReactorThread { EventFD.signal(eventFD) }
        return accepted
    }
}
