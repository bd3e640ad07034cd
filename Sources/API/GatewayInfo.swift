/// Facts about this build shown by `openwa version` and the health route.
package enum GatewayInfo {
    /// The gateway's version (semantic versioning).
    package static let version = "0.1.0"
}
