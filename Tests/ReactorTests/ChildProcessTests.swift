import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Reactor

/// Killing a child never waits on the reactor thread: the group is SIGKILLed, and the leader is
/// reaped when its pidfd reports the exit (a zombie until then), or off the loop when the loop ends.
@Suite(.timeLimit(.minutes(1))) struct ChildProcessTests {
    @Test func killedLeaderIsReapedByTheLoopAndReleasesItsDescriptor() async throws {
        let handle = try ReactorThread.start(name: "child", workers: WorkerPool(size: 1), logger: quietLogger)
        let reaped = Mutex(0)
        let pid = try await handle.submit { reactor in
            let child = try ChildProcess(
                reactor: reactor, path: "/bin/sleep", arguments: ["30"], environment: [], descriptors: [:]
            ) { _ in Issue.record("onExit runs only for exits nobody asked for") }
            child.kill { reaped.withLock { $0 += 1 } }
            // The caller drops the child at once; the loop keeps it until the reap.
            return child.pid
        }
        try await waitFor { reaped.withLock { $0 } == 1 }
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"), "reaped, not left a zombie")
        #expect(try await handle.submit { $0.registrationCount } == 0)
        handle.stop()
        await handle.waitUntilStopped()
        #expect(reaped.withLock { $0 } == 1)
    }

    @Test func loopEndingRightAfterAKillStillReapsTheLeader() async throws {
        let handle = try ReactorThread.start(name: "child", workers: WorkerPool(size: 1), logger: quietLogger)
        let reaped = Mutex(0)
        let pid = try await handle.submit { reactor in
            let child = try ChildProcess(
                reactor: reactor, path: "/bin/sleep", arguments: ["30"], environment: [], descriptors: [:]) { _ in }
            child.kill { reaped.withLock { $0 += 1 } }
            return child.pid
        }
        handle.stop()
        await handle.waitUntilStopped()
        #expect(reaped.withLock { $0 } == 1, "waiters hear of the end either way")
        try await waitFor { !FileManager.default.fileExists(atPath: "/proc/\(pid)") }
    }

    private func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<500 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition never held")
    }
}
