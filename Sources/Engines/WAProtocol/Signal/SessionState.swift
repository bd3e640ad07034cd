/// One Double Ratchet session with one peer device: root key, our sending chain, the peer's receiving
/// chains with their skipped message keys, and the X3DH leftovers.
///
/// A value type: the cipher works on a copy and the caller stores the result, so a failed decryption
/// never leaves a half-updated state behind.
package struct SessionState: Sendable, Hashable {
    /// Our ratchet key pair and the chain that encrypts our next message.
    package struct SendingChain: Sendable, Hashable {
        package var ratchetKeyPair: SignalKeyPair
        package var chainKey: ChainKey
    }

    /// A chain for one of the peer's ratchet keys, with keys kept for counters not seen yet.
    package struct ReceivingChain: Sendable, Hashable {
        /// The peer's ratchet public key, raw 32 bytes.
        package var ratchetKey: [UInt8]
        package var chainKey: ChainKey
        /// Keys for skipped counters, oldest first.
        package var skippedKeys: [MessageKeys]
    }

    /// What the initiator repeats in every `pkmsg` until the responder answers.
    package struct PendingPreKey: Sendable, Hashable {
        package var preKeyID: UInt32?
        package var signedPreKeyID: UInt32
        /// Our X3DH base key, raw 32 bytes.
        package var baseKey: [UInt8]
    }

    package var version: UInt32 = UInt32(SignalLimits.version)
    /// Raw 32-byte identity keys.
    package var localIdentityKey: [UInt8]
    package var remoteIdentityKey: [UInt8]
    package var rootKey: [UInt8]
    package var previousCounter: UInt32 = 0
    package var sendingChain: SendingChain?
    /// Oldest first; at most `SignalLimits.maxReceivingChains`.
    package var receivingChains: [ReceivingChain] = []
    package var pendingPreKey: PendingPreKey?
    package var localRegistrationID: UInt32 = 0
    package var remoteRegistrationID: UInt32 = 0
    /// The initiator's base key; a repeated `pkmsg` with the same base key reuses this state.
    package var aliceBaseKey: [UInt8] = []

    package init(localIdentityKey: [UInt8], remoteIdentityKey: [UInt8], rootKey: [UInt8]) {
        self.localIdentityKey = localIdentityKey
        self.remoteIdentityKey = remoteIdentityKey
        self.rootKey = rootKey
    }

    /// Total skipped keys across all receiving chains.
    package var skippedKeyCount: Int { receivingChains.reduce(0) { $0 + $1.skippedKeys.count } }

    func receivingChainIndex(for ratchetKey: [UInt8]) -> Int? {
        receivingChains.firstIndex { $0.ratchetKey == ratchetKey }
    }

    mutating func addReceivingChain(ratchetKey: [UInt8], chainKey: ChainKey) {
        receivingChains.append(ReceivingChain(ratchetKey: ratchetKey, chainKey: chainKey, skippedKeys: []))
        if receivingChains.count > SignalLimits.maxReceivingChains {
            receivingChains.removeFirst(receivingChains.count - SignalLimits.maxReceivingChains)
        }
    }

    /// Drops the oldest skipped keys until the session is within `SignalLimits.maxSkippedKeys`.
    mutating func trimSkippedKeys() {
        var excess = skippedKeyCount - SignalLimits.maxSkippedKeys
        var chain = 0
        while excess > 0 && chain < receivingChains.count {
            let drop = min(excess, receivingChains[chain].skippedKeys.count)
            receivingChains[chain].skippedKeys.removeFirst(drop)
            excess -= drop
            chain += 1
        }
    }
}
