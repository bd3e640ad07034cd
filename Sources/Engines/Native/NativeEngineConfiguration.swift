import Reactor
import WAProtocol

/// Deployment-wide settings of the native engine (from `WA_SERVER_URL`, `WA_CA_FILE`,
/// `WA_ROOT_PUBLIC_KEY`, `BAILEYS_BROWSER_NAME`); the defaults talk to WhatsApp itself.
package struct NativeEngineConfiguration: Sendable {
    /// The chat WebSocket (`wss://` or, for tests, `ws://`).
    package var serverURL: String
    /// Trust for `wss://`: a CA file context, or nil for the system store.
    package var tls: TLSContext?
    /// The key the server's Noise certificate chain must lead to (32 bytes).
    package var rootPublicKey: [UInt8]
    /// Sent as the WebSocket `Origin` header.
    package var origin: String
    /// The name shown in the phone's "Linked devices" list (DeviceProps.os).
    package var browserName: String
    /// The companion platform id of the QR string and pairing-code stage 1 ("1" = Chrome).
    package var platformID: String
    /// `companion_platform_display` of pairing-code stage 1 ("Browser (OS)").
    package var platformDisplay: String
    /// The WA Web version announced in the ClientPayload.
    package var appVersion: (primary: UInt32, secondary: UInt32, tertiary: UInt32)
    /// TCP + TLS + upgrade deadline.
    package var connectTimeoutMilliseconds: Int
    /// How long to wait for the ServerHello and for the first node after ClientFinish.
    package var handshakeTimeoutMilliseconds: Int
    /// Client ping interval once logged in.
    package var keepAliveIntervalMilliseconds: Int
    /// A ping unanswered for this long means the link is dead.
    package var keepAliveTimeoutMilliseconds: Int
    /// Deadline of our own IQs (prekey count, pairing code, logout).
    package var requestTimeoutMilliseconds: Int
    /// How long the first QR ref is shown, and each later one (ref part 1 §5.2).
    package var firstQRMilliseconds: Int
    package var nextQRMilliseconds: Int
    /// Upper bound of the reconnect backoff.
    package var maxReconnectDelayMilliseconds: Int
    /// Media uploads, downloads and storage; nil refuses media sends and stores no media.
    package var media: NativeMediaTransfer?

    package init(
        serverURL: String = "wss://web.whatsapp.com/ws/chat", tls: TLSContext? = nil,
        rootPublicKey: [UInt8] = NoiseCertificateChain.whatsAppRootPublicKey, origin: String = "https://web.whatsapp.com",
        browserName: String = "OpenWA", platformID: String = "1", platformDisplay: String = "Chrome (Linux)",
        appVersion: (primary: UInt32, secondary: UInt32, tertiary: UInt32) = (2, 3000, 1_035_194_821),
        connectTimeoutMilliseconds: Int = 20_000, handshakeTimeoutMilliseconds: Int = 20_000,
        keepAliveIntervalMilliseconds: Int = 25_000, keepAliveTimeoutMilliseconds: Int = 20_000,
        requestTimeoutMilliseconds: Int = 60_000, firstQRMilliseconds: Int = 60_000, nextQRMilliseconds: Int = 20_000,
        maxReconnectDelayMilliseconds: Int = 300_000
    ) {
        self.serverURL = serverURL
        self.tls = tls
        self.rootPublicKey = rootPublicKey
        self.origin = origin
        self.browserName = browserName
        self.platformID = platformID
        self.platformDisplay = platformDisplay
        self.appVersion = appVersion
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
        self.keepAliveIntervalMilliseconds = keepAliveIntervalMilliseconds
        self.keepAliveTimeoutMilliseconds = keepAliveTimeoutMilliseconds
        self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        self.firstQRMilliseconds = firstQRMilliseconds
        self.nextQRMilliseconds = nextQRMilliseconds
        self.maxReconnectDelayMilliseconds = maxReconnectDelayMilliseconds
    }

    /// "2.3000.1035194821".
    var versionString: String { "\(appVersion.primary).\(appVersion.secondary).\(appVersion.tertiary)" }
}
