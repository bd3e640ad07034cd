import Foundation
import Logging
import Synchronization

/// One line per event on stderr: `pretty` for people, `json` for log shippers. Metadata keys
/// that look secret are redacted, so an API key never reaches the log.
struct GatewayLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String
    let json: Bool

    private static let output = Mutex<Void>(())
    private static let secretWords = ["key", "secret", "password", "token", "authorization", "pepper"]

    init(label: String, level: Logger.Level, json: Bool) {
        self.label = label
        self.logLevel = level
        self.json = json
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
        let line: String
        if json {
            var fields: [String: String] = [
                "time": timestamp, "level": event.level.rawValue, "msg": "\(event.message)", "logger": label,
            ]
            for (key, value) in merged { fields[key] = Self.redacted(key, "\(value)") }
            let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.redacted($0.key, "\($0.value)"))" }
            line = ([timestamp, event.level.rawValue.uppercased(), "[\(label)]", "\(event.message)"] + details)
                .joined(separator: " ")
        }
        let bytes = Data((line + "\n").utf8)
        Self.output.withLock { _ in FileHandle.standardError.write(bytes) }
    }

    private static func redacted(_ key: String, _ value: String) -> String {
        let lower = key.lowercased()
        return secretWords.contains(where: lower.contains) ? "[redacted]" : value
    }
}
