import Foundation
import Glibc

/// Waits for a child to exit by polling, and SIGKILLs it at the deadline; true when it exited by
/// itself. Used instead of Foundation's `Process.waitUntilExit`, which on Linux can miss an exit
/// and spin for good (it hung a whole test run once). Blocks its thread for at most `seconds`.
@discardableResult
package func awaitExit(_ process: Process, seconds: Double = 30) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning, Date() < deadline { usleep(5_000) }
    guard process.isRunning else { return true }
    kill(process.processIdentifier, SIGKILL)
    while process.isRunning { usleep(5_000) }
    return false
}
