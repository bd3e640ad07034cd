// MARK: - The stored form of a session state, read and written directly

/// A `SessionStructure` (signal_local.proto) is decoded and encoded here by hand rather than through the
/// generated `Wasignal_SessionStructure`: the current state of a record is read and written for every
/// message, and SwiftProtobuf's generic visitors and `Data` fields made that several times more costly
/// than the ratchet step itself. The bytes are the ones SwiftProtobuf writes for `structure`, and decoding
/// agrees with `init(structure:)` on everything SwiftProtobuf accepts (SignalRecordTests, and the Signal
/// fuzzer compares the two on every input).
extension SessionState {
    /// Decodes a serialized `SessionStructure`.
    init(serialized bytes: some Collection<UInt8>) throws {
        let bytes = Array(bytes)
        var fields = ProtobufFieldReader(bytes[...], "session state")
        var version: UInt32 = 0
        var localIdentity: ArraySlice<UInt8> = []
        var remoteIdentity: ArraySlice<UInt8> = []
        var rootKey: ArraySlice<UInt8> = []
        var previousCounter: UInt32 = 0
        var sendingChain: [UInt8]?
        var receivingChains: [ArraySlice<UInt8>] = []
        var pendingPreKey: [UInt8]?
        var remoteRegistrationID: UInt32 = 0
        var localRegistrationID: UInt32 = 0
        var aliceBaseKey: ArraySlice<UInt8> = []
        while let field = try fields.next() {
            switch field.number {
            case 1: version = try field.uint32()
            case 2: localIdentity = try field.lengthDelimited()
            case 3: remoteIdentity = try field.lengthDelimited()
            case 4: rootKey = try field.lengthDelimited()
            case 5: previousCounter = try field.uint32()
            // A singular message that occurs twice is merged, which is decoding the concatenation.
            case 6: sendingChain = (sendingChain ?? []) + (try field.lengthDelimited())
            case 7: receivingChains.append(try field.lengthDelimited())
            case 9: pendingPreKey = (pendingPreKey ?? []) + (try field.lengthDelimited())
            case 10: remoteRegistrationID = try field.uint32()
            case 11: localRegistrationID = try field.uint32()
            case 13: aliceBaseKey = try field.lengthDelimited()
            default: continue
            }
        }

        self.init(
            localIdentityKey: try Self.rawKey(localIdentity, "local identity"),
            remoteIdentityKey: try Self.rawKey(remoteIdentity, "remote identity"), rootKey: Array(rootKey))
        self.version = version
        self.previousCounter = previousCounter
        if let sendingChain {
            let chain = try StoredChain(sendingChain[...])
            self.sendingChain = SendingChain(
                ratchetKeyPair: try SignalKeyPair(privateKey: chain.privateKey, storedPublicKey: chain.publicKey),
                chainKey: chain.chainKey)
        }
        self.receivingChains = try receivingChains.map { bytes in
            let chain = try StoredChain(bytes)
            return ReceivingChain(
                ratchetKey: try Self.rawKey(chain.publicKey[...], "receiving ratchet key"), chainKey: chain.chainKey,
                skippedKeys: chain.skippedKeys)
        }
        if let pendingPreKey { self.pendingPreKey = try Self.decodePendingPreKey(pendingPreKey[...]) }
        self.remoteRegistrationID = remoteRegistrationID
        self.localRegistrationID = localRegistrationID
        self.aliceBaseKey = Array(aliceBaseKey)
    }

