/// Limits and timings of the real-time channel (`WS_*` variables, reference sections 4.7 and 6).
package struct RealtimeSettings: Sendable {
    /// Per-key inbound frame bucket: refill rate (`WS_RATE_LIMIT_FRAME_PER_SECOND`).
    package var framesPerSecond = 60
    /// Per-key inbound frame bucket: size (`WS_RATE_LIMIT_FRAME_BURST`).
    package var frameBurst = 120
    /// Handshakes allowed per client IP within the window (`WS_RATE_LIMIT_HANDSHAKE_MAX`).
    package var handshakesPerWindow = 10
    /// `WS_RATE_LIMIT_HANDSHAKE_WINDOW_MS`.
    package var handshakeWindowMilliseconds = 60_000
    /// Open sockets one key may hold (`WS_MAX_SOCKETS_PER_KEY`).
    package var maxSocketsPerKey = 16
    /// (session, event) subscriptions one connection may hold.
    package var maxSubscriptionsPerSocket = 4_096
    /// Output that may wait for a client that does not read; past it the client is dropped, so
    /// a slow consumer costs bounded memory.
    package var maxQueuedBytesPerSocket = 4 << 20
    /// How often every connected key is checked again (revoked, expired, deleted, changed).
    package var keySweepIntervalMilliseconds = 60_000
    /// Engine.IO heartbeat: the server pings this often...
    package var pingIntervalMilliseconds = 25_000
    /// ...and drops a client whose pong has not come back within this.
    package var pingTimeoutMilliseconds = 20_000
    /// The largest packet or polling body a client may send.
    package var maxPayloadBytes = 1_000_000

    package init() {}
}
