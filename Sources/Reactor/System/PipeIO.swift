internal import CLinux

/// read(2)/write(2) on pipe ends. `Socket.write` uses send(2) with MSG_NOSIGNAL, which a pipe
/// refuses (ENOTSOCK), so pipes get their own wrapper; a write to a pipe whose reader is gone
/// fails with EPIPE because the process ignores SIGPIPE (`SignalFD.ignoreBrokenPipe`).
package enum PipeIO {
    /// Reads into `buffer`; `.processed(0)` is end of file (every writer closed). read(2) is the
    /// same call on a pipe as on a socket.
    package static func read(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) throws(ReactorError) -> IOResult<Int> {
        try Socket.read(fd, into: buffer)
    }

    @inline(never)
    package static func write(_ fd: CInt, from buffer: UnsafeRawBufferPointer) throws(ReactorError) -> IOResult<Int> {
        while true {
            let count = CLinux.write(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return .processed(count) }
            let error = CLinux_errno()
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw .syscall("write", errno: error)
            }
        }
    }

    package static func close(_ fd: CInt) {
        _ = CLinux.close(fd)
    }
}
