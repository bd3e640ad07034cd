import Logging
import Synchronization

/// The event loop: one thread, one epoll set, every descriptor of the process.
///
/// Each tick runs these phases, in this order (README.md lists them too):
/// 1. compute the timeout from the timer heap (0 when work is already queued);
/// 2. `epoll_wait`;
/// 3. dispatch I/O, reads before writes;
/// 4. drain worker completions;
/// 5. fire expired timers;
/// 6. run posted tasks and executor jobs, at most `maxTasksPerTick`;
/// 7. flush queued writes.
///
/// Not `Sendable`: every method must be called on the reactor thread. Other threads reach it
/// only through its `handle`.
package final class Reactor {
    private struct Slot {
        var generation: UInt32
        var interest: IOInterest
        var handler: any IOHandler
    }

    /// The cross-thread handle: post work, complete worker results, run tasks here.
    package let handle: ReactorHandle
    package let clock: any ReactorClock
    package let workers: WorkerPool
    package let logger: Logger
    /// Bounds phase 6 so a flood of posted work cannot starve I/O (NIO runs 4096 per pass).
    package let maxTasksPerTick = 4096

    private var poller: EpollPoller
    private var slots: [Slot?] = []
    private var generations: [UInt32] = []
    private var timers = TimerHeap()
    private var flushQueue: [any FlushTarget] = []
    private var events: [PollerEvent] = []
    private var deferredTasks: [ReactorHandle.Work] = []
    private var deferredJobs: [UnownedJob] = []
    private var stopRequested = false
    private var shutdownHooks: [() -> Void] = []

    init(handle: ReactorHandle, clock: any ReactorClock, workers: WorkerPool, logger: Logger) throws {
        self.handle = handle
        self.clock = clock
        self.workers = workers
        self.logger = logger
        self.poller = try EpollPoller()
        handle.bindToCurrentThread()
        try poller.register(fd: handle.eventFD, generation: 0, interest: .read)
        clock.attach { [handle] in handle.wake() }
    }

    /// The current time on this reactor's clock.
    package var now: ReactorInstant { clock.now() }

    // MARK: - Registration

    /// Registers `fd` for readiness events delivered to `handler` until `deregister`.
    package func register(fd: CInt, interest: IOInterest, handler: any IOHandler) throws -> IORegistration {
        handle.preconditionInReactorThread()
        let index = Int(fd)
        if index >= slots.count {
            slots.append(contentsOf: repeatElement(nil, count: index - slots.count + 1))
            generations.append(contentsOf: repeatElement(0, count: index - generations.count + 1))
        }
        precondition(slots[index] == nil, "descriptor \(fd) registered twice")
        generations[index] &+= 1
        let generation = generations[index]
        try poller.register(fd: fd, generation: generation, interest: interest)
        slots[index] = Slot(generation: generation, interest: interest, handler: handler)
        return IORegistration(fd: fd, generation: generation)
    }

    /// Changes the events wanted for a registration; a no-op for stale registrations.
    package func setInterest(_ registration: IORegistration, _ interest: IOInterest) {
        let index = Int(registration.fd)
        guard index < slots.count, var slot = slots[index], slot.generation == registration.generation,
            slot.interest != interest
        else { return }
        do {
            try poller.modify(fd: registration.fd, generation: registration.generation, interest: interest)
            slot.interest = interest
            slots[index] = slot
        } catch {
            logger.debug("epoll modify failed", metadata: ["fd": "\(registration.fd)", "error": "\(error)"])
        }
    }

    /// Removes a registration; call it before closing the descriptor.
    package func deregister(_ registration: IORegistration) {
        let index = Int(registration.fd)
        guard index < slots.count, let slot = slots[index], slot.generation == registration.generation else { return }
        poller.deregister(fd: registration.fd)
        slots[index] = nil
    }

    /// How many descriptors are registered (the eventfd not counted), for clean-shutdown checks.
    package var registrationCount: Int { slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    // MARK: - Timers, flush, lifecycle

    /// Runs `callback` on this thread once `milliseconds` have passed on the reactor's clock.
    @discardableResult
    package func schedule(afterMilliseconds milliseconds: Int, _ callback: @escaping () -> Void) -> TimerID {
        timers.schedule(at: now.adding(milliseconds: milliseconds), callback)
    }

    /// Runs `callback` once the clock reaches `deadline`.
    @discardableResult
    package func schedule(at deadline: ReactorInstant, _ callback: @escaping () -> Void) -> TimerID {
        timers.schedule(at: deadline, callback)
    }

    package func cancel(_ timer: TimerID) {
        timers.cancel(timer)
    }

    /// Live timers, for clean-shutdown checks.
    package var timerCount: Int { timers.count }

    /// Asks for `target.reactorFlush()` in this tick's flush phase.
    package func scheduleFlush(_ target: any FlushTarget) {
        flushQueue.append(target)
    }

    /// Ends the loop after the current tick.
    package func requestStop() {
        stopRequested = true
    }

    /// Runs `hook` when the loop ends, before queued work is abandoned.
    package func onShutdown(_ hook: @escaping () -> Void) {
        shutdownHooks.append(hook)
    }

    // MARK: - The loop

    /// Runs ticks until `requestStop()`; returns after the shutdown hooks ran.
    func run() {
        while !stopRequested {
            tick()
        }
        for hook in shutdownHooks { hook() }
        shutdownHooks.removeAll()
        for slot in slots.compactMap({ $0 }) { slot.handler.reactorShutdown() }
        slots.removeAll()
        let left = handle.close()
        for work in left.completions + left.tasks { work(self) }
        for job in left.jobs { job.runSynchronously(on: handle.asUnownedSerialExecutor()) }
        timers.removeAll()
        poller.deregister(fd: handle.eventFD)
        Socket.close(handle.eventFD)
        handle.markFinished()
    }

    private func tick() {
        // Phase 1: how long may we sleep?
        let timeout = computeTimeout()
        // Phase 2: wait for readiness.
        events.removeAll(keepingCapacity: true)
        do {
            try poller.wait(timeoutMilliseconds: timeout, into: &events)
        } catch {
            logger.critical("epoll_wait failed", metadata: ["error": "\(error)"])
            stopRequested = true
            return
        }
        // Phase 3: dispatch I/O.
        for event in events { dispatch(event) }
        // Phases 4 and 6 share one swap of the cross-thread queues.
        let queued = handle.takeQueued()
        // Phase 4: worker completions.
        for completion in queued.completions { completion(self) }
        // Phase 5: timers.
        for callback in timers.popDue(at: now) { callback() }
        // Phase 6: posted tasks and executor jobs, bounded.
        runPostedWork(tasks: queued.tasks, jobs: queued.jobs)
        // Phase 7: flush.
        flushAll()
    }

    private func computeTimeout() -> CInt {
        if !deferredTasks.isEmpty || !deferredJobs.isEmpty || !flushQueue.isEmpty || stopRequested { return 0 }
        if handle.queues.withLock({ $0.wakePending }) { return 0 }
        guard let deadline = timers.nextDeadline() else { return -1 }
        if clock.isManual { return deadline <= now ? 0 : -1 }
        return CInt(now.milliseconds(until: deadline))
    }

    private func dispatch(_ event: PollerEvent) {
        if event.fd == handle.eventFD {
            EventFD.drain(handle.eventFD)
            return
        }
        if event.readable, let handler = handler(for: event) { handler.reactorReadable() }
        if event.writable, let handler = handler(for: event) { handler.reactorWritable() }
        if event.hangup, !event.readable, let handler = handler(for: event) { handler.reactorHangup() }
    }

    /// The live handler for an event, or nil when the event is stale (deregistered meanwhile).
    private func handler(for event: PollerEvent) -> (any IOHandler)? {
        let index = Int(event.fd)
        guard index < slots.count, let slot = slots[index], slot.generation == event.generation else { return nil }
        return slot.handler
    }

    private func runPostedWork(tasks: [ReactorHandle.Work], jobs: [UnownedJob]) {
        deferredTasks.append(contentsOf: tasks)
        deferredJobs.append(contentsOf: jobs)
        var budget = maxTasksPerTick
        var taskIndex = 0
        while taskIndex < deferredTasks.count, budget > 0 {
            deferredTasks[taskIndex](self)
            taskIndex += 1
            budget -= 1
        }
        deferredTasks.removeFirst(taskIndex)
        var jobIndex = 0
        while jobIndex < deferredJobs.count, budget > 0 {
            deferredJobs[jobIndex].runSynchronously(
                isolatedTo: handle.asUnownedSerialExecutor(), taskExecutor: handle.asUnownedTaskExecutor())
            jobIndex += 1
            budget -= 1
        }
        deferredJobs.removeFirst(jobIndex)
    }

    private func flushAll() {
        // A flush may queue more output for others (a response completing a pipeline), so drain
        // until quiet; each target deduplicates its own pending flag.
        var round = 0
        while !flushQueue.isEmpty, round < 4 {
            let targets = flushQueue
            flushQueue.removeAll(keepingCapacity: true)
            for target in targets { target.reactorFlush() }
            round += 1
        }
    }
}
