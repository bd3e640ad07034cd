/// A session's state as OpenWA reports it (reference section 3).
package enum SessionStatus: String, Sendable, CaseIterable {
    /// Created, never started (or stopped).
    case created
    /// The engine is connecting.
    case initializing
    /// A QR code (or pairing code) waits to be scanned.
    case qrReady = "qr_ready"
    /// The phone linked; the companion is logging in.
    case authenticating
    case ready
    /// The link dropped; it reconnects unless stopped.
    case disconnected
    /// The engine is alive but needs an operator; sends are refused.
    case actionRequired = "action_required"
    /// Terminal for this start (see `lastError`).
    case failed

    /// States in which an engine is expected to be running.
    package var isActive: Bool {
        switch self {
        case .initializing, .qrReady, .authenticating, .ready, .disconnected: return true
        case .created, .actionRequired, .failed: return false
        }
    }
}
