import Reactor

/// The five keys one app-state sync key expands to (ref part 2 §7.2):
/// `HKDF(keyData, "WhatsApp Mutation Keys", 160, no salt)` split into 32-byte parts.
package struct AppStateMutationKeys: Sendable, Equatable {
    /// Keys the index MAC: `HMAC-SHA256(indexKey, index JSON)`, the record's stable identifier.
    package let indexKey: [UInt8]
    /// AES-256-CBC key of record values.
    package let valueEncryptionKey: [UInt8]
    /// HMAC-SHA512 key of the value MAC.
    package let valueMACKey: [UInt8]
    /// Keys the snapshot MAC over the LTHash.
    package let snapshotMACKey: [UInt8]
    /// Keys the patch MAC over the snapshot MAC and all value MACs.
    package let patchMACKey: [UInt8]

    /// Expands the 32-byte `keyData` of an `AppStateSyncKey`.
    package init(keyData: [UInt8]) throws(ProtocolError) {
        guard keyData.count == 32 else { throw ProtocolError.malformed("app-state key data must be 32 bytes") }
        let expanded = Crypto.hkdfSHA256(ikm: keyData, info: Array("WhatsApp Mutation Keys".utf8), count: 160)
        indexKey = Array(expanded[0..<32])
        valueEncryptionKey = Array(expanded[32..<64])
        valueMACKey = Array(expanded[64..<96])
        snapshotMACKey = Array(expanded[96..<128])
        patchMACKey = Array(expanded[128..<160])
    }
}
