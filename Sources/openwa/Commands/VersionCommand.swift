import API
import ArgumentParser
import Persistence
import Reactor

/// `openwa version`: this build and the libraries it runs on.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the gateway version and its libraries' versions.")

    func run() throws {
        print("openwa \(GatewayInfo.version)")
        print("  openssl: \(Crypto.libraryVersion)")
        print("  sqlite: \(SQLiteLibrary.version)")
        print("  io_uring: \(URing.isAvailable() ? "available" : "not available on this kernel")")
    }
}
