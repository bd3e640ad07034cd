internal import CLinux

/// The eventfd the reactor sleeps on besides its sockets; any thread may signal it.
package enum EventFD {
    package static func create() throws(ReactorError) -> CInt {
        let fd = eventfd(0, CInt(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw .syscall("eventfd", errno: CLinux_errno()) }
        return fd
    }

    /// Adds one to the counter. EAGAIN means the counter is saturated, which still wakes the loop.
    @inline(never)
    package static func signal(_ fd: CInt) {
        var one: UInt64 = 1
        while true {
            let written = withUnsafeBytes(of: &one) { CLinux.write(fd, $0.baseAddress, 8) }
            if written >= 0 || CLinux_errno() != EINTR { return }
        }
    }

    /// Resets the counter so the next `epoll_wait` sleeps again.
    @inline(never)
    package static func drain(_ fd: CInt) {
        var value: UInt64 = 0
        while true {
            let got = withUnsafeMutableBytes(of: &value) { CLinux.read(fd, $0.baseAddress, 8) }
            if got >= 0 || CLinux_errno() != EINTR { return }
        }
    }
}
