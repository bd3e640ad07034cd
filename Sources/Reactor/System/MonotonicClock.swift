internal import CLinux
internal import Glibc

/// The kernel's monotonic clock, the time base of timers and deadlines.
package enum MonotonicTime {
    package static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// The calling thread's kernel identity, used to check thread confinement.
package enum ThreadIdentity {
    package static func current() -> UInt { UInt(pthread_self()) }

    /// Names the calling thread for `top -H`, perf and core dumps (15 characters at most).
    package static func setCurrentName(_ name: String) {
        _ = pthread_setname_np(pthread_self(), String(name.prefix(15)))
    }
}
