internal import CLinux

/// The io_uring probe: the opt-in poller backend may be used only where the kernel allows a ring.
///
/// Containers often forbid io_uring through seccomp, so the probe really creates a ring, with the
/// raw `io_uring_setup` system call: liburing's header defines `_GNU_SOURCE`, which makes its
/// clang module's `fd_set` clash with every other module's (see CLinux's shim), so Reactor does
/// not import it until an io_uring poller needs more than this probe.
package enum URing {
    package static func isAvailable() -> Bool {
        // struct io_uring_params is 120 bytes; zeroed means default flags.
        var params = [UInt8](repeating: 0, count: 128)
        let fd = params.withUnsafeMutableBytes { CLinux_io_uring_setup(2, $0.baseAddress) }
        guard fd >= 0 else { return false }
        _ = CLinux.close(fd)
        return true
    }
}
