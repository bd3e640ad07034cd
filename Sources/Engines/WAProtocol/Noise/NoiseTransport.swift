import Reactor

/// The transport phase after the handshake (ref part 1 §2.6): one AES-256-GCM key and counter per direction,
/// empty AAD, IV = eight zero bytes ‖ counter (big-endian 32-bit).
///
/// The reference and both client libraries use a 32-bit counter in the last four IV bytes. Rather than wrap
/// (which would reuse a nonce), a direction that has used all 2^32 counters refuses further frames; the
/// connection must be re-established, as it is after any failure. Frame length prefixes are the caller's
/// business: this works on frame payloads.
package struct NoiseTransport: Sendable {
    /// The key this side encrypts with (the initiator's first Split half, or the responder's second).
    package let writeKey: [UInt8]
    /// The key this side decrypts with.
    package let readKey: [UInt8]
    /// Frames encrypted so far.
    package private(set) var writeCounter: UInt32 = 0
    /// Frames decrypted (or attempted) so far.
    package private(set) var readCounter: UInt32 = 0
    private var writeExhausted = false
    private var readExhausted = false

    /// A transport from the two Split keys, both counters at zero.
    package init(writeKey: [UInt8], readKey: [UInt8]) {
        precondition(writeKey.count == 32 && readKey.count == 32, "transport keys are 32 bytes")
        self.writeKey = writeKey
        self.readKey = readKey
    }

    /// Encrypts one frame payload (flags byte + node) and advances the write counter.
    package mutating func encrypt(_ plaintext: [UInt8]) throws(ProtocolError) -> [UInt8] {
        guard !writeExhausted else { throw ProtocolError.unexpected("transport write counter exhausted") }
        let iv = NoiseSymmetricState.iv(writeCounter)
        let ciphertext = try ProtocolError.fromCrypto("transport encrypt") { () throws(ReactorError) in
            try Crypto.aes256GCMSeal(key: writeKey, iv: iv, plaintext: plaintext)
        }
        if writeCounter == UInt32.max { writeExhausted = true } else { writeCounter += 1 }
        return ciphertext
    }

    /// Decrypts one frame payload and advances the read counter.
    ///
    /// The counter advances even when the tag check fails (as whatsmeow does): the frame used its nonce
    /// either way. After a failure the stream cannot be trusted; close the connection.
    package mutating func decrypt(_ ciphertext: [UInt8]) throws(ProtocolError) -> [UInt8] {
        guard !readExhausted else { throw ProtocolError.unexpected("transport read counter exhausted") }
        let iv = NoiseSymmetricState.iv(readCounter)
        if readCounter == UInt32.max { readExhausted = true } else { readCounter += 1 }
        return try ProtocolError.fromCrypto("transport decrypt", as: .authentication) { () throws(ReactorError) in
            try Crypto.aes256GCMOpen(key: readKey, iv: iv, ciphertext: ciphertext)
        }
    }
}
