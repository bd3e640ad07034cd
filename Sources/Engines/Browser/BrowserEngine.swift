import Foundation
import Logging
import Reactor

/// Makes `BrowserEngine`s: one headless Chromium per session, driven over the DevTools pipe,
/// running WhatsApp Web (`ENGINE_TYPE=browser`, alias `whatsapp-web.js`).
package struct BrowserEngineFactory: WhatsAppEngineFactory {
    package let configuration: BrowserEngineConfiguration
    private let reactor: ReactorHandle
    private let logger: Logger

    package init(configuration: BrowserEngineConfiguration, reactor: ReactorHandle, logger: Logger) {
        self.configuration = configuration
        self.reactor = reactor
        self.logger = logger
    }

    package var engineType: EngineType { .browser }

    package func makeEngine(
        sessionID: String, config: SessionEngineConfig, events: @escaping @Sendable (EngineEvent) -> Void
    ) -> any WhatsAppEngine {
        BrowserEngine(
            sessionID: sessionID, config: config, configuration: configuration, reactor: reactor, logger: logger, events: events)
    }
}

/// One session's browser. Callable from any task; the link (`BrowserLink`) lives on the reactor
/// thread and every method hops there.
package final class BrowserEngine: WhatsAppEngine {
    private let link: ReactorBound<BrowserLink>
    let reactor: ReactorHandle

    package init(
        sessionID: String, config: SessionEngineConfig, configuration: BrowserEngineConfiguration, reactor: ReactorHandle,
        logger: Logger, events: @escaping @Sendable (EngineEvent) -> Void
    ) {
        self.reactor = reactor
        var logger = logger
        logger[metadataKey: "link.session"] = "\(sessionID)"
        link = ReactorBound(
            handle: reactor,
            BrowserLink(sessionID: sessionID, config: config, configuration: configuration, handle: reactor, logger: logger, events: events))
    }

    deinit {
        // An engine dropped without `stop` (a failed test, a crashed task) must not leave its
        // browser running; the link is released on the reactor thread, where it lives.
        reactor.post { [link] _ in link.value.forceDown() }
    }

    package func start() async throws {
        try await onReactor { link, done in link.start(done) }
    }

    package func stop() async {
        try? await onReactor { link, done in link.stop(done) }
    }

    /// Logs out in WhatsApp Web (the phone's linked-devices list drops us), closes the browser
    /// and deletes the profile: the next start shows a QR.
    package func logout() async throws {
        _ = try? await evaluate("(async () => { const s = window.require('WAWebSocketModel').Socket; if (s.logout) await s.logout(); return true; })()")
        await stop()
        let directory = try await onReactorValue { link, done in done(.success(link.profile.directory)) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    package func requestPairingCode(phoneNumber: String) async throws -> String {
        throw EngineError.notSupported("Pairing by code is not supported by the browser engine yet")
    }

    package func sendText(chatID: String, text: String) async throws -> SentMessage {
        try await send(OutgoingMessage(chatID: chatID, content: .text(text)))
    }

    /// The browser is the link. Its DevTools pipe is quiet while WhatsApp Web idles, so there is
    /// no silence measure: the watchdog only recycles a browser session that never gets ready.
    package func health() async -> EngineHealth {
        let running = (try? await onReactorValue { link, done in done(.success(link.process != nil && link.connection != nil)) }) ?? false
        return EngineHealth(linkUp: running, silentMilliseconds: nil)
    }

    /// Evaluates a page expression (awaited, returned by value). For tests and diagnostics.
    package func evaluate(_ expression: String, timeoutMilliseconds: Int? = nil) async throws -> JSONValue {
        try await onReactorValue { link, done in
            link.evaluate(expression, timeoutMilliseconds: timeoutMilliseconds) { done($0.mapError { $0 }) }
        }
    }

    /// Sends a raw DevTools command to the page's session (tests: `Page.crash`).
    package func pageCommand(_ method: String, _ params: JSONValue = [:], timeoutMilliseconds: Int = 5_000) async throws -> JSONValue {
        try await onReactorValue { link, done in
            guard let connection = link.connection, let session = link.pageSession else {
                return done(.failure(EngineError.unavailable("The browser page is not available")))
            }
            connection.send(method, params, session: session, timeoutMilliseconds: timeoutMilliseconds) { done($0.mapError { $0 }) }
        }
    }

    /// The running browser's process group (its leader's pid), nil when none runs.
    package func processGroup() async -> Int32? {
        try? await onReactorValue { link, done in done(.success(link.processGroup)) }
    }

    func onReactor(_ body: @escaping @Sendable (BrowserLink, @escaping @Sendable (Result<Void, any Error>) -> Void) -> Void) async throws {
        try await onReactorValue { link, done in body(link, done) }
    }

    func onReactorValue<T: Sendable>(
        _ body: @escaping @Sendable (BrowserLink, @escaping @Sendable (Result<T, any Error>) -> Void) -> Void
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let posted = reactor.post { [link] reactor in
                link.value.attach(reactor)
                body(link.value) { continuation.resume(with: $0) }
            }
            if !posted { continuation.resume(throwing: EngineError.unavailable("the reactor has stopped")) }
        }
    }
}
