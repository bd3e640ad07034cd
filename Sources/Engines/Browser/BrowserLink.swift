import Foundation
import Logging
import Reactor

/// The reactor-confined state of one browser session: the Chromium process, its DevTools pipe,
/// the attached page, the bridge into WhatsApp Web, and the reconnect policy (the native
/// engine's rules: exponential backoff from the session's base delay, an optional cap, a
/// `reconnectLoop` event every 5th attempt).
final class BrowserLink {
    enum Phase { case idle, launching, loading, unpaired, authenticating, ready }

    let sessionID: String
    let config: SessionEngineConfig
    let configuration: BrowserEngineConfiguration
    let handle: ReactorHandle
    let logger: Logger
    let emit: @Sendable (EngineEvent) -> Void
    let profile: BrowserProfile
    private(set) var reactor: Reactor!

    var phase = Phase.idle
    /// Start was asked for and neither stop, logout nor a terminal failure followed.
    var wantRunning = false
    /// Bumped by every teardown: callbacks of an older browser or page are dropped.
    var generation = 0

    var process: ChildProcess?
    var connection: CDPConnection?
    var targetID: String?
    /// The flattened DevTools session of the page.
    var pageSession: String?
    /// The page's renderer crashed and has not been reloaded yet.
    var pageCrashed = false

    var loadTimer: TimerID?
    var reconnectTimer: TimerID?
    var readyResetTimer: TimerID?
    /// The grace period of a graceful stop.
    var stopTimer: TimerID?
    /// Consecutive reconnect attempts since the last 5 minutes of `ready`.
    var attempts = 0
    /// QR codes shown since this start (for `qrMaxRetries`).
    var qrShown = 0
    /// Callers of `stop` waiting for the browser to be gone.
    var stopWaiters: [() -> Void] = []
    /// Killed browsers not reaped yet. Nothing launches on the profile, and it is not released,
    /// until they are: a new Chromium would find the old one's `SingletonLock` naming a pid that
    /// still exists (a zombie) and hand the profile over to it instead of starting.
    var dyingBrowsers = 0
    private var afterReap: [() -> Void] = []
    /// Counts `stop` calls, so a start queued behind a dying browser yields to a later stop.
    private var stops = 0

    init(
        sessionID: String, config: SessionEngineConfig, configuration: BrowserEngineConfiguration, handle: ReactorHandle,
        logger: Logger, events: @escaping @Sendable (EngineEvent) -> Void
    ) {
        self.sessionID = sessionID
        self.config = config
        self.configuration = configuration
        self.handle = handle
        self.logger = logger
        self.emit = events
        self.profile = BrowserProfile(profilesDirectory: configuration.profilesDirectory, sessionID: sessionID)
    }

    func attach(_ reactor: Reactor) {
        if self.reactor == nil {
            self.reactor = reactor
            // A loop that ends with the browser still up takes it down with it.
            reactor.onShutdown { [weak self] in self?.forceDown() }
        }
    }

    // MARK: - Commands

    func start(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        guard !wantRunning else { return completion(.success(())) }
        if dyingBrowsers > 0 {
            let stops = self.stops
            return afterReap.append { [weak self] in
                guard let self else { return completion(.failure(EngineError.unavailable("the browser engine was released"))) }
                guard self.stops == stops else { return completion(.success(())) }
                self.start(completion)
            }
        }
        do {
            try profile.lock()
        } catch {
            return completion(.failure(error))
        }
        wantRunning = true
        attempts = 0
        qrShown = 0
        do {
            try launch()
        } catch {
            // The child may be up already (the pipe setup failed after the spawn).
            wantRunning = false
            teardown()
            releaseProfile()
            return completion(.failure(EngineError.unavailable("cannot launch \(configuration.executable): \(error)")))
        }
        completion(.success(()))
    }

    /// Closes the browser gracefully (`Browser.close`), kills its process group after the grace
    /// period, and releases the profile. Completes once no process of the session is left.
    func stop(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        wantRunning = false
        stops += 1
        cancel(&readyResetTimer)
        cancel(&reconnectTimer)
        guard let process, process.isRunning else {
            teardown()
            releaseProfile()
            return afterBrowsersReaped { completion(.success(())) }
        }
        stopWaiters.append { completion(.success(())) }
        guard stopWaiters.count == 1 else { return }
        connection?.send("Browser.close", timeoutMilliseconds: configuration.closeGraceMilliseconds) { _ in }
        stopTimer = reactor.schedule(afterMilliseconds: configuration.closeGraceMilliseconds) { [weak self] in
            self?.stopTimer = nil
            self?.finishStop()
        }
    }

    /// The browser exited, or the grace period ended: kill what is left and release waiters.
    func finishStop() {
        cancel(&stopTimer)
        teardown()
        releaseProfile()
        let waiters = stopWaiters
        stopWaiters = []
        afterBrowsersReaped {
            for waiter in waiters { waiter() }
        }
    }

