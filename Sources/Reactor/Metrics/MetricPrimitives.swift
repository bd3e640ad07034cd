import Synchronization

/// A monotonically increasing count. Increments are one relaxed atomic add, so any thread
/// (the reactor's hot path included) may record without a lock.
package final class Counter: Sendable {
    private let value = Atomic<UInt64>(0)

    package init() {}

    package func increment(by amount: UInt64 = 1) {
        value.add(amount, ordering: .relaxed)
    }

    package var current: UInt64 { value.load(ordering: .relaxed) }
}

/// A value that goes up and down, set by whoever owns it (a queue's depth, say). Stored as the
/// bit pattern of a `Double` so set and read are single atomic operations.
package final class Gauge: Sendable {
    private let bits = Atomic<UInt64>(0.0.bitPattern)

    package init() {}

    package func set(_ value: Double) {
        bits.store(value.bitPattern, ordering: .relaxed)
    }

    package func add(_ delta: Double) {
        var expected = bits.load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: expected) + delta).bitPattern
            let (exchanged, original) = bits.compareExchange(
                expected: expected, desired: next, ordering: .relaxed)
            if exchanged { return }
            expected = original
        }
    }

    package var current: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}

/// Observations sorted into cumulative buckets (Prometheus histogram). Each observation is a
/// few relaxed atomic adds: a bucket count, the total count, and the sum kept in whole
/// nanounits (`value × 1e9`, rounded) so it can be added without a compare-and-swap loop.
package final class Histogram: Sendable {
    /// Upper bounds, ascending; `+Inf` is implied.
    package let bounds: [Double]
    private let buckets: [AtomicCell]
    private let count = Atomic<UInt64>(0)
    private let sumNanounits = Atomic<UInt64>(0)

    package init(bounds: [Double]) {
        self.bounds = bounds.sorted()
        self.buckets = bounds.map { _ in AtomicCell() }
    }

    package func observe(_ value: Double) {
        // Linear search: bucket lists are short (about a dozen) and this stays branch-friendly.
        if let index = bounds.firstIndex(where: { value <= $0 }) {
            buckets[index].value.add(1, ordering: .relaxed)
        }
        count.add(1, ordering: .relaxed)
        sumNanounits.add(UInt64(max(0, (value * 1e9).rounded())), ordering: .relaxed)
    }

    /// Cumulative counts per bound (the `le` series), the total count and the sum.
    package var snapshot: (cumulative: [UInt64], count: UInt64, sum: Double) {
        var running: UInt64 = 0
        let cumulative = buckets.map { cell -> UInt64 in
            running += cell.value.load(ordering: .relaxed)
            return running
        }
        let total = count.load(ordering: .relaxed)
        return (cumulative, max(total, running), Double(sumNanounits.load(ordering: .relaxed)) / 1e9)
    }

    /// Bounds for request latencies in seconds, 5 ms to 10 s.
    package static let latencySeconds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
}

/// One atomic slot; `Atomic` is not copyable, so an array of them needs a box.
private final class AtomicCell: Sendable {
    let value = Atomic<UInt64>(0)
}
