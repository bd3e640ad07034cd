import Engines
import Foundation
import Logging
import Reactor
import Synchronization

// Per-session memory and start-to-QR time of the browser engine (perf/browser-bench.sh).
//
// Starts N sessions at once, each its own Chromium, all serving the test fixture page
// (Tests/EnginesTests/Fixtures/fake-wa-web.html, a stand-in for WhatsApp Web) offline through
// Fetch interception. Reports the time from `start()` to the first QR event, then, once every
// session shows its QR, the memory of each session's whole process group from /proc:
// PSS (shared pages split among the processes mapping them; the honest per-session figure) and
// the plain RSS sum (which counts shared pages once per process).
//
// Usage: browser-bench <sessions> <chromium|headless-shell> <fixture.html>

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[1]), count > 0 else {
    FileHandle.standardError.write(Data("usage: browser-bench <sessions> <chromium|headless-shell> <fixture.html>\n".utf8))
    exit(2)
}
let headlessShell = arguments[2] == "headless-shell"
let html = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[3])))
let profiles = NSTemporaryDirectory() + "openwa-browser-bench-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: profiles) }

let logger = Logger(label: "browser-bench", factory: { _ in SwiftLogNoOpLogHandler() })
let reactor = try ReactorThread.start(name: "bench", workers: WorkerPool(size: 1), logger: logger)
let configuration = BrowserEngineConfiguration(
    headlessShell: headlessShell, profilesDirectory: profiles, pinnedHTML: html, blockOtherRequests: true,
    loadTimeoutMilliseconds: 60_000)
let factory = BrowserEngineFactory(configuration: configuration, reactor: reactor, logger: logger)

/// The first QR time of one session.
final class QRClock: Sendable {
    let started = Mutex<ContinuousClock.Instant?>(nil)
    let elapsed = Mutex<Duration?>(nil)
    func event(_ event: EngineEvent) {
        guard case .qr = event else { return }
        elapsed.withLock { value in
            if value == nil, let start = started.withLock({ $0 }) { value = ContinuousClock.now - start }
        }
    }
}

let clocks = (0..<count).map { _ in QRClock() }
let engines = (0..<count).map { index in
    factory.makeEngine(sessionID: "bench-\(index)", config: SessionEngineConfig(), events: { clocks[index].event($0) })
        as! BrowserEngine
}
for (index, engine) in engines.enumerated() {
    clocks[index].started.withLock { $0 = ContinuousClock.now }
    try await engine.start()
}
let deadline = ContinuousClock.now + .seconds(120)
while clocks.contains(where: { $0.elapsed.withLock { $0 } == nil }), ContinuousClock.now < deadline {
    try await Task.sleep(for: .milliseconds(20))
}
// Let the pages settle before measuring.
try await Task.sleep(for: .seconds(2))

/// Sums a /proc/<pid>/smaps_rollup field (kB) over the processes of `group`.
func groupMemory(_ group: Int32) -> (processes: Int, pssKB: Int, rssKB: Int) {
    var processes = 0
    var pss = 0
    var rss = 0
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard Int32(entry) != nil, let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, Int32(fields[2]) == group, fields[0] != "Z" else { continue }
        guard let rollup = try? String(contentsOfFile: "/proc/\(entry)/smaps_rollup", encoding: .utf8) else { continue }
        processes += 1
        for line in rollup.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let value = Int(parts[1]) else { continue }
            if parts[0] == "Pss:" { pss += value }
            if parts[0] == "Rss:" { rss += value }
        }
    }
    return (processes, pss, rss)
}

var totalPSS = 0
var totalRSS = 0
var totalProcesses = 0
for engine in engines {
    guard let group = await engine.processGroup() else { continue }
    let memory = groupMemory(group)
    totalPSS += memory.pssKB
    totalRSS += memory.rssKB
    totalProcesses += memory.processes
}
let qrTimes = clocks.compactMap { $0.elapsed.withLock { $0 } }.map { Double($0.components.attoseconds) / 1e18 + Double($0.components.seconds) }
let sorted = qrTimes.sorted()
let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
let worst = sorted.last ?? 0
print(
    String(
        format: "%-15@ %3d sessions  %3d procs  PSS %6.0f MB/session  RSS-sum %6.0f MB/session  start-to-QR median %.2f s, max %.2f s (%d/%d)",
        arguments[2], count, totalProcesses, Double(totalPSS) / 1024 / Double(count), Double(totalRSS) / 1024 / Double(count), median, worst,
        qrTimes.count, count))
for engine in engines { await engine.stop() }
reactor.stop()
await reactor.waitUntilStopped()
