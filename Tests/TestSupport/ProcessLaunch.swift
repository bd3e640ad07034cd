import Foundation

/// Starts child processes one at a time. Foundation's `Process.run` on Linux is not safe to call
/// from several threads at once: under parallel tests it crashed once inside its launch (a bad
/// pointer in a copy). A launch takes a few milliseconds, so serializing them costs nothing.
package enum ProcessLaunch {
    private static let lock = NSLock()

    package static func run(_ process: Process) throws {
        lock.lock()
        defer { lock.unlock() }
        try process.run()
    }
}
