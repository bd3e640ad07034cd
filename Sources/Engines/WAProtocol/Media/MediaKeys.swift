import Reactor

/// The keys one 32-byte `mediaKey` expands to: `HKDF(mediaKey, info(kind), 112, no salt)` split into
/// iv (0..<16), cipherKey (16..<48), macKey (48..<80) and refKey (80..<112) (ref part 2 §5.1).
package struct MediaKeys: Sendable, Equatable {
    /// Size of a media key.
    package static let mediaKeySize = 32
    /// Bytes of HMAC-SHA256 kept as the blob's MAC.
    package static let macSize = 10

    /// AES-CBC IV, expanded bytes 0..<16.
    package let iv: [UInt8]
    /// AES-256-CBC key, expanded bytes 16..<48.
    package let cipherKey: [UInt8]
    /// HMAC-SHA256 key, expanded bytes 48..<80.
    package let macKey: [UInt8]
    /// Unused by the clients; kept for completeness and tests.
    package let refKey: [UInt8]

    /// Expands `mediaKey` (32 bytes) with the info string of `kind`.
    package init(mediaKey: [UInt8], kind: MediaKind) throws(ProtocolError) {
        guard mediaKey.count == Self.mediaKeySize else { throw ProtocolError.malformed("media key must be 32 bytes") }
        let expanded = Crypto.hkdfSHA256(ikm: mediaKey, info: Array(kind.hkdfInfo.utf8), count: 112)
        iv = Array(expanded[0..<16])
        cipherKey = Array(expanded[16..<48])
        macKey = Array(expanded[48..<80])
        refKey = Array(expanded[80..<112])
    }

    /// The key that encrypts a media-retry notification for this media key:
    /// `HKDF(mediaKey, "WhatsApp Media Retry Notification", 32)`.
    package static func retryNotificationKey(mediaKey: [UInt8]) throws(ProtocolError) -> [UInt8] {
        guard mediaKey.count == mediaKeySize else { throw ProtocolError.malformed("media key must be 32 bytes") }
        return Crypto.hkdfSHA256(ikm: mediaKey, info: Array("WhatsApp Media Retry Notification".utf8), count: 32)
    }

    /// A fresh random media key.
    package static func generateMediaKey() throws(ProtocolError) -> [UInt8] {
        do { return try Crypto.randomBytes(mediaKeySize) } catch {
            throw ProtocolError.crypto("random media key: \(error)")
        }
    }
}

/// The hashes and length a media message carries, as computed while encrypting or decrypting.
package struct MediaDigests: Sendable, Equatable {
    /// SHA-256 of the plaintext (`fileSHA256`).
    package let fileSHA256: [UInt8]
    /// SHA-256 of the uploaded blob, ciphertext ‖ mac (`fileEncSHA256`).
    package let fileEncSHA256: [UInt8]
    /// Plaintext length in bytes (`fileLength`).
    package let fileLength: UInt64
}
