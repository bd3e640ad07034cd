import Foundation

/// A spawned child process watched from the reactor: it leads its own process group, its exit
/// is seen through a pidfd (readable on exit) and reaped at once, and the last lines of its
/// stderr are kept for the error report when it dies early.
///
/// `kill()` (and the loop's shutdown) sends SIGKILL to the whole group, so no helper process
/// outlives its session, whatever the gateway does next. `kill()` never waits: the leader is
/// reaped when its pidfd reports the exit, like any other exit.
package final class ChildProcess: IOHandler {
    /// The child's process id, which is also its process group id.
    package let pid: Int32
    private unowned let reactor: Reactor
    private let pidfd: CInt
    private var registration: IORegistration?
    private var stderrReader: PipeReader?
    private var stderrTail = LineTail(limit: 40)
    private var onExit: ((ExitStatus) -> Void)?
    /// Callers of `kill()` waiting for the leader to be reaped.
    private var onReaped: [() -> Void] = []
    package private(set) var exitStatus: ExitStatus?

    /// Spawns `path`. `descriptors` maps child descriptor numbers to ours (they are left open:
    /// the caller closes its copies of the child's ends after this returns). stderr is read
    /// through a pipe on the reactor; stdin and stdout are /dev/null.
    package init(
        reactor: Reactor, path: String, arguments: [String], environment: [String], descriptors: [CInt: CInt],
        onExit: @escaping (ExitStatus) -> Void
    ) throws {
        self.reactor = reactor
        self.onExit = onExit
        let stderrPipe = try Spawn.pipe(nonBlockingRead: true, nonBlockingWrite: false)
        var mapped = descriptors
        mapped[2] = stderrPipe.write
        let pid: Int32
        do {
            pid = try Spawn.spawn(path: path, arguments: arguments, environment: environment, descriptors: mapped)
        } catch {
            PipeIO.close(stderrPipe.read)
            PipeIO.close(stderrPipe.write)
            throw error
        }
        PipeIO.close(stderrPipe.write)
        self.pid = pid
        do {
            pidfd = try Spawn.pidfd(pid)
        } catch {
            PipeIO.close(stderrPipe.read)
            Spawn.killGroup(pid)
            Self.reapOffTheLoop(pid)
            throw error
        }
        registration = try reactor.register(fd: pidfd, interest: .read, handler: self)
        stderrReader = try PipeReader(
            reactor: reactor, fd: stderrPipe.read,
            onBytes: { [weak self] bytes in self?.stderrTail.append(bytes) },
            onEnd: { [weak self] _ in self?.stderrReader = nil })
    }

    deinit {
        assert(registration == nil, "ChildProcess dropped while its process may run; call kill()")
    }

    /// True until the exit has been observed.
    package var isRunning: Bool { exitStatus == nil }

    /// The last lines the child wrote to stderr.
    package var recentOutput: [String] { stderrTail.lines }

    /// Sends `signal` to the process group.
    package func signal(_ signal: CInt) {
        guard exitStatus == nil else { return }
        Spawn.signalGroup(pid, signal)
    }

    /// SIGKILLs the whole group. `onExit` is not called. The leader is reaped when its pidfd
    /// becomes readable (the reactor keeps this object registered until then, so the caller may
    /// drop it at once), and `onReaped` runs then, on the reactor thread; at once when the child
    /// is already reaped. Until then the leader may linger as a zombie.
    package func kill(onReaped: (() -> Void)? = nil) {
        onExit = nil
        if let onReaped { self.onReaped.append(onReaped) }
        if exitStatus == nil {
            Spawn.killGroup(pid)
            // Its stderr tail is of no use any more; the pipe goes now, not at the reap.
            stderrReader?.close()
            stderrReader = nil
            guard let status = Spawn.reap(pid) else { return }
            exitStatus = status
        }
        release()
        finishReaped()
    }

    package func reactorReadable() {
        guard exitStatus == nil, let status = Spawn.reap(pid) else { return }
        exitStatus = status
        // Helpers may outlive the leader for a moment; they belong to the session and go too.
        Spawn.killGroup(pid)
        release()
        let callback = onExit
        onExit = nil
        callback?(status)
        finishReaped()
    }

    package func reactorWritable() {}
    package func reactorHangup() { reactorReadable() }

    /// The loop is ending: no later readiness event will reap the leader, so a thread of its
    /// own waits for it (SIGKILL makes that wait short), and the pidfd is released now.
    package func reactorShutdown() {
        onExit = nil
        if exitStatus == nil {
            Spawn.killGroup(pid)
            if let status = Spawn.reap(pid) {
                exitStatus = status
            } else {
                Self.reapOffTheLoop(pid)
                exitStatus = .signalled(Spawn.killSignal)
            }
        }
        release()
        finishReaped()
    }

    private func finishReaped() {
        let waiting = onReaped
        onReaped = []
        for callback in waiting { callback() }
    }

    private func release() {
        if let registration {
            reactor.deregister(registration)
            PipeIO.close(pidfd)
            self.registration = nil
        }
        stderrReader?.close()
        stderrReader = nil
    }

    /// Reaps a SIGKILLed child from a short-lived thread, off the reactor (the loop is ending, or
    /// the pidfd could not be had). Gives up after 10 s: a child stuck in the kernel that long is
    /// left to init.
    private static func reapOffTheLoop(_ pid: Int32) {
        Thread.detachNewThread {
            for _ in 0..<10_000 {
                if Spawn.reap(pid) != nil { return }
                usleep(1_000)
            }
        }
    }
}

/// The last `limit` lines of a byte stream (partial last line kept separately).
private struct LineTail {
    let limit: Int
    private(set) var lines: [String] = []
    private var partial: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: partial, as: UTF8.self))
                partial.removeAll(keepingCapacity: true)
                if lines.count > limit { lines.removeFirst(lines.count - limit) }
            } else if partial.count < 4_096 {
                partial.append(byte)
            }
        }
    }
}
