import Foundation
import Logging
import Reactor
import Synchronization
import WAProtocol

/// Media uploads and downloads of every native session (protocol reference part 2, section 5),
/// over the project's HTTP client with the same TLS trust as the chat socket. Encryption,
/// hashing and decryption run on the worker pool, never on the reactor thread. Each session's
/// `media_conn` answer is kept until its ttl runs out or an upload fails.
///
/// Memory: a download never holds the file. The blob is spooled to a temporary file as it arrives
/// (the HTTP client stops reading the socket while the disk is behind, and enforces the
/// `MEDIA_DOWNLOAD_MAX_BYTES` cap mid-stream), checked and decrypted file to file in chunks on a
/// worker (`MediaFileCrypto`), and the plaintext file goes to storage in chunks (or as S3
/// streaming bodies). A send whose media is a spool file (fetched by URL) is encrypted file to
/// file and uploaded as a streaming body read from the encrypted file. Both cost a few hundred
/// KiB whatever the size. Media already in memory (base64 or multipart, in the request body) stays
/// there; above 256 KiB it is encrypted from memory into a spool file and uploaded from that, so
/// no blob or serialized request sits beside it (smaller media is encrypted and sent from
/// memory). Spool files (`MediaSpoolFile`) are removed when their last reference goes, on every
/// path.
package final class NativeMediaTransfer: Sendable {
    /// One `media_conn` answer (section 5.3).
    struct MediaConn: Sendable {
        var auth: String
        var hosts: [String]
        var expires: Date
    }

    /// Where inbound media is stored; nil stores none (sends still work).
    package let archive: MediaArchive?
    let handle: ReactorHandle
    private let tls: TLSContext?
    private let maxBlobBytes: Int
    let timeoutMilliseconds: Int
    private let made = Mutex<(client: SharedHTTPClient, workers: WorkerPool)?>(nil)
    private let connections = Mutex<[String: MediaConn]>([:])
    let logger: Logger

    /// - Parameters:
    ///   - tls: trust for the media hosts (the chat socket's, so a simulator's CA covers both).
    ///   - archive: the media storage and the download settings.
    package init(handle: ReactorHandle, tls: TLSContext?, archive: MediaArchive?, logger: Logger) {
        self.handle = handle
        self.tls = tls
        self.archive = archive
        let maxBytes = archive?.settings.maxBytes ?? 52_428_800
        // A blob is the plaintext padded to the next 16 bytes plus the 10-byte MAC.
        self.maxBlobBytes = maxBytes + 32
        self.timeoutMilliseconds = archive?.settings.timeoutMilliseconds ?? 30_000
        self.logger = logger
    }

    /// The HTTP client and worker pool, made on the reactor thread on first use.
    func tools() async throws -> (client: SharedHTTPClient, workers: WorkerPool) {
        if let made = made.withLock({ $0 }) { return made }
        var configuration = HTTPClient.Configuration()
        configuration.tls = tls
        configuration.maxResponseBytes = maxBlobBytes
        configuration.requestTimeoutMilliseconds = max(timeoutMilliseconds, 60_000)
        configuration.connectTimeoutMilliseconds = 10_000
        configuration.maxConnectionsPerOrigin = 4
        let settings = configuration
        let fresh = try await handle.submit { reactor in (SharedHTTPClient(reactor: reactor, configuration: settings), reactor.workers) }
        return made.withLock { current in
            if let current {
                fresh.0.close()
                return current
            }
            current = (fresh.0, fresh.1)
            return (fresh.0, fresh.1)
        }
    }

    /// The session's cached `media_conn`, or a fresh one asked for over `link`.
    func mediaConn(sessionID: String, link: LinkRef) async throws -> MediaConn {
        if let cached = connections.withLock({ $0[sessionID] }), cached.expires > Date() { return cached }
        let reply = try await link.request(
            BinaryNode("iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "w:m"], children: [BinaryNode("media_conn")]))
        guard let node = reply.child("media_conn"), let auth = node.attributes.string("auth") else {
            throw EngineError.unavailable("WhatsApp gave no media connection")
        }
        let hosts = node.children("host").compactMap { $0.attributes.string("hostname") }
        guard !hosts.isEmpty else { throw EngineError.unavailable("WhatsApp gave no media host") }
        let ttl = node.attributes.string("ttl").flatMap(Int.init) ?? 300
        let conn = MediaConn(auth: auth, hosts: hosts, expires: Date().addingTimeInterval(TimeInterval(max(0, ttl))))
        connections.withLock { $0[sessionID] = conn }
        return conn
    }

    /// Forgets a session's `media_conn` (after a failed upload, or when the session goes).
    func forgetMediaConn(sessionID: String) {
        connections.withLock { $0[sessionID] = nil }
    }

    /// `https://host[:port]` split for the client; the simulator's hosts carry a port.
    static func origin(_ hostname: String) -> (host: String, port: Int) {
        if let colon = hostname.lastIndex(of: ":"), let port = Int(hostname[hostname.index(after: colon)...]) {
            return (String(hostname[..<colon]), port)
        }
        return (hostname, 443)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