    /// Runs `body` once every killed browser of the session is reaped (at once when none is).
    func afterBrowsersReaped(_ body: @escaping () -> Void) {
        if dyingBrowsers == 0 { body() } else { afterReap.append(body) }
    }

    /// Unlocks the profile once no browser of the session is left, unless a start came first.
    func releaseProfile() {
        afterBrowsersReaped { [weak self] in
            guard let self, !self.wantRunning else { return }
            self.profile.unlock()
        }
    }

    private func browserReaped() {
        dyingBrowsers -= 1
        guard dyingBrowsers == 0 else { return }
        let waiting = afterReap
        afterReap = []
        for body in waiting { body() }
    }

    // MARK: - Reconnect policy

    /// The browser or its page was lost. `relaunch` restarts Chromium; otherwise the page is
    /// reloaded in the running browser (a renderer crash).
    func linkLost(_ reason: String, relaunch: Bool) {
        logger.debug(
            "browser link lost",
            metadata: ["link.reason": "\(reason)", "browser.stderr": "\(process?.recentOutput.suffix(8).joined(separator: " | ") ?? "")"])
        // A stop in progress owns the teardown (the browser closing detaches the page first).
        guard wantRunning else { return }
        cancel(&readyResetTimer)
        cancel(&loadTimer)
        if relaunch { teardown() } else { phase = .loading }
        if config.maxReconnectAttempts == 0 { return giveUp(reason, failed: false) }
        attempts += 1
        if let max = config.maxReconnectAttempts, attempts > max {
            return giveUp("gave up after \(max) reconnect attempts: \(reason)", failed: true)
        }
        let exponent = min(attempts - 1, 20)
        let delay = min(config.reconnectBaseDelayMilliseconds * (1 << exponent), configuration.maxReconnectDelayMilliseconds)
        emit(.disconnected(reason: reason, willReconnect: true))
        if attempts % 5 == 0 { emit(.reconnectLoop(attempts: attempts, nextDelayMilliseconds: delay)) }
        let generation = self.generation
        reconnectTimer = reactor.schedule(afterMilliseconds: delay) { [weak self] in
            guard let self, self.wantRunning, self.generation == generation else { return }
            self.reconnectTimer = nil
            if relaunch || self.connection == nil {
                self.relaunch()
            } else {
                self.reloadPage()
            }
        }
    }

    /// Launches a new browser once the killed one is reaped (see `dyingBrowsers`).
    private func relaunch() {
        teardown()
        afterBrowsersReaped { [weak self] in
            guard let self, self.wantRunning, self.process == nil else { return }
            do {
                try self.launch()
            } catch {
                self.linkLost("cannot launch \(self.configuration.executable): \(error)", relaunch: true)
            }
        }
    }

    func giveUp(_ reason: String, failed: Bool) {
        wantRunning = false
        teardown()
        releaseProfile()
        emit(.disconnected(reason: reason, willReconnect: false))
        if failed { emit(.failed(reason: reason)) }
    }

    /// Logged in: the attempt counter resets after 5 minutes of being ready.
    func becameReady() {
        cancel(&readyResetTimer)
        readyResetTimer = reactor.schedule(afterMilliseconds: 300_000) { [weak self] in
            self?.attempts = 0
            self?.readyResetTimer = nil
        }
    }

    /// Closes the pipe, kills the process group and forgets the page. The group is SIGKILLed at
    /// once; the leader is reaped when the reactor sees it exit (`dyingBrowsers` until then).
    func teardown() {
        generation += 1
        cancel(&loadTimer)
        cancel(&reconnectTimer)
        connection?.close()
        connection = nil
        let killed = process
        process = nil
        targetID = nil
        pageSession = nil
        pageCrashed = false
        phase = .idle
        // Last: a browser already reaped reports so at once, and what waited on it may launch
        // the next one; this link's state must be clean by then.
        if let killed {
            dyingBrowsers += 1
            killed.kill { [weak self] in self?.browserReaped() }
        }
    }

    /// The reactor is ending (or the engine was dropped): no Chromium may outlive it. The profile
    /// is released at once; the killed leader is reaped by the loop, or off it at its end.
    func forceDown() {
        wantRunning = false
        cancel(&stopTimer)
        teardown()
        profile.unlock()
        let waiters = stopWaiters
        stopWaiters = []
        for waiter in waiters { waiter() }
    }

    func cancel(_ timer: inout TimerID?) {
        if let id = timer { reactor.cancel(id) }
        timer = nil
    }

    /// The process group of the running browser, for checks that nothing is left behind.
    var processGroup: Int32? { process.map { Int32($0.pid) } }
}
