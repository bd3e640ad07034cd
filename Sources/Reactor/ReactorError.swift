/// The one error type of the Reactor module.
///
/// A struct over a private code so new cases do not break callers; syscall failures carry the
/// errno and the name of the call that failed, the way NIO's `IOError` does.
package struct ReactorError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case syscall
        case addressResolution
        case stopped
        case timedOut
        case crypto
        case closed
        case protocolViolation
        case tls
        case remote
    }

    private let code: Code
    /// The errno of a failed syscall, 0 otherwise.
    package let errno: CInt
    /// What was being done when it failed, for the log line.
    package let operation: String
    /// The peer's own error code, for `remote` errors (a DevTools error reply), nil otherwise.
    package let remoteCode: Int?

    private init(_ code: Code, errno: CInt = 0, operation: String, remoteCode: Int? = nil) {
        self.code = code
        self.errno = errno
        self.operation = operation
        self.remoteCode = remoteCode
    }

    /// A syscall failed with `errno`.
    package static func syscall(_ operation: String, errno: CInt) -> ReactorError {
        ReactorError(.syscall, errno: errno, operation: operation)
    }

    /// A host name or address could not be turned into a socket address.
    package static func addressResolution(_ host: String) -> ReactorError {
        ReactorError(.addressResolution, operation: "resolve \(host)")
    }

    /// The reactor is no longer running, so the work cannot be done.
    package static let stopped = ReactorError(.stopped, operation: "reactor stopped")

    /// A deadline passed before the operation finished.
    package static func timedOut(_ operation: String) -> ReactorError {
        ReactorError(.timedOut, operation: operation)
    }

    /// OpenSSL reported a failure.
    package static func crypto(_ operation: String) -> ReactorError {
        ReactorError(.crypto, operation: operation)
    }

    /// The connection or channel was already closed.
    package static let closed = ReactorError(.closed, operation: "closed")

    /// The peer broke the protocol (a malformed response, say).
    package static func protocolViolation(_ reason: String) -> ReactorError {
        ReactorError(.protocolViolation, operation: reason)
    }

    /// TLS setup, handshake or record processing failed (OpenSSL's reasons in the text).
    package static func tls(_ reason: String) -> ReactorError {
        ReactorError(.tls, operation: reason)
    }

    /// The peer answered a request with an error of its own (a DevTools `error` reply).
    package static func remote(code: Int, message: String) -> ReactorError {
        ReactorError(.remote, operation: message, remoteCode: code)
    }

    package var isRemote: Bool { code == .remote }
    package var isClosed: Bool { code == .closed }

    package var isTLS: Bool { code == .tls }

    package var isTimeout: Bool { code == .timedOut }
    package var isStopped: Bool { code == .stopped }

    package var description: String {
        switch code {
        case .syscall: return "\(operation) failed: \(SystemErrorText.describe(errno)) (errno \(errno))"
        case .addressResolution: return "cannot \(operation)"
        case .stopped, .closed: return operation
        case .timedOut: return "\(operation) timed out"
        case .crypto: return "crypto: \(operation) failed"
        case .protocolViolation: return "protocol violation: \(operation)"
        case .tls: return "TLS: \(operation)"
        case .remote: return "remote error \(remoteCode ?? 0): \(operation)"
        }
    }
}
