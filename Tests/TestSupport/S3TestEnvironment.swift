import Foundation

/// The S3-compatible server of `scripts/services.sh` (moto_server, in memory).
package enum S3TestEnvironment {
    /// `OPENWA_S3_ENDPOINT`, or nil when the services are not running.
    package static let endpoint: String? = ProcessInfo.processInfo.environment["OPENWA_S3_ENDPOINT"]

    package static var isAvailable: Bool { endpoint != nil }

    package static let missingMessage = """
        *** S3 tests SKIPPED: OPENWA_S3_ENDPOINT is not set. \
        Run `make test` (or `eval "$(scripts/services.sh start)"` before `swift test`) to include them. ***
        """

    /// Stops the server; returns once it is gone.
    package static func stopServer() async throws { try await ServiceScript.wait("s3-stop") }

    /// Starts it again on its port (empty: moto keeps nothing).
    package static func startServer() async throws { try await ServiceScript.wait("s3-start") }
}
