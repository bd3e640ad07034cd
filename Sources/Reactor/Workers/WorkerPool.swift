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
            WorkerLane(queue: DispatchQueue(label: "\(label).\($0)", qos: .userInitiated), backlog: backlog)
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
    package let queue: DispatchQueue
    fileprivate let backlog: WorkBacklog

    /// Runs `body` on this lane and resumes the caller with its result.
    ///
    /// The caller's task resumes on its own executor; for tasks that prefer the reactor's
    /// executor that resumption is posted to the reactor and wakes it through its eventfd.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
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
