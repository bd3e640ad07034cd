import Foundation

/// Where configuration values come from, in OpenWA's precedence: the process environment wins
/// over the project's `.env` file. Blank values count as unset.
struct EnvironmentSource: Sendable {
    private let values: [String: String]

    init(values: [String: String]) {
        self.values = values
    }

    /// The process environment layered over the `.env` file at `envFilePath` (if it exists).
    static func load(processEnvironment: [String: String], envFilePath: String?) throws -> EnvironmentSource {
        var merged: [String: String] = [:]
        if let envFilePath, FileManager.default.fileExists(atPath: envFilePath) {
            let text = try String(contentsOfFile: envFilePath, encoding: .utf8)
            merged = try EnvFile.parse(text, path: envFilePath)
        }
        for (key, value) in processEnvironment { merged[key] = value }
        return EnvironmentSource(values: merged)
    }

    subscript(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }
}

/// A `.env` file: `KEY=value` lines, `#` comments, optional `export `, single or double quotes
/// (double quotes understand `\n`), and inline comments after unquoted values.
enum EnvFile {
    static func parse(_ text: String, path: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(variable: "\(path):\(number + 1)", problem: "expected KEY=value")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
                throw ConfigurationError(variable: "\(path):\(number + 1)", problem: "invalid variable name")
            }
            values[key] = unquote(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
        }
        return values
    }

    private static func unquote(_ value: String) -> String {
        if value.count >= 2, value.hasPrefix("\""), let end = value.dropFirst().firstIndex(of: "\"") {
            return String(value[value.index(after: value.startIndex)..<end]).replacingOccurrences(of: "\\n", with: "\n")
        }
        if value.count >= 2, value.hasPrefix("'"), let end = value.dropFirst().firstIndex(of: "'") {
            return String(value[value.index(after: value.startIndex)..<end])
        }
        if let hash = value.range(of: " #") { return value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces) }
        return value
    }
}

/// A configuration value that cannot be used: the one line the operator sees before exit.
struct ConfigurationError: Error, CustomStringConvertible {
    let variable: String
    let problem: String

    var description: String { "Invalid configuration: \(variable) \(problem)" }
}
