import Reactor

/// WhatsApp's Noise_XX_25519_AESGCM_SHA256 handshake (ref part 1 §2.3):
///
///     -> e                      ClientHello
///     <- e, ee, s, es           ServerHello  (payload = certificate chain)
///     -> s, se                  ClientFinish (payload = ClientPayload)
///
/// Both roles are value-type state machines over message bytes (`Initiator` for the client, `Responder` for
/// the simulated server); the owner does the socket I/O and framing. Ephemeral keys are inputs so tests can
/// replay the reference transcript; in production pass `Crypto.x25519KeyPair()` per connection.
package enum NoiseHandshake {
    /// The 28-byte protocol name padded with four zero bytes to 32, so it is used as `h` directly.
    package static let protocolName: [UInt8] = Array("Noise_XX_25519_AESGCM_SHA256".utf8) + [0, 0, 0, 0]

    /// The prologue: the 4-byte WA intro header `57 41 06 03` ("WA", magic 6, dictionary version 3). Only
    /// this is authenticated, even when an "ED" edge-routing pre-intro precedes it on the wire.
    package static let prologue: [UInt8] = [0x57, 0x41, 0x06, 0x03]

    /// What the client learned from the ServerHello.
    package struct ServerIdentity: Sendable, Equatable {
        /// The server's static Noise key, as decrypted and bound to the certificate leaf.
        package let staticKey: [UInt8]
        /// The verified leaf certificate.
        package let leaf: NoiseCertificateChain.Details
        /// The verified intermediate certificate.
        package let intermediate: NoiseCertificateChain.Details
    }

    /// What the server learned from the ClientFinish.
    package struct ClientIdentity: Sendable, Equatable {
        /// The client's static Noise key (its long-lived "noise key").
        package let staticKey: [UInt8]
        /// The decrypted ClientPayload protobuf bytes.
        package let payload: [UInt8]
    }

    /// X25519 restated as a protocol error: the only expected failure is a low-order peer key.
    static func dh(_ privateKey: [UInt8], _ publicKey: [UInt8]) throws(ProtocolError) -> [UInt8] {
        try ProtocolError.fromCrypto("x25519", as: .malformed) { () throws(ReactorError) in
            try Crypto.x25519(privateKey: privateKey, publicKey: publicKey)
        }
    }

    static func requireKey(_ key: [UInt8]?, _ what: String) throws(ProtocolError) -> [UInt8] {
        guard let key, key.count == 32 else { throw ProtocolError.malformed("\(what) is missing or not 32 bytes") }
        return key
    }
}
