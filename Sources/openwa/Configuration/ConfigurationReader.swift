import Foundation

/// Typed reads of configuration variables; each failure names the variable and what is allowed.
struct ConfigurationReader {
    let source: EnvironmentSource

    func string(_ name: String, default fallback: String) -> String {
        source[name] ?? fallback
    }

    func optionalString(_ name: String) -> String? {
        source[name]
    }

    /// Exactly `true` or `false`, as OpenWA's validation insists.
    func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let value = source[name] else { return fallback }
        switch value {
        case "true": return true
        case "false": return false
        default: throw ConfigurationError(variable: name, problem: "must be exactly true or false (got \"\(value)\")")
        }
    }

    /// A decimal integer within `range`.
    func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let value = source[name] else { return fallback }
        guard value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(value), range.contains(number) else {
            throw ConfigurationError(
                variable: name, problem: "must be a decimal integer from \(range.lowerBound) to \(range.upperBound) (got \"\(value)\")")
        }
        return number
    }

    /// One of `allowed` (compared case-sensitively, as OpenWA's enums are).
    func choice(_ name: String, default fallback: String, allowed: [String]) throws -> String {
        guard let value = source[name] else { return fallback }
        guard allowed.contains(value) else {
            throw ConfigurationError(variable: name, problem: "must be one of \(allowed.joined(separator: ", ")) (got \"\(value)\")")
        }
        return value
    }

    /// A size such as `25mb`, `512kb`, `1gb` or plain bytes (the `bytes` package's units).
    func byteSize(_ name: String, default fallback: Int) throws -> Int {
        guard let value = source[name] else { return fallback }
        guard let bytes = ByteSize.parse(value), bytes > 0 else {
            throw ConfigurationError(variable: name, problem: "must be a positive size such as 25mb, 512kb or 1048576 (got \"\(value)\")")
        }
        return bytes
    }
}

enum ByteSize {
    static func parse(_ text: String) -> Int? {
        let lower = text.lowercased().replacingOccurrences(of: " ", with: "")
        let units: [(String, Double)] = [("gb", 1_073_741_824), ("mb", 1_048_576), ("kb", 1_024), ("b", 1)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            guard let number = Double(lower.dropLast(suffix.count)), number >= 0, number.isFinite else { return nil }
            return Int(number * factor)
        }
        guard lower.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(lower)
    }
}
