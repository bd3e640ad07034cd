import Foundation

// MARK: - Conversion to and from the generated protobuf type

/// The state as SwiftProtobuf's `Wasignal_SessionStructure`. Records are read and written by the codec in
/// SessionState+Codec.swift; these conversions are the reference it is checked against (tests, fuzzer).
extension SessionState {
    init(structure proto: Wasignal_SessionStructure) throws {
        self.init(
            localIdentityKey: try Self.rawKey(proto.localIdentityPublic, "local identity"),
            remoteIdentityKey: try Self.rawKey(proto.remoteIdentityPublic, "remote identity"),
            rootKey: Array(proto.rootKey))
        version = proto.sessionVersion
        previousCounter = proto.previousCounter
        if proto.hasSenderChain {
            let chain = proto.senderChain
            sendingChain = SendingChain(
                ratchetKeyPair: try SignalKeyPair(
                    privateKey: Array(chain.senderRatchetKeyPrivate), storedPublicKey: Array(chain.senderRatchetKey)),
                chainKey: ChainKey(key: Array(chain.chainKey.key), index: chain.chainKey.index))
        }
        receivingChains = try proto.receiverChains.map { chain in
            ReceivingChain(
                ratchetKey: try Self.rawKey(chain.senderRatchetKey, "receiving ratchet key"),
                chainKey: ChainKey(key: Array(chain.chainKey.key), index: chain.chainKey.index),
                skippedKeys: chain.messageKeys.map {
                    MessageKeys(
                        cipherKey: Array($0.cipherKey), macKey: Array($0.macKey), iv: Array($0.iv), index: $0.index)
                })
        }
        if proto.hasPendingPreKey {
            let pending = proto.pendingPreKey
            pendingPreKey = PendingPreKey(
                preKeyID: pending.hasPreKeyID ? pending.preKeyID : nil, signedPreKeyID: pending.signedPreKeyID,
                baseKey: try Self.rawKey(pending.baseKey, "pending base key"))
        }
        localRegistrationID = proto.localRegistrationID
        remoteRegistrationID = proto.remoteRegistrationID
        aliceBaseKey = Array(proto.aliceBaseKey)
    }

    var structure: Wasignal_SessionStructure {
        var proto = Wasignal_SessionStructure()
        proto.sessionVersion = version
        proto.localIdentityPublic = Data(localIdentityKey)
        proto.remoteIdentityPublic = Data(remoteIdentityKey)
        proto.rootKey = Data(rootKey)
        proto.previousCounter = previousCounter
        if let sendingChain {
            var chain = Wasignal_SessionStructure.Chain()
            chain.senderRatchetKey = Data(sendingChain.ratchetKeyPair.publicKey)
            chain.senderRatchetKeyPrivate = Data(sendingChain.ratchetKeyPair.privateKey)
            chain.chainKey = Self.chainKeyStructure(sendingChain.chainKey)
            proto.senderChain = chain
        }
        proto.receiverChains = receivingChains.map { receiving in
            var chain = Wasignal_SessionStructure.Chain()
            chain.senderRatchetKey = Data(receiving.ratchetKey)
            chain.chainKey = Self.chainKeyStructure(receiving.chainKey)
            chain.messageKeys = receiving.skippedKeys.map { keys in
                var stored = Wasignal_SessionStructure.Chain.MessageKey()
                stored.index = keys.index
                stored.cipherKey = Data(keys.cipherKey)
                stored.macKey = Data(keys.macKey)
                stored.iv = Data(keys.iv)
                return stored
            }
            return chain
        }
        if let pendingPreKey {
            var pending = Wasignal_SessionStructure.PendingPreKey()
            if let id = pendingPreKey.preKeyID { pending.preKeyID = id }
            pending.signedPreKeyID = pendingPreKey.signedPreKeyID
            pending.baseKey = Data(pendingPreKey.baseKey)
            proto.pendingPreKey = pending
        }
        proto.localRegistrationID = localRegistrationID
        proto.remoteRegistrationID = remoteRegistrationID
        proto.aliceBaseKey = Data(aliceBaseKey)
        return proto
    }

    private static func chainKeyStructure(_ chainKey: ChainKey) -> Wasignal_SessionStructure.Chain.ChainKey {
        var proto = Wasignal_SessionStructure.Chain.ChainKey()
        proto.index = chainKey.index
        proto.key = Data(chainKey.key)
        return proto
    }
}
