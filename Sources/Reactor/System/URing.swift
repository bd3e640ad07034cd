internal import CURing

/// The io_uring probe: the opt-in poller backend may be used only where the kernel allows a ring.
///
/// Containers often forbid io_uring through seccomp, so the probe really creates a ring.
package enum URing {
    package static func isAvailable() -> Bool {
        var ring = io_uring()
        guard io_uring_queue_init(2, &ring, 0) == 0 else { return false }
        io_uring_queue_exit(&ring)
        return true
    }
}
