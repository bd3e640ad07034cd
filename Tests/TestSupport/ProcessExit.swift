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
