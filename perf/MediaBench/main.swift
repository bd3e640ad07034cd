import Foundation
import Logging
import Persistence
import Reactor

// S3 throughput through our storage (SigV4 over our HTTP client, multipart above 8 MiB):
// upload and download one object of SIZE MiB against OPENWA_S3_ENDPOINT, several rounds;
// prints the best MB/s of each direction. perf/media-bench.sh runs boto3 in the same run as
// the anchor.

let environment = ProcessInfo.processInfo.environment
guard let endpoint = environment["OPENWA_S3_ENDPOINT"] else {
    FileHandle.standardError.write(Data("OPENWA_S3_ENDPOINT is not set (run perf/media-bench.sh)\n".utf8))
    exit(2)
}
let megabytes = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 64
let rounds = 3
let logger = Logger(label: "media-bench", factory: { _ in SwiftLogNoOpLogHandler() })
let slot = HTTPClientSlot()
let handle = try ReactorThread.start(workers: WorkerPool(size: 2), logger: logger) { reactor in
    slot.client = SharedHTTPClient(reactor: reactor)
}
let storage = try S3MediaStorage(
    configuration: S3Configuration(endpoint: endpoint, bucket: "bench", accessKeyID: "bench", secretAccessKey: "bench"),
    http: slot.client!)
try await storage.createBucket()

let chunk = [UInt8](repeating: 0x42, count: 1 << 20)
var bestUp = 0.0
var bestDown = 0.0
for round in 0..<rounds {
    let key = "bench/object-\(round)"
    let sent = Counter()
    let upStart = DispatchTime.now().uptimeNanoseconds
    try await storage.put(key: key, contentType: "application/octet-stream") {
        sent.next(limit: megabytes) ? chunk : nil
    }
    let upSeconds = Double(DispatchTime.now().uptimeNanoseconds - upStart) / 1e9
    let downStart = DispatchTime.now().uptimeNanoseconds
    let received = try await storage.get(key: key) { _ in }
    let downSeconds = Double(DispatchTime.now().uptimeNanoseconds - downStart) / 1e9
    precondition(received == megabytes << 20, "downloaded \(received) bytes")
    bestUp = max(bestUp, Double(megabytes << 20) / 1e6 / upSeconds)
    bestDown = max(bestDown, Double(megabytes << 20) / 1e6 / downSeconds)
    try await storage.delete(key: key)
}
print(String(format: "openwa-upload %.1f", bestUp))
print(String(format: "openwa-download %.1f", bestDown))
handle.stop()
await handle.waitUntilStopped()

/// Hands the client made on the reactor thread to the main task (written before `start` returns).
final class HTTPClientSlot: @unchecked Sendable {
    var client: SharedHTTPClient?
}

import Synchronization

/// Counts chunks handed out across calls of the upload source.
final class Counter: Sendable {
    private let value = Mutex(0)
    func next(limit: Int) -> Bool {
        value.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }
}
