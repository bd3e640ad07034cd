import Dispatch
import Synchronization

/// The fixed pool of worker lanes that runs CPU-heavy or blocking work off the reactor thread.
///
/// Each lane is a serial Dispatch queue, so work that must stay ordered (every statement of one
/// SQLite connection, say) is given one lane and never runs concurrently with itself. The pool is
/// sized once from configuration and never grows: a burst of work queues up instead of spawning
/// threads.
package final class WorkerPool: Sendable {
    private let lanes: [WorkerLane]
    private let backlog = WorkBacklog()

    /// - Parameter size: how many lanes to create; clamped to at least one.
    package init(size: Int, label: String = "openwa.worker") {
        let count = max(1, size)
        let backlog = self.backlog
        self.lanes = (0..<count).map {
            WorkerLane(executor: WorkerLaneExecutor(queue: DispatchQueue(label: "\(label).\($0)", qos: .userInitiated)), backlog: backlog)
        }
    }

    /// How many lanes the pool has.
    package var size: Int { lanes.count }

    /// Work items submitted through `run`/`submit` that have not finished yet, across all lanes
    /// (queued plus running): the pool's queue depth, for metrics.
    package var outstanding: Int { backlog.count.load(ordering: .relaxed) }

    /// The lane for a stable key: the same key always maps to the same lane.
    package func lane(for key: Int) -> WorkerLane {
        lanes[Int(UInt(bitPattern: key) % UInt(lanes.count))]
    }

    /// A lane chosen round-robin-ish for work that needs no ordering.
    package func anyLane() -> WorkerLane {
        lane(for: Int(DispatchTime.now().uptimeNanoseconds >> 10))
    }
}

/// One serial queue of the worker pool.
package struct WorkerLane: Sendable {
    /// Runs the jobs of tasks that prefer this lane (`withTaskExecutorPreference`).
    package let executor: WorkerLaneExecutor
    fileprivate let backlog: WorkBacklog

    package var queue: DispatchQueue { executor.queue }

    /// Runs `body` on this lane and resumes the caller with its result.
    ///
    /// The caller's task resumes on its own executor; for tasks that prefer the reactor's
    /// executor that resumption is posted to the reactor and wakes it through its eventfd.
    /// A caller already running on this lane (a task that prefers the lane's executor) runs
    /// `body` in place: it holds the lane, so nothing else can run in between anyway, and a
    /// many-statement transaction costs no thread hop per statement.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if executor.isCurrent { return try body() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            backlog.count.add(1, ordering: .relaxed)
            queue.async { [backlog] in
                let result = Result { try body() }
                backlog.count.subtract(1, ordering: .relaxed)
                continuation.resume(with: result)
            }
        }
    }

    /// Runs `body` on this lane and calls `completion` (on the lane) with its result.
    package func submit<T: Sendable>(
        _ body: @escaping @Sendable () throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        backlog.count.add(1, ordering: .relaxed)
        queue.async { [backlog] in
            let result = Result { try body() }
            backlog.count.subtract(1, ordering: .relaxed)
            completion(result)
        }
    }
}

/// The pool-wide count behind `WorkerPool.outstanding`; one relaxed atomic add per work item.
private final class WorkBacklog: Sendable {
    let count = Atomic<Int>(0)
}

/// A task executor over one lane's serial queue: a task that prefers it runs every job on the
/// lane, so the lane work it awaits (`WorkerLane.run`) runs in place instead of being handed over
/// and resumed by another thread.
package final class WorkerLaneExecutor: TaskExecutor, Sendable {
    let queue: DispatchQueue
    /// Set as the queue's specific value, to recognise code that already runs on the lane.
    private let key = DispatchSpecificKey<ObjectIdentifier>()

    init(queue: DispatchQueue) {
        self.queue = queue
        queue.setSpecific(key: key, value: ObjectIdentifier(queue))
    }

    /// True on the lane's own thread (inside one of its work items or task jobs).
    var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == ObjectIdentifier(queue) }

    package func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.async { unowned.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    package func asUnownedTaskExecutor() -> UnownedTaskExecutor { UnownedTaskExecutor(ordinary: self) }
}
