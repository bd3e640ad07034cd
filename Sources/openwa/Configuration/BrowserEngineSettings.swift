import Engines
import Foundation
import Reactor

/// The browser engine's settings (`ENGINE_TYPE=browser`): which Chromium, its flags, and the
/// pinned WhatsApp Web HTML.
struct BrowserEngineSettings: Sendable, Equatable {
    /// `BROWSER_HEADLESS_SHELL`: run Debian's `chromium-headless-shell` (about half the memory
    /// of `chromium`; WhatsApp Web's support of the old headless mode is unverified).
    var headlessShell = false
    /// `BROWSER_EXECUTABLE`: the Chromium binary (the ELF, not Debian's wrapper script).
    var executable: String?
    /// `BROWSER_ARGS`: extra launch arguments, separated by spaces.
    var extraArguments: [String] = []
    /// `BROWSER_NO_SANDBOX`: defaults to true only when running as root (Chromium refuses root
    /// with its sandbox on).
    var noSandbox = Spawn.isRoot
    /// `BROWSER_USER_AGENT`.
    var userAgent = BrowserEngineConfiguration.desktopUserAgent
    /// `BROWSER_WA_HTML`: a saved WhatsApp Web index.html served instead of the live one (the
    /// version pin); its scripts still load from the network.
    var pinnedHTMLFile: String?
    /// `BROWSER_COMMAND_TIMEOUT_MS`, `BROWSER_LOAD_TIMEOUT_MS`.
    var commandTimeoutMilliseconds = 30_000
    var loadTimeoutMilliseconds = 60_000
    /// `BROWSER_QR_MAX_RETRIES`: QR codes per start before the session gives up (0: no cap).
    var qrMaxRetries = 0

    static func load(_ read: ConfigurationReader) throws -> BrowserEngineSettings {
        var settings = BrowserEngineSettings()
        settings.headlessShell = try read.bool("BROWSER_HEADLESS_SHELL", default: false)
        settings.executable = read.optionalString("BROWSER_EXECUTABLE")
        settings.extraArguments = (read.optionalString("BROWSER_ARGS") ?? "").split(separator: " ").map(String.init)
        settings.noSandbox = try read.bool("BROWSER_NO_SANDBOX", default: Spawn.isRoot)
        settings.userAgent = read.string("BROWSER_USER_AGENT", default: settings.userAgent)
        if let file = read.optionalString("BROWSER_WA_HTML") {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigurationError(variable: "BROWSER_WA_HTML", problem: "must be a readable HTML file (got \"\(file)\")")
            }
            settings.pinnedHTMLFile = file
        }
        settings.commandTimeoutMilliseconds = try read.integer("BROWSER_COMMAND_TIMEOUT_MS", default: 30_000, range: 100...600_000)
        settings.loadTimeoutMilliseconds = try read.integer("BROWSER_LOAD_TIMEOUT_MS", default: 60_000, range: 1_000...600_000)
        settings.qrMaxRetries = try read.integer("BROWSER_QR_MAX_RETRIES", default: 0, range: 0...10_000)
        return settings
    }

    /// The Chromium to run must exist: checked at load when `ENGINE_TYPE=browser`, so a missing
    /// browser stops the boot with one clear line instead of failing every session start.
    func validate() throws {
        let path = executable ?? (headlessShell ? BrowserEngineConfiguration.headlessShellPath : BrowserEngineConfiguration.chromiumPath)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ConfigurationError(
                variable: "BROWSER_EXECUTABLE", problem: "must name an executable Chromium (\(path) is not; install chromium)")
        }
    }

    /// The engine configuration; profiles live under `<DATA_DIR>/browser`.
    func engineConfiguration(dataDirectory: String) throws -> BrowserEngineConfiguration {
        var configuration = BrowserEngineConfiguration(
            executable: executable, headlessShell: headlessShell, profilesDirectory: URL(fileURLWithPath: "\(dataDirectory)/browser").standardizedFileURL.path,
            noSandbox: noSandbox, extraArguments: extraArguments, userAgent: userAgent,
            commandTimeoutMilliseconds: commandTimeoutMilliseconds, loadTimeoutMilliseconds: loadTimeoutMilliseconds)
        configuration.qrMaxRetries = qrMaxRetries
        if let file = pinnedHTMLFile {
            configuration.pinnedHTML = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        }
        return configuration
    }
}
