import Synchronization

/// A point on the reactor's monotonic time line, in nanoseconds.
package struct ReactorInstant: Comparable, Hashable, Sendable {
    package var nanoseconds: UInt64

    package init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    package static func < (lhs: ReactorInstant, rhs: ReactorInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// This instant moved later by `milliseconds` (saturating).
    package func adding(milliseconds: Int) -> ReactorInstant {
        let delta = UInt64(max(0, milliseconds)).multipliedReportingOverflow(by: 1_000_000)
        let sum = nanoseconds.addingReportingOverflow(delta.overflow ? .max : delta.partialValue)
        return ReactorInstant(nanoseconds: sum.overflow ? .max : sum.partialValue)
    }

    /// Whole milliseconds from `self` until `later`, rounded up, or 0 when it has passed.
    package func milliseconds(until later: ReactorInstant) -> Int {
        guard later > self else { return 0 }
        let delta = later.nanoseconds - nanoseconds
        return Int(min(delta / 1_000_000 + (delta % 1_000_000 == 0 ? 0 : 1), UInt64(Int32.max)))
    }
}

/// The time source of a reactor: the kernel's monotonic clock, or a manual one for tests.
package protocol ReactorClock: Sendable {
    func now() -> ReactorInstant
    /// A manual clock never advances while the loop sleeps, so the loop waits for I/O or a wake
    /// instead of sleeping until the next timer.
    var isManual: Bool { get }
    /// Called once by the reactor so a manual clock can wake the loop when it is advanced.
    func attach(wake: @escaping @Sendable () -> Void)
}

/// The production clock.
package struct MonotonicReactorClock: ReactorClock {
    package init() {}
    package func now() -> ReactorInstant { ReactorInstant(nanoseconds: MonotonicTime.nanoseconds()) }
    package var isManual: Bool { false }
    package func attach(wake: @escaping @Sendable () -> Void) {}
}

/// A clock that moves only when a test says so; advancing it wakes the attached reactors, which
/// then fire every timer that has come due.
package final class ManualReactorClock: ReactorClock {
    private struct State {
        var now: UInt64
        var wakes: [@Sendable () -> Void] = []
    }

    private let state: Mutex<State>

    package init(startingAt nanoseconds: UInt64 = 1_000_000_000) {
        state = Mutex(State(now: nanoseconds))
    }

    package func now() -> ReactorInstant { ReactorInstant(nanoseconds: state.withLock { $0.now }) }
    package var isManual: Bool { true }

    package func attach(wake: @escaping @Sendable () -> Void) {
        state.withLock { $0.wakes.append(wake) }
    }

    /// Moves time forward and wakes the reactors so their due timers fire.
    package func advance(milliseconds: Int) {
        let wakes = state.withLock { state in
            state.now += UInt64(milliseconds) * 1_000_000
            return state.wakes
        }
        for wake in wakes { wake() }
    }
}
