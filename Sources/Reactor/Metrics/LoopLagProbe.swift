import Synchronization

/// Measures how late the reactor runs its timers: a timer is armed every `interval`, and when it
/// fires the difference between its deadline and the clock is the loop's lag (time spent in
/// handlers, tasks and flushes that kept the loop from coming back to its timers). The p99 and
/// maximum over the last `window` samples are published through atomics, so the metrics
/// renderer may read them from any thread.
package final class LoopLagProbe: Sendable {
    package let intervalMilliseconds: Int
    private let window: Int
    private let p99Nanoseconds = Atomic<UInt64>(0)
    private let maxNanoseconds = Atomic<UInt64>(0)
    private let lastNanoseconds = Atomic<UInt64>(0)
    private let sampleCount = Atomic<UInt64>(0)

    /// - Parameters:
    ///   - intervalMilliseconds: how often to sample (500 ms costs nothing measurable).
    ///   - window: how many recent samples the p99 and maximum cover (120 × 500 ms = 1 min).
    package init(intervalMilliseconds: Int = 500, window: Int = 120) {
        self.intervalMilliseconds = max(1, intervalMilliseconds)
        self.window = max(1, window)
    }

    /// Starts sampling on `reactor`; runs until the reactor stops. Call on the reactor thread.
    package func start(on reactor: Reactor) {
        reactor.handle.preconditionInReactorThread()
        arm(reactor, SampleRing(capacity: window))
    }

    private func arm(_ reactor: Reactor, _ ring: SampleRing) {
        let deadline = reactor.now.adding(milliseconds: intervalMilliseconds)
        reactor.schedule(at: deadline) { [self, unowned reactor] in
            let now = reactor.now
            let lag = now > deadline ? now.nanoseconds - deadline.nanoseconds : 0
            ring.append(lag)
            lastNanoseconds.store(lag, ordering: .relaxed)
            sampleCount.add(1, ordering: .relaxed)
            p99Nanoseconds.store(ring.percentile(0.99), ordering: .relaxed)
            maxNanoseconds.store(ring.maximum, ordering: .relaxed)
            arm(reactor, ring)
        }
    }

    /// The 99th percentile of recent lags, in seconds.
    package var p99Seconds: Double { Double(p99Nanoseconds.load(ordering: .relaxed)) / 1e9 }
    /// The largest recent lag, in seconds.
    package var maxSeconds: Double { Double(maxNanoseconds.load(ordering: .relaxed)) / 1e9 }
    /// The most recent lag, in seconds.
    package var lastSeconds: Double { Double(lastNanoseconds.load(ordering: .relaxed)) / 1e9 }
    /// How many samples were taken since `start`.
    package var samples: UInt64 { sampleCount.load(ordering: .relaxed) }
}

/// The recent samples; touched only by the probe's timer callback, on the reactor thread.
private final class SampleRing {
    private var values: [UInt64] = []
    private var next = 0
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        values.reserveCapacity(capacity)
    }

    func append(_ value: UInt64) {
        if values.count < capacity {
            values.append(value)
        } else {
            values[next] = value
        }
        next = (next + 1) % capacity
    }

    var maximum: UInt64 { values.max() ?? 0 }

    /// Nearest-rank percentile; sorting 120 numbers twice a second is cheaper than keeping a sketch.
    func percentile(_ fraction: Double) -> UInt64 {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
