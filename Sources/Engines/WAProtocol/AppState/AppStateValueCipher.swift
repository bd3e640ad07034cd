import Reactor

/// Encryption of an app-state record value (ref part 2 §7.5):
/// `value.blob = iv(16) ‖ AES-256-CBC(valueEncryptionKey, iv, SyncActionData) ‖ valueMAC(32)`.
/// Works on the serialized `SyncActionData` bytes; decoding them is the caller's.
package enum AppStateValueCipher {
    /// Encrypts `plaintext` (a serialized `SyncActionData`) with `iv` (16 bytes, fresh per record).
    package static func seal(
        _ plaintext: [UInt8], operation: AppStateOperation, keyID: [UInt8], iv: [UInt8], keys: AppStateMutationKeys
    ) throws(ProtocolError) -> [UInt8] {
        guard iv.count == 16 else { throw ProtocolError.malformed("app-state value iv must be 16 bytes") }
        let ciphertext = try ProtocolError.fromCrypto("app-state value encrypt") { () throws(ReactorError) in
            try Crypto.aes256CBCEncrypt(key: keys.valueEncryptionKey, iv: iv, plaintext: plaintext)
        }
        let body = iv + ciphertext
        return body + AppStateMAC.valueMAC(operation: operation, keyID: keyID, ivAndCiphertext: body, keys: keys)
    }

    /// The value MAC carried in the last 32 bytes of a value blob (what the LTHash and patch MAC consume).
    package static func valueMAC(of blob: [UInt8]) throws(ProtocolError) -> [UInt8] {
        guard blob.count >= 16 + 16 + 32 else { throw ProtocolError.malformed("app-state value blob too short") }
        return Array(blob.suffix(32))
    }

    /// Checks the value MAC, then decrypts: returns the serialized `SyncActionData`.
    package static func open(
        _ blob: [UInt8], operation: AppStateOperation, keyID: [UInt8], keys: AppStateMutationKeys
    ) throws(ProtocolError) -> [UInt8] {
        let carried = try valueMAC(of: blob)
        let body = blob[0..<(blob.count - 32)]
        guard (body.count - 16) % 16 == 0 else { throw ProtocolError.malformed("app-state value ciphertext length") }
        let expected = AppStateMAC.valueMAC(operation: operation, keyID: keyID, ivAndCiphertext: body, keys: keys)
        guard Crypto.constantTimeEquals(expected, carried) else {
            throw ProtocolError.authentication("app-state value MAC mismatch")
        }
        return try ProtocolError.fromCrypto("app-state value decrypt", as: .authentication) { () throws(ReactorError) in
            try Crypto.aes256CBCDecrypt(
                key: keys.valueEncryptionKey, iv: Array(body.prefix(16)), ciphertext: body.dropFirst(16))
        }
    }
}
