import ArgumentParser
import Foundation
import Logging
import Reactor

/// `openwa serve`: runs the gateway until SIGTERM or SIGINT.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway (the default command).",
        discussion: "Serves the REST API on HOST:PORT (default 127.0.0.1:2785) with the embedded SQLite databases under DATA_DIR (default ./data).")

    @OptionGroup var options: ConfigurationOptions

    @Flag(
        name: .customLong("with-simulator"),
        help: "Also run the WhatsApp simulator in this process, with one simulated phone, and link sessions to it instead of WhatsApp (try the gateway offline).")
    var withSimulator = false

    @Option(name: .customLong("simulator-phone"), help: "The simulated phone's number.")
    var simulatorPhone = "15550000001"

    func run() throws {
        // Before any other thread exists: the reactor takes these signals from a signalfd, and a
        // thread that left them unblocked would die of them instead.
        SignalFD.blockInProcess([SignalFD.terminate, SignalFD.interrupt])
        SignalFD.ignoreBrokenPipe()
        var configuration: GatewayConfiguration
        do {
            configuration = try options.load()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        let (logLevel, logJSON) = (configuration.logLevel, configuration.logFormatJSON)
        LoggingSystem.bootstrap { label in GatewayLogHandler(label: label, level: logLevel, json: logJSON) }
        let logger = Logger(label: "openwa")
        var simulator: EmbeddedSimulator?
        if withSimulator {
            do {
                let embedded = try EmbeddedSimulator.start(phone: simulatorPhone, configuration: configuration, logger: logger)
                configuration.native = embedded.engineSettings
                simulator = embedded
            } catch {
                logger.critical("cannot start the simulator", metadata: ["error": "\(error)"])
                throw ExitCode(1)
            }
        }
        let gatewayConfiguration = configuration
        defer { simulator?.stop() }
        let status = blockingAwait {
            do {
                return try await Gateway(configuration: gatewayConfiguration, logger: logger).run()
            } catch {
                logger.critical("cannot start", metadata: ["error": "\(error)"])
                return 1
            }
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// Runs async work from synchronous `main` and waits for it. Subcommands stay synchronous so
/// that `serve` can block signals before the concurrency runtime starts its threads.
func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    return box.value!
}

private final class ResultBox<T>: @unchecked Sendable {
    // Written by the task before `done.signal()`, read by the waiter after `done.wait()`.
    var value: T?
}
