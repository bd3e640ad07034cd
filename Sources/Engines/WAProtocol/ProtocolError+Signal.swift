/// What went wrong in the Signal layer, finer than `ProtocolError.Kind`, so a receiver can choose its
/// reaction: drop a duplicate, send a retry receipt for a missing session or sender key, nack garbage.
package enum SignalFailure: String, Sendable, Equatable, CaseIterable {
    /// Bytes that do not parse as the expected Signal message or record.
    case malformedMessage = "malformed-message"
    /// A version byte whose high nibble is not 3.
    case invalidVersion = "invalid-version"
    /// A public key without the 0x05 type byte, or of the wrong length.
    case invalidKey = "invalid-key"
    /// The 8-byte message MAC does not match.
    case invalidMAC = "invalid-mac"
    /// An XEdDSA signature (signed prekey, sender-key message) does not verify.
    case invalidSignature = "invalid-signature"
    /// A counter or iteration that was already used: a replay or duplicate delivery.
    case duplicateMessage = "duplicate-message"
    /// A counter or iteration further ahead than the skipped-key bound allows.
    case tooFarInFuture = "too-far-in-future"
    /// No session (or no usable state) for the address.
    case noSession = "no-session"
    /// No sender-key state with the message's key id.
    case noSenderKey = "no-sender-key"
    /// The identity store refused the peer's identity key.
    case untrustedIdentity = "untrusted-identity"
    /// A prekey message names a signed or one-time prekey we do not have.
    case missingPreKey = "missing-prekey"
    /// A primitive failed (bad ciphertext length or padding, small-order point).
    case cryptoFailure = "crypto-failure"

    /// The coarse kind callers outside the Signal layer switch on.
    var kind: ProtocolError.Kind {
        switch self {
        case .malformedMessage, .invalidVersion, .invalidKey: return .malformed
        case .invalidMAC, .invalidSignature, .untrustedIdentity: return .authentication
        case .duplicateMessage, .tooFarInFuture, .noSession, .noSenderKey, .missingPreKey: return .unexpected
        case .cryptoFailure: return .crypto
        }
    }

    /// Every Signal error message starts with this, which is how `ProtocolError.signalFailure` finds it.
    var messagePrefix: String { "signal \(rawValue): " }
}

extension ProtocolError {
    /// The Signal failure behind this error, nil for errors from other layers.
    ///
    /// Read back from the message prefix the factories below write, so the shared `ProtocolError` needs no
    /// Signal-specific storage; only these factories create messages with that prefix.
    package var signalFailure: SignalFailure? {
        SignalFailure.allCases.first { message.hasPrefix($0.messagePrefix) }
    }

    private static func signal(_ failure: SignalFailure, _ detail: String) -> ProtocolError {
        ProtocolError(failure.kind, failure.messagePrefix + detail)
    }

    /// Bytes that do not parse as the expected Signal message or record.
    package static func signalMalformed(_ detail: String) -> ProtocolError { signal(.malformedMessage, detail) }

    /// A Signal message with a version byte other than 0x3_.
    package static func signalInvalidVersion(_ versionByte: UInt8) -> ProtocolError {
        signal(.invalidVersion, "version byte 0x\(String(versionByte, radix: 16))")
    }

    /// A public key that is not `0x05 ‖ 32 bytes` (or a raw key that is not 32 bytes).
    package static func signalInvalidKey(_ detail: String) -> ProtocolError { signal(.invalidKey, detail) }

    /// The MAC of a `msg` does not verify.
    package static var signalInvalidMAC: ProtocolError { signal(.invalidMAC, "message MAC mismatch") }

    /// An XEdDSA signature does not verify over the named content.
    package static func signalInvalidSignature(_ what: String) -> ProtocolError {
        signal(.invalidSignature, "bad signature on \(what)")
    }

    /// A counter or iteration that was already consumed.
    package static func signalDuplicate(counter: UInt32) -> ProtocolError {
        signal(.duplicateMessage, "counter \(counter) already used")
    }

    /// A counter or iteration beyond the skipped-key bound.
    package static func signalTooFarInFuture(counter: UInt32, current: UInt32) -> ProtocolError {
        signal(.tooFarInFuture, "counter \(counter) is too far ahead of \(current)")
    }

    /// No session state that can handle the message.
    package static func signalNoSession(_ detail: String) -> ProtocolError { signal(.noSession, detail) }

    /// No sender-key state with this key id.
    package static func signalNoSenderKey(keyID: UInt32) -> ProtocolError {
        signal(.noSenderKey, "no sender key with id \(keyID)")
    }

    /// The identity store refused the peer's identity key.
    package static func signalUntrustedIdentity(_ address: String) -> ProtocolError {
        signal(.untrustedIdentity, "identity of \(address) is not trusted")
    }

    /// A prekey message references a prekey we do not hold.
    package static func signalMissingPreKey(_ detail: String) -> ProtocolError { signal(.missingPreKey, detail) }

    /// A crypto primitive failed; `detail` names the operation.
    package static func signalCrypto(_ detail: String) -> ProtocolError { signal(.cryptoFailure, detail) }
}
