internal import CLinux

/// The interest a registration has in its file descriptor.
package struct IOInterest: OptionSet, Sendable, Hashable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }
    package static let read = IOInterest(rawValue: 1)
    package static let write = IOInterest(rawValue: 2)
    package static let none: IOInterest = []
}

/// One readiness event, decoded from `epoll_event` so no C type leaves this folder.
struct PollerEvent {
    var fd: CInt
    var generation: UInt32
    var readable: Bool
    var writable: Bool
    /// Peer hang-up or an error condition: the handler should read to find out which.
    var hangup: Bool
}

/// The epoll backend of the reactor's poller seam (level-triggered).
///
/// `epoll_data.u64` carries `generation << 32 | fd`, so an event for a descriptor that was
/// closed and reused within one `epoll_wait` batch is recognised as stale and dropped.
struct EpollPoller: ~Copyable {
    private let epfd: CInt
    private var buffer: UnsafeMutableBufferPointer<epoll_event>

    init(capacity: Int = 256) throws(ReactorError) {
        let fd = epoll_create1(CInt(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw .syscall("epoll_create1", errno: CLinux_errno()) }
        self.epfd = fd
        self.buffer = .allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        _ = CLinux.close(epfd)
    }

    func register(fd: CInt, generation: UInt32, interest: IOInterest) throws(ReactorError) {
        try control(EPOLL_CTL_ADD, fd: fd, generation: generation, interest: interest)
    }

    func modify(fd: CInt, generation: UInt32, interest: IOInterest) throws(ReactorError) {
        try control(EPOLL_CTL_MOD, fd: fd, generation: generation, interest: interest)
    }

    func deregister(fd: CInt) {
        // ENOENT/EBADF here mean the fd was already closed, which removes it from the set.
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
    }

    /// Waits up to `timeoutMilliseconds` (-1 = forever) and appends the events to `events`.
    mutating func wait(timeoutMilliseconds: CInt, into events: inout [PollerEvent]) throws(ReactorError) {
        let count = epoll_wait(epfd, buffer.baseAddress, CInt(buffer.count), timeoutMilliseconds)
        if count < 0 {
            let error = CLinux_errno()
            if error == EINTR { return }
            throw .syscall("epoll_wait", errno: error)
        }
        for index in 0..<Int(count) {
            let event = buffer[index]
            let flags = event.events
            events.append(
                PollerEvent(
                    fd: CInt(truncatingIfNeeded: event.data.u64 & 0xFFFF_FFFF),
                    generation: UInt32(truncatingIfNeeded: event.data.u64 >> 32),
                    readable: flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0,
                    writable: flags & EPOLLOUT.rawValue != 0,
                    hangup: flags & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0))
        }
        if Int(count) == buffer.count {
            // A full batch suggests more are ready: grow so one wait can drain a burst.
            let bigger = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: buffer.count * 2)
            buffer.deallocate()
            buffer = bigger
        }
    }

    private func control(_ op: CInt, fd: CInt, generation: UInt32, interest: IOInterest) throws(ReactorError) {
        // RDHUP only with read interest: level-triggered, it would otherwise fire every tick
        // for a half-closed peer whose end of stream was already seen.
        var flags: UInt32 = 0
        if interest.contains(.read) { flags |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if interest.contains(.write) { flags |= EPOLLOUT.rawValue }
        var event = epoll_event()
        event.events = flags
        event.data.u64 = UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
        guard epoll_ctl(epfd, op, fd, &event) == 0 else {
            throw .syscall(op == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)", errno: CLinux_errno())
        }
    }
}
