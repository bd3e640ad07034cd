import Reactor

/// A mutation's operation; its wire value + 1 is the first byte of the value MAC input.
package enum AppStateOperation: UInt8, Sendable {
    case set = 0
    case remove = 1
}

/// The MACs that chain app-state records, snapshots and patches (ref part 2 §7.5).
package enum AppStateMAC {
    /// `HMAC-SHA256(indexKey, index)`, where `index` is the record's JSON array exactly as stored.
    package static func indexMAC(index: some Collection<UInt8>, keys: AppStateMutationKeys) -> [UInt8] {
        var mac = Crypto.IncrementalHMAC(.sha256, key: keys.indexKey)
        mac.update(index)
        return mac.finalize()
    }

    /// `HMAC-SHA512(valueMACKey, (op + 1) ‖ keyID ‖ iv‖ciphertext ‖ uint64BE(len(keyID) + 1))[0..<32]`.
    package static func valueMAC(
        operation: AppStateOperation, keyID: [UInt8], ivAndCiphertext: some Collection<UInt8>,
        keys: AppStateMutationKeys
    ) -> [UInt8] {
        var mac = Crypto.IncrementalHMAC(.sha512, key: keys.valueMACKey)
        mac.update(CollectionOfOne(operation.rawValue + 1))
        mac.update(keyID)
        mac.update(ivAndCiphertext)
        mac.update(bigEndian(UInt64(keyID.count + 1)))
        return Array(mac.finalize().prefix(32))
    }

    /// `HMAC-SHA256(snapshotMACKey, ltHash ‖ uint64BE(version) ‖ collectionName)`: checks a patch's
    /// `snapshotMAC` and a snapshot's `mac`.
    package static func snapshotMAC(
        ltHash: LTHash, version: UInt64, collection: String, keys: AppStateMutationKeys
    ) -> [UInt8] {
        var mac = Crypto.IncrementalHMAC(.sha256, key: keys.snapshotMACKey)
        mac.update(ltHash.bytes)
        mac.update(bigEndian(version))
        mac.update(Array(collection.utf8))
        return mac.finalize()
    }

    /// `HMAC-SHA256(patchMACKey, snapshotMAC ‖ valueMAC₁ ‖ … ‖ valueMACₖ ‖ uint64BE(version) ‖ collectionName)`,
    /// over the value MAC of every mutation in patch order, REMOVEs included.
    package static func patchMAC(
        snapshotMAC: [UInt8], valueMACs: some Sequence<[UInt8]>, version: UInt64, collection: String,
        keys: AppStateMutationKeys
    ) -> [UInt8] {
        var mac = Crypto.IncrementalHMAC(.sha256, key: keys.patchMACKey)
        mac.update(snapshotMAC)
        for valueMAC in valueMACs { mac.update(valueMAC) }
        mac.update(bigEndian(version))
        mac.update(Array(collection.utf8))
        return mac.finalize()
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }
}
