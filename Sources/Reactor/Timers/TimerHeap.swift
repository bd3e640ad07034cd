/// Identifies a scheduled timer so it can be cancelled.
package struct TimerID: Hashable, Sendable {
    fileprivate let value: UInt64
}

/// A binary min-heap of timers ordered by deadline, with cancellation by lazy deletion.
///
/// Cancelling removes only the callback; the heap entry stays until it reaches the top and is
/// skipped. Owners that re-arm often (connection deadlines) keep at most one live timer each and
/// move their own deadline instead, so the heap does not fill with tombstones.
package struct TimerHeap {
    private struct Entry {
        var deadline: ReactorInstant
        var id: UInt64
    }

    private var heap: [Entry] = []
    private var callbacks: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 0

    package init() {}

    /// How many timers are still live (scheduled and not cancelled).
    package var count: Int { callbacks.count }

    package mutating func schedule(at deadline: ReactorInstant, _ callback: @escaping () -> Void) -> TimerID {
        nextID += 1
        callbacks[nextID] = callback
        heap.append(Entry(deadline: deadline, id: nextID))
        siftUp(heap.count - 1)
        return TimerID(value: nextID)
    }

    /// Cancels a timer; returns false when it had already fired or been cancelled.
    @discardableResult
    package mutating func cancel(_ id: TimerID) -> Bool {
        callbacks.removeValue(forKey: id.value) != nil
    }

    /// The earliest live deadline, dropping cancelled entries found on top.
    package mutating func nextDeadline() -> ReactorInstant? {
        while let top = heap.first {
            if callbacks[top.id] != nil { return top.deadline }
            popTop()
        }
        return nil
    }

    /// Removes and returns the callbacks of every timer due at `now`, earliest first.
    package mutating func popDue(at now: ReactorInstant) -> [() -> Void] {
        var due: [() -> Void] = []
        while let top = heap.first, top.deadline <= now {
            popTop()
            if let callback = callbacks.removeValue(forKey: top.id) { due.append(callback) }
        }
        return due
    }

    /// Drops every timer, for shutdown.
    package mutating func removeAll() {
        heap.removeAll()
        callbacks.removeAll()
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].deadline < heap[b].deadline || (heap[a].deadline == heap[b].deadline && heap[a].id < heap[b].id)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, less(left + 1, left) { smallest = left + 1 }
            guard less(smallest, parent) else { return }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
