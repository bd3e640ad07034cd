/// The one error type of the WhatsApp protocol code: what was wrong with the bytes or the peer, in terms a
/// connection owner can act on (close the socket, send a pairing error, resync app state).
package struct ProtocolError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for callers that react differently (close, reply, resync).
    package enum Kind: Sendable, Equatable {
        /// Bytes that do not parse: truncated protobuf, wrong field type, wrong key length.
        case malformed
        /// A step taken out of order, e.g. a second ClientHello or a transport counter run out.
        case unexpected
        /// A MAC, AEAD tag, HMAC or signature did not verify: the peer is not who it claims, or the data
        /// was altered.
        case authentication
        /// The server's certificate chain was rejected (signature, serial, validity or key binding).
        case certificate
        /// A crypto primitive failed for a reason other than authentication (allocation, bad parameters).
        case crypto
    }

    /// The failure class.
    package let kind: Kind
    /// Human-readable detail; for pairing failures it is the error text the reply carries.
    package let message: String

    /// An error of `kind` with `message`.
    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Bytes that do not parse.
    package static func malformed(_ message: String) -> ProtocolError { ProtocolError(.malformed, message) }
    /// A step out of order.
    package static func unexpected(_ message: String) -> ProtocolError { ProtocolError(.unexpected, message) }
    /// A MAC, tag, HMAC or signature that did not verify.
    package static func authentication(_ message: String) -> ProtocolError { ProtocolError(.authentication, message) }
    /// A rejected server certificate chain.
    package static func certificate(_ message: String) -> ProtocolError { ProtocolError(.certificate, message) }
    /// A crypto primitive failure other than authentication.
    package static func crypto(_ message: String) -> ProtocolError { ProtocolError(.crypto, message) }

    /// Kind and message, for logs.
    package var description: String { "\(kind): \(message)" }
}
