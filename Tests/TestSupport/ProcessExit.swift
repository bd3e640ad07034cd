import Foundation
import Glibc

/// Waits for a child to exit by polling, and SIGKILLs it at the deadline; true when it exited by
/// itself. Used instead of Foundation's `Process.waitUntilExit`, which on Linux can miss an exit
/// and spin for good (it hung a whole test run once). Foundation's own view can miss it too (the
/// child stays a zombie and `isRunning` stays true), so the kernel is asked as well, without
/// reaping the child from under Foundation. Blocks its thread for at most `seconds` plus 5 s.
@discardableResult
package func awaitExit(_ process: Process, seconds: Double = 30) -> Bool {
    let pid = process.processIdentifier
    let deadline = Date().addingTimeInterval(seconds)
    while !hasExited(process), Date() < deadline { usleep(5_000) }
    if hasExited(process) { return true }
    kill(pid, SIGKILL)
    let killed = Date().addingTimeInterval(5)
    while !hasExited(process), Date() < killed { usleep(5_000) }
    return false
}

/// The child's exit status (128 + the signal for a child killed by one), from Foundation when it
/// noticed the exit and from the kernel when it did not; -1 while the child still runs.
package func exitStatus(of process: Process) -> Int32 {
    if !process.isRunning { return process.terminationStatus }
    return kernelExitStatus(process.processIdentifier) ?? -1
}

private func hasExited(_ process: Process) -> Bool {
    !process.isRunning || kernelExitStatus(process.processIdentifier) != nil
}

/// `waitid` with `WNOWAIT`: whether the child has exited, leaving it to be reaped by Foundation.
private func kernelExitStatus(_ pid: pid_t) -> Int32? {
    var info = siginfo_t()
    guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return nil }
    let child = info._sifields._sigchld
    guard child.si_pid == pid else { return nil }
    return info.si_code == Int32(CLD_EXITED) ? child.si_status : 128 + child.si_status
}

/// Runs `body`, which starts an external program and waits for it, on a thread of its own
/// (`blocking`) while holding one of a few process-wide slots (half the cores, at least one).
///
/// Test cases run in parallel: a parametrized test whose hundred cases each start a CPU-bound
/// program (a QR decoder) would put a hundred busy processes on the machine at once, and every
/// other test, with the simulators and gateways inside it, would crawl for as long. On a
/// two-core machine that was a stall of about twenty seconds, long enough for unrelated tests
/// to reach their own timeouts.
package func runningExternalProgram<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    await ExternalProgramSlots.shared.enter()
    do {
        let value = try await blocking(body)
        await ExternalProgramSlots.shared.leave()
        return value
    } catch {
        await ExternalProgramSlots.shared.leave()
        throw error
    }
}

private actor ExternalProgramSlots {
    static let shared = ExternalProgramSlots(limit: max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
    private let limit: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func enter() async {
        if holders < limit {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }  // the slot is handed over by leave()
    }

    func leave() {
        if waiting.isEmpty { holders -= 1 } else { waiting.removeFirst().resume() }
    }
}
