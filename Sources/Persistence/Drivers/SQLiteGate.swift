import Synchronization

/// Keeps ordinary statements off a SQLite connection while an async transaction holds it.
///
/// An async transaction's statements reach the lane one by one, with awaits in between; any
/// other statement enqueued on the lane in such a gap would run inside that transaction (and
/// vanish with its rollback). So this is a fair reader-writer gate: ordinary work is "shared"
/// (many may be queued on the lane at once, which is what keeps single statements cheap),
/// a transaction is "exclusive" and waits until the shared work already on the lane is done.
/// Arrivals queue in FIFO order behind a waiting transaction, so transactions cannot starve.
///
/// The uncontended path is one lock acquisition, with no suspension.
final class SQLiteGate: Sendable {
    private struct Waiter {
        let exclusive: Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var sharedCount = 0
        var exclusiveHeld = false
        var waiters: [Waiter] = []
        var waiterStart = 0

        var hasWaiters: Bool { waiterStart < waiters.count }
    }

    private let state = Mutex(State())

    private final class WeakGate: Sendable {
        weak let gate: SQLiteGate?
        init(_ gate: SQLiteGate) { self.gate = gate }
    }

    private static let registry = Mutex<[String: WeakGate]>([:])

    /// The gate of a database file, shared by every handle on it in this process: handles of one
    /// file share a worker lane too, and a second handle's `BEGIN IMMEDIATE` queued on that lane
    /// would wait out SQLite's busy timeout there, stalling the very transaction it waits for.
    static func shared(forPath path: String) -> SQLiteGate {
        registry.withLock { gates in
            if let gate = gates[path]?.gate { return gate }
            gates = gates.filter { $0.value.gate != nil }
            let gate = SQLiteGate()
            gates[path] = WeakGate(gate)
            return gate
        }
    }

    /// Waits until no transaction holds the connection, then counts the caller as shared work.
    func enterShared() async {
        let entered = state.withLock { state -> Bool in
            guard !state.exclusiveHeld, !state.hasWaiters else { return false }
            state.sharedCount += 1
            return true
        }
        if entered { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                // Re-checked under the lock: the holder may have left in between.
                if !state.exclusiveHeld, !state.hasWaiters {
                    state.sharedCount += 1
                    return true
                }
                state.waiters.append(Waiter(exclusive: false, continuation: continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Ends shared work started with `enterShared`.
    func leaveShared() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.sharedCount -= 1
            return Self.admit(&state)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Waits until the connection is free of shared work and other transactions, then holds it.
    func enterExclusive() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if !state.exclusiveHeld, state.sharedCount == 0, !state.hasWaiters {
                    state.exclusiveHeld = true
                    return true
                }
                state.waiters.append(Waiter(exclusive: true, continuation: continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Releases the hold taken by `enterExclusive` and admits whoever queued meanwhile.
    func leaveExclusive() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.exclusiveHeld = false
            return Self.admit(&state)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Admits waiters in arrival order: shared ones while no transaction holds, and the first
    /// transaction once the shared work ahead of it has drained. Returns whom to resume.
    private static func admit(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        var ready: [CheckedContinuation<Void, Never>] = []
        while !state.exclusiveHeld, state.hasWaiters {
            let next = state.waiters[state.waiterStart]
            if next.exclusive {
                guard state.sharedCount == 0 else { break }
                state.exclusiveHeld = true
            } else {
                state.sharedCount += 1
            }
            ready.append(next.continuation)
            state.waiterStart += 1
        }
        if state.waiterStart == state.waiters.count {
            state.waiters.removeAll(keepingCapacity: true)
            state.waiterStart = 0
        }
        return ready
    }
}
