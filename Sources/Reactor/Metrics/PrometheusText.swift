import Foundation

/// Builds the Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines,
/// then one `name{label="value"} number` line per sample.
package struct PrometheusText {
    package private(set) var output = ""

    package init() {}

    /// The content type Prometheus expects for this format.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    mutating func header(name: String, help: String, kind: String) {
        output += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind)\n"
    }

    mutating func sample(_ name: String, _ labelNames: [String], _ labelValues: [String], _ value: Double) {
        output += name
        output += Self.labelSet(labelNames, labelValues)
        output += " \(Self.format(value))\n"
    }

    mutating func histogram(_ name: String, _ labelNames: [String], _ labelValues: [String], _ histogram: Histogram) {
        let snapshot = histogram.snapshot
        let names = labelNames + ["le"]
        for (bound, count) in zip(histogram.bounds, snapshot.cumulative) {
            sample(name + "_bucket", names, labelValues + [Self.format(bound)], Double(count))
        }
        sample(name + "_bucket", names, labelValues + ["+Inf"], Double(snapshot.count))
        sample(name + "_sum", labelNames, labelValues, snapshot.sum)
        sample(name + "_count", labelNames, labelValues, Double(snapshot.count))
    }

    private static func labelSet(_ names: [String], _ values: [String]) -> String {
        guard !names.isEmpty else { return "" }
        let pairs = zip(names, values).map { "\($0)=\"\(escapeLabel($1))\"" }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    /// Integral values print without a fraction (`42`, not `42.0`), as Prometheus clients do.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// Label values escape backslash, double quote and line feed; nothing else.
    private static func escapeLabel(_ text: String) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return text }
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Help text escapes backslash and line feed.
    private static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}