    /// The state as a serialized `SessionStructure`, fields in number order and every field `structure`
    /// sets written even when empty, as SwiftProtobuf writes a proto2 message.
    func serialized() -> [UInt8] {
        var fields = ProtobufFieldWriter()
        fields.appendUInt32(field: 1, version)
        fields.appendBytes(field: 2, localIdentityKey)
        fields.appendBytes(field: 3, remoteIdentityKey)
        fields.appendBytes(field: 4, rootKey)
        fields.appendUInt32(field: 5, previousCounter)
        if let sendingChain {
            fields.appendMessage(field: 6) { chain in
                chain.appendBytes(field: 1, sendingChain.ratchetKeyPair.publicKey)
                chain.appendBytes(field: 2, sendingChain.ratchetKeyPair.privateKey)
                Self.appendChainKey(sendingChain.chainKey, to: &chain)
            }
        }
        for receiving in receivingChains {
            fields.appendMessage(field: 7) { chain in
                chain.appendBytes(field: 1, receiving.ratchetKey)
                Self.appendChainKey(receiving.chainKey, to: &chain)
                for keys in receiving.skippedKeys {
                    chain.appendMessage(field: 4) { stored in
                        stored.appendUInt32(field: 1, keys.index)
                        stored.appendBytes(field: 2, keys.cipherKey)
                        stored.appendBytes(field: 3, keys.macKey)
                        stored.appendBytes(field: 4, keys.iv)
                    }
                }
            }
        }
        if let pendingPreKey {
            fields.appendMessage(field: 9) { pending in
                if let id = pendingPreKey.preKeyID { pending.appendUInt32(field: 1, id) }
                pending.appendBytes(field: 2, pendingPreKey.baseKey)
                pending.appendUInt32(field: 3, pendingPreKey.signedPreKeyID)
            }
        }
        fields.appendUInt32(field: 10, remoteRegistrationID)
        fields.appendUInt32(field: 11, localRegistrationID)
        fields.appendBytes(field: 13, aliceBaseKey)
        return fields.bytes
    }

    private static func appendChainKey(_ chainKey: ChainKey, to chain: inout ProtobufFieldWriter) {
        chain.appendMessage(field: 3) { stored in
            stored.appendUInt32(field: 1, chainKey.index)
            stored.appendBytes(field: 2, chainKey.key)
        }
    }

    private static func decodePendingPreKey(_ bytes: ArraySlice<UInt8>) throws -> PendingPreKey {
        var fields = ProtobufFieldReader(bytes, "pending prekey")
        var preKeyID: UInt32?
        var baseKey: ArraySlice<UInt8> = []
        var signedPreKeyID: UInt32 = 0
        while let field = try fields.next() {
            switch field.number {
            case 1: preKeyID = try field.uint32()
            case 2: baseKey = try field.lengthDelimited()
            case 3: signedPreKeyID = try field.uint32()
            default: continue
            }
        }
        return PendingPreKey(
            preKeyID: preKeyID, signedPreKeyID: signedPreKeyID, baseKey: try rawKey(baseKey, "pending base key"))
    }

    static func rawKey(_ bytes: some Collection<UInt8>, _ what: String) throws -> [UInt8] {
        guard bytes.count == 32 else { throw ProtocolError.signalMalformed("stored \(what) is not 32 bytes") }
        return Array(bytes)
    }
}

/// A decoded `SessionStructure.Chain`: a ratchet key (with its private half on our sending chain), the
/// chain key, and the keys kept for skipped counters.
private struct StoredChain {
    var publicKey: [UInt8] = []
    var privateKey: [UInt8] = []
    var chainKey = ChainKey(key: [], index: 0)
    var skippedKeys: [MessageKeys] = []

    init(_ bytes: ArraySlice<UInt8>) throws {
        var fields = ProtobufFieldReader(bytes, "session chain")
        var chainKey: [UInt8]?
        while let field = try fields.next() {
            switch field.number {
            case 1: publicKey = Array(try field.lengthDelimited())
            case 2: privateKey = Array(try field.lengthDelimited())
            case 3: chainKey = (chainKey ?? []) + (try field.lengthDelimited())
            case 4: skippedKeys.append(try Self.messageKeys(try field.lengthDelimited()))
            default: continue
            }
        }
        if let chainKey { self.chainKey = try Self.chainKey(chainKey[...]) }
    }

    private static func chainKey(_ bytes: ArraySlice<UInt8>) throws -> ChainKey {
        var fields = ProtobufFieldReader(bytes, "chain key")
        var index: UInt32 = 0
        var key: ArraySlice<UInt8> = []
        while let field = try fields.next() {
            switch field.number {
            case 1: index = try field.uint32()
            case 2: key = try field.lengthDelimited()
            default: continue
            }
        }
        return ChainKey(key: Array(key), index: index)
    }

    private static func messageKeys(_ bytes: ArraySlice<UInt8>) throws -> MessageKeys {
        var fields = ProtobufFieldReader(bytes, "skipped message key")
        var index: UInt32 = 0
        var keys: [ArraySlice<UInt8>] = [[], [], []]
        while let field = try fields.next() {
            switch field.number {
            case 1: index = try field.uint32()
            case 2, 3, 4: keys[Int(field.number) - 2] = try field.lengthDelimited()
            default: continue
            }
        }
        return MessageKeys(cipherKey: Array(keys[0]), macKey: Array(keys[1]), iv: Array(keys[2]), index: index)
    }
}
