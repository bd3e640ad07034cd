import Reactor

/// Deployment-wide settings of the browser engine (`BROWSER_*` variables): which Chromium build
/// to run and how, where profiles live, the pinned WhatsApp Web HTML, and the deadlines.
package struct BrowserEngineConfiguration: Sendable {
    /// Debian's real binaries; `/usr/bin/chromium` is a shell wrapper that adds its own flags,
    /// and `/usr/bin/chromium-headless-shell` runs the binary without `exec` (the pid we would
    /// watch and signal would be a shell).
    package static let chromiumPath = "/usr/lib/chromium/chromium"
    package static let headlessShellPath = "/usr/lib/chromium/chromium-headless-shell"
    /// A current desktop Chrome user agent: the default one says `HeadlessChrome`.
    package static let desktopUserAgent =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

    /// The executable to spawn (the ELF, not a wrapper script).
    package var executable: String
    /// The executable is `chromium-headless-shell` (old headless mode: no `--headless=new`).
    package var headlessShell: Bool
    /// One profile directory per session lives here (`session-<id>`).
    package var profilesDirectory: String
    /// `--no-sandbox`: required when running as root, otherwise best left off.
    package var noSandbox: Bool
    /// Appended to the launch arguments (`BROWSER_ARGS`).
    package var extraArguments: [String]
    package var userAgent: String
    /// The page to drive.
    package var url: String
    /// When set, the document request for `url` is answered with these bytes through `Fetch`
    /// interception instead of the network: the WhatsApp Web version is pinned.
    package var pinnedHTML: [UInt8]?
    /// Fail every other request (offline tests: nothing may reach the network).
    package var blockOtherRequests: Bool
    /// Deadline of one DevTools command.
    package var commandTimeoutMilliseconds: Int
    /// QR codes shown per start before giving up (`BROWSER_QR_MAX_RETRIES`, whatsapp-web.js's
    /// `qrMaxRetries`); 0 shows them for as long as the session runs.
    package var qrMaxRetries: Int
    /// Deadline of a send with media: WhatsApp Web prepares and uploads the file first.
    package var mediaSendTimeoutMilliseconds: Int
    /// From spawn until WhatsApp Web's module system is up.
    package var loadTimeoutMilliseconds: Int
    /// How long `stop` waits for `Browser.close` before killing the process group.
    package var closeGraceMilliseconds: Int
    /// Upper bound of the reconnect backoff.
    package var maxReconnectDelayMilliseconds: Int
    /// Largest DevTools message accepted from the browser.
    package var maxMessageBytes: Int

    package init(
        executable: String? = nil, headlessShell: Bool = false, profilesDirectory: String, noSandbox: Bool = Spawn.isRoot,
        extraArguments: [String] = [], userAgent: String = BrowserEngineConfiguration.desktopUserAgent,
        url: String = "https://web.whatsapp.com/", pinnedHTML: [UInt8]? = nil, blockOtherRequests: Bool = false,
        commandTimeoutMilliseconds: Int = 30_000, loadTimeoutMilliseconds: Int = 60_000, closeGraceMilliseconds: Int = 2_000,
        maxReconnectDelayMilliseconds: Int = 300_000, maxMessageBytes: Int = 256 << 20, mediaSendTimeoutMilliseconds: Int = 120_000,
        qrMaxRetries: Int = 0
    ) {
        self.qrMaxRetries = qrMaxRetries
        self.mediaSendTimeoutMilliseconds = mediaSendTimeoutMilliseconds
        self.executable = executable ?? (headlessShell ? Self.headlessShellPath : Self.chromiumPath)
        self.headlessShell = headlessShell
        self.profilesDirectory = profilesDirectory
        self.noSandbox = noSandbox
        self.extraArguments = extraArguments
        self.userAgent = userAgent
        self.url = url
        self.pinnedHTML = pinnedHTML
        self.blockOtherRequests = blockOtherRequests
        self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        self.loadTimeoutMilliseconds = loadTimeoutMilliseconds
        self.closeGraceMilliseconds = closeGraceMilliseconds
        self.maxReconnectDelayMilliseconds = maxReconnectDelayMilliseconds
        self.maxMessageBytes = maxMessageBytes
    }

    /// Features switched off in one merged list: a second `--disable-features` flag silently
    /// replaces the first (measured: the omnibox WebUI popups came back with an extra renderer).
    static let disabledFeatures = [
        "Translate", "AcceptCHFrame", "MediaRouter", "OptimizationHints", "WebUIReloadButton", "WebUIOmniboxPopup",
        "WebUIOmniboxAimPopup", "ProcessPerSiteUpToMainFrameThreshold", "IsolateSandboxedIframes",
        "SpareRendererForSitePerProcess",
    ]

    /// The launch arguments for one session's profile (argv[0] excluded).
    package func arguments(profileDirectory: String) -> [String] {
        var arguments = headlessShell ? [] : ["--headless=new"]
        arguments += [
            "--remote-debugging-pipe", "--user-data-dir=\(profileDirectory)",
            "--no-first-run", "--no-default-browser-check", "--password-store=basic", "--use-mock-keychain",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
            "--disable-extensions", "--disable-component-extensions-with-background-pages",
            "--disable-client-side-phishing-detection", "--metrics-recording-only",
            // WhatsApp Web's timers must never be throttled in a hidden page.
            "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
            "--disable-renderer-backgrounding", "--disable-ipc-flooding-protection",
            "--disable-breakpad", "--disable-crash-reporter", "--disable-hang-monitor", "--disable-popup-blocking",
            "--disable-prompt-on-repost", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
            "--disable-features=\(Self.disabledFeatures.joined(separator: ","))",
            "--renderer-process-limit=1", "--in-process-gpu",
            "--disable-blink-features=AutomationControlled", "--user-agent=\(userAgent)",
        ]
        if noSandbox { arguments.append("--no-sandbox") }
        arguments += extraArguments
        arguments.append("about:blank")
        return arguments
    }
}
