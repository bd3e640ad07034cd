internal import CLinux
internal import Glibc

/// How a spawned child exited.
package enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(CInt)
    case signalled(CInt)

    package var description: String {
        switch self {
        case .exited(let code): return "exit code \(code)"
        case .signalled(let signal): return "signal \(signal)"
        }
    }
}

/// Process spawning and the descriptors around it: pipes, pidfds, process groups, advisory
/// locks. Every descriptor made here is close-on-exec, so a child only gets what its spawn
/// maps explicitly (browser B must never hold browser A's command pipe, or A never sees EOF).
package enum Spawn {
    /// A pipe whose ends sit at descriptor 10 or above (so mapping them onto a child's 3 and 4
    /// cannot clobber each other), both close-on-exec. Non-blocking only where asked: the child's
    /// end of a pipe is a separate open file and stays blocking.
    package static func pipe(nonBlockingRead: Bool, nonBlockingWrite: Bool) throws(ReactorError) -> (read: CInt, write: CInt) {
        var fds: [CInt] = [-1, -1]
        guard pipe2(&fds, CInt(O_CLOEXEC)) == 0 else { throw .syscall("pipe2", errno: CLinux_errno()) }
        let read = fcntl(fds[0], F_DUPFD_CLOEXEC, CInt(10))
        let write = fcntl(fds[1], F_DUPFD_CLOEXEC, CInt(10))
        let error = CLinux_errno()
        _ = CLinux.close(fds[0])
        _ = CLinux.close(fds[1])
        guard read >= 0, write >= 0 else {
            if read >= 0 { _ = CLinux.close(read) }
            if write >= 0 { _ = CLinux.close(write) }
            throw .syscall("fcntl(F_DUPFD_CLOEXEC)", errno: error)
        }
        if nonBlockingRead { try setNonBlocking(read) }
        if nonBlockingWrite { try setNonBlocking(write) }
        return (read, write)
    }

    static func setNonBlocking(_ fd: CInt) throws(ReactorError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw .syscall("fcntl(O_NONBLOCK)", errno: CLinux_errno())
        }
    }

    /// Starts `path` with `arguments` (argv[0] excluded) and `environment`, leading a new process
    /// group (so `killGroup` reaches every helper it forks), with a clean signal mask and default
    /// signal dispositions (the gateway blocks SIGTERM/SIGINT and ignores SIGPIPE; a child must
    /// not inherit that). `descriptors` maps child descriptor numbers to ours; stdin and any of
    /// stdout/stderr not mapped read from or write to /dev/null.
    package static func spawn(
        path: String, arguments: [String], environment: [String], descriptors: [CInt: CInt]
    ) throws(ReactorError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for target in [CInt(0), 1, 2] where descriptors[target] == nil {
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        for (target, source) in descriptors.sorted(by: { $0.key < $1.key }) {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let argv = [path] + arguments
        let status = withCStrings(argv) { argvPointers in
            withCStrings(environment) { envPointers in
                posix_spawn(&pid, path, &actions, &attributes, argvPointers, envPointers)
            }
        }
        guard status == 0 else { throw .syscall("posix_spawn \(path)", errno: status) }
        return pid
    }

    /// A descriptor that turns readable when `pid` exits (close-on-exec, non-blocking).
    package static func pidfd(_ pid: Int32) throws(ReactorError) -> CInt {
        let fd = CLinux_pidfd_open(pid, 0)
        guard fd >= 0 else { throw .syscall("pidfd_open", errno: CLinux_errno()) }
        // pidfd_open sets close-on-exec itself; non-blocking only matters for waitid(P_PIDFD).
        return fd
    }

    /// Reaps `pid` if it has exited; nil while it still runs.
    package static func reap(_ pid: Int32) -> ExitStatus? {
        var status: CInt = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                if CLinux_WIFSIGNALED(status) != 0 { return .signalled(CLinux_WTERMSIG(status)) }
                return .exited(CLinux_WEXITSTATUS(status))
            }
            if result < 0, CLinux_errno() == EINTR { continue }
            // ECHILD: already reaped elsewhere; report it as gone.
            if result < 0 { return .exited(-1) }
            return nil
        }
    }

    /// Sends `signal` to every process of group `group`; false when none is left.
    @discardableResult
    package static func signalGroup(_ group: Int32, _ signal: CInt) -> Bool {
        killpg(group, signal) == 0
    }

    /// SIGKILL for every process of the group.
    package static func killGroup(_ group: Int32) {
        _ = killpg(group, SIGKILL)
    }

    /// Whether a process `pid` exists (zombies included).
    package static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || CLinux_errno() == EPERM
    }

    package static let killSignal: CInt = SIGKILL
    package static let terminateSignal: CInt = SIGTERM

    /// Takes an exclusive advisory lock on `path` (created if missing) without waiting. Returns
    /// the descriptor holding it, or nil when another open file (in this process or another) holds
    /// it. The lock lives until `unlock` closes the descriptor, or the process ends.
    package static func tryLock(_ path: String) throws(ReactorError) -> CInt? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .syscall("open \(path)", errno: CLinux_errno()) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = CLinux_errno()
            if error == EINTR { continue }
            _ = CLinux.close(fd)
            if error == EWOULDBLOCK { return nil }
            throw .syscall("flock \(path)", errno: error)
        }
        return fd
    }

    package static func unlock(_ fd: CInt) {
        _ = CLinux.close(fd)
    }

    /// The host name, as Chromium writes it into `SingletonLock`.
    package static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when the process runs as root (Chromium then needs `--no-sandbox`).
    package static var isRoot: Bool { geteuid() == 0 }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
