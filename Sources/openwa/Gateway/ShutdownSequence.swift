import Engines
import Foundation
import Logging
import Reactor

/// OpenWA's drain on SIGTERM/SIGINT (reference section 8.2): readiness turns 503 at once, the
/// server keeps serving for `SHUTDOWN_DELAY_MS` so load balancers stop sending, then stops
/// accepting, lets in-flight requests finish (bounded by `SHUTDOWN_TIMEOUT_MS`), and the
/// loop ends so the process exits 0. A second signal exits at once with status 1.
final class ShutdownSequence {
    private unowned let reactor: Reactor
    private let server: HTTPServer
    private let readiness: ReadinessService
    private let configuration: GatewayConfiguration
    private let logger: Logger
    private var watcher: SignalWatcher?
    /// Runs on the reactor thread when the HTTP server starts closing.
    private let beforeHTTPClose: () -> Void
    /// Runs after the HTTP server closed and before the loop ends: engines are stopped here.
    private let beforeStop: @Sendable () async -> Void
    private var signalsSeen = 0

    init(
        reactor: Reactor, server: HTTPServer, readiness: ReadinessService, configuration: GatewayConfiguration,
        logger: Logger, beforeHTTPClose: @escaping () -> Void = {}, beforeStop: @escaping @Sendable () async -> Void
    ) {
        self.beforeHTTPClose = beforeHTTPClose
        self.beforeStop = beforeStop
        self.reactor = reactor
        self.server = server
        self.readiness = readiness
        self.configuration = configuration
        self.logger = logger
    }

    func watchSignals() throws {
        let watcher = try SignalWatcher(reactor: reactor, signals: [SignalFD.terminate, SignalFD.interrupt]) { [self] signal in
            self.received(signal)
        }
        self.watcher = watcher
        reactor.onShutdown { watcher.close() }
    }

    private func received(_ signal: CInt) {
        signalsSeen += 1
        guard signalsSeen == 1 else {
            logger.warning("second signal, exiting without draining", metadata: ["signal": "\(signal)"])
            exit(1)
        }
        readiness.beginDraining()
        logger.info(
            "draining",
            metadata: [
                "signal": "\(signal)", "delay_ms": "\(configuration.shutdownDelayMilliseconds)",
                "in_flight": "\(server.inFlightRequestCount)",
            ])
        reactor.schedule(afterMilliseconds: configuration.shutdownDelayMilliseconds) { [self] in
            beforeHTTPClose()
            server.shutdown(timeoutMilliseconds: configuration.shutdownTimeoutMilliseconds) { [self] in
                logger.info("http server closed")
                let handle = reactor.handle
                let beforeStop = self.beforeStop
                Task(executorPreference: handle) {
                    await beforeStop()
                    handle.stop()
                }
            }
        }
    }
}
