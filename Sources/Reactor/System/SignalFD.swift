internal import CLinux

/// Signals delivered as readable events on a descriptor, so shutdown runs on the reactor thread.
package enum SignalFD {
    /// Blocks `signals` for the calling thread and every thread it creates afterwards.
    /// Call from `main` before any other thread starts, or a thread may take the signal instead.
    package static func blockInProcess(_ signals: [CInt]) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Creates a non-blocking signalfd for `signals` (which must already be blocked).
    package static func create(_ signals: [CInt]) throws(ReactorError) -> CInt {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        let fd = signalfd(-1, &set, CInt(SFD_NONBLOCK | SFD_CLOEXEC))
        guard fd >= 0 else { throw .syscall("signalfd", errno: CLinux_errno()) }
        return fd
    }

    /// Reads the pending signal numbers.
    package static func read(_ fd: CInt) -> [CInt] {
        var received: [CInt] = []
        var info = signalfd_siginfo()
        while true {
            let count = withUnsafeMutableBytes(of: &info) { CLinux.read(fd, $0.baseAddress, $0.count) }
            if count == MemoryLayout<signalfd_siginfo>.size {
                received.append(CInt(info.ssi_signo))
                continue
            }
            if count < 0, CLinux_errno() == EINTR { continue }
            return received
        }
    }

    package static let terminate: CInt = SIGTERM
    package static let interrupt: CInt = SIGINT
    package static let pipe: CInt = SIGPIPE

    /// Ignores SIGPIPE process-wide: a write to a closed socket must be an error, not a death.
    package static func ignoreBrokenPipe() {
        signal(SIGPIPE, CLinux_SIG_IGN())
    }
}
