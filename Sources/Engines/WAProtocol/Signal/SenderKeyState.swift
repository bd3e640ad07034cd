import Foundation

/// One sender-key chain of one group sender: key id, chain position, signing key, skipped keys.
package struct SenderKeyState: Sendable, Hashable {
    /// The chain key at `iteration`.
    package struct ChainKey: Sendable, Hashable {
        package let iteration: UInt32
        package let seed: [UInt8]

        /// The message seed for this iteration: HMAC(seed, 0x01).
        package var messageSeed: [UInt8] { SignalCrypto.hmac(key: seed, [0x01]) }

        /// One step on: HMAC(seed, 0x02).
        package func next() -> ChainKey {
            ChainKey(iteration: iteration &+ 1, seed: SignalCrypto.hmac(key: seed, [0x02]))
        }
    }

    /// The seed of one group message; its AES key and IV come from HKDF(seed, "WhisperGroup", 48).
    package struct MessageKey: Sendable, Hashable {
        package let iteration: UInt32
        package let seed: [UInt8]

        package var derived: (iv: [UInt8], cipherKey: [UInt8]) {
            let bytes = SignalCrypto.hkdf(seed, info: "WhisperGroup", count: 48)
            return (Array(bytes[0..<16]), Array(bytes[16..<48]))
        }
    }

    package let keyID: UInt32
    package var chainKey: ChainKey
    /// Raw 32-byte public signing key.
    package let signingPublicKey: [UInt8]
    /// Only in our own sending state.
    package let signingPrivateKey: [UInt8]?
    /// Keys for skipped iterations, oldest first, at most `SignalLimits.maxSkippedKeys`.
    package var skippedKeys: [MessageKey] = []

    package init(keyID: UInt32, chainKey: ChainKey, signingPublicKey: [UInt8], signingPrivateKey: [UInt8]?) {
        self.keyID = keyID
        self.chainKey = chainKey
        self.signingPublicKey = signingPublicKey
        self.signingPrivateKey = signingPrivateKey
    }

    /// The key for `iteration`, moving the chain past it and keeping keys for skipped iterations.
    mutating func messageKey(for iteration: UInt32) throws -> MessageKey {
        if iteration < chainKey.iteration {
            guard let index = skippedKeys.firstIndex(where: { $0.iteration == iteration }) else {
                throw ProtocolError.signalDuplicate(counter: iteration)
            }
            return skippedKeys.remove(at: index)
        }
        guard iteration - chainKey.iteration <= SignalLimits.maxFutureMessages else {
            throw ProtocolError.signalTooFarInFuture(counter: iteration, current: chainKey.iteration)
        }
        var chain = chainKey
        while chain.iteration < iteration {
            skippedKeys.append(MessageKey(iteration: chain.iteration, seed: chain.messageSeed))
            chain = chain.next()
        }
        if skippedKeys.count > SignalLimits.maxSkippedKeys {
            skippedKeys.removeFirst(skippedKeys.count - SignalLimits.maxSkippedKeys)
        }
        chainKey = chain.next()
        return MessageKey(iteration: chain.iteration, seed: chain.messageSeed)
    }

    // MARK: - Stored form

    var structure: Wasignal_SenderKeyStateStructure {
        var proto = Wasignal_SenderKeyStateStructure()
        proto.senderKeyID = keyID
        proto.senderChainKey.iteration = chainKey.iteration
        proto.senderChainKey.seed = Data(chainKey.seed)
        proto.senderSigningKey.publicKey = Data(signingPublicKey)
        if let signingPrivateKey { proto.senderSigningKey.privateKey = Data(signingPrivateKey) }
        proto.senderMessageKeys = skippedKeys.map { key in
            var stored = Wasignal_SenderKeyStateStructure.SenderMessageKey()
            stored.iteration = key.iteration
            stored.seed = Data(key.seed)
            return stored
        }
        return proto
    }

    init(structure proto: Wasignal_SenderKeyStateStructure) throws {
        guard proto.senderChainKey.seed.count == 32, proto.senderSigningKey.publicKey.count == 32 else {
            throw ProtocolError.signalMalformed("stored sender key state has bad key lengths")
        }
        self.init(
            keyID: proto.senderKeyID,
            chainKey: ChainKey(iteration: proto.senderChainKey.iteration, seed: Array(proto.senderChainKey.seed)),
            signingPublicKey: Array(proto.senderSigningKey.publicKey),
            signingPrivateKey: proto.senderSigningKey.hasPrivateKey ? Array(proto.senderSigningKey.privateKey) : nil)
        skippedKeys = proto.senderMessageKeys.map { MessageKey(iteration: $0.iteration, seed: Array($0.seed)) }
    }
}
