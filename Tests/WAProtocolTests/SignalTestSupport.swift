import Testing

@testable import WAProtocol

/// Hex literals for vectors; traps on bad input because a typo in a vector is a bug in the test.
func signalHex(_ string: String) -> [UInt8] {
    let digits = Array(string.filter { !$0.isWhitespace }.utf8)
    precondition(digits.count % 2 == 0, "odd hex length")
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: preconditionFailure("bad hex digit")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
}

func signalHexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// True when `body` throws a Signal-layer `ProtocolError` of kind `failure`.
func throwsSignal(_ failure: SignalFailure, _ body: () throws -> Void) -> Bool {
    do {
        try body()
        return false
    } catch let error as ProtocolError {
        return error.signalFailure == failure
    } catch {
        return false
    }
}

func throwsSignal(_ failure: SignalFailure, _ body: () async throws -> Void) async -> Bool {
    do {
        try await body()
        return false
    } catch let error as ProtocolError {
        return error.signalFailure == failure
    } catch {
        return false
    }
}

/// One Signal endpoint for tests: its keys, an in-memory store and the protocol over it.
struct SignalTestParty {
    let address: SignalAddress
    let identity: SignalKeyPair
    let registrationID: UInt32
    let store: InMemorySignalStore
    let signal: SignalProtocol
    let signedPreKey: SignedPreKeyRecord
    let preKeys: [PreKeyRecord]

    init(name: String, deviceID: UInt32 = 1, registrationID: UInt32 = 1234, preKeyCount: Int = 5) async throws {
        address = SignalAddress(name: name, deviceID: deviceID)
        identity = try SignalKeyPair.generate()
        self.registrationID = registrationID
        store = InMemorySignalStore(identity: identity, registrationID: registrationID)
        signal = SignalProtocol(store: store)
        signedPreKey = try SignedPreKeyRecord.generate(id: 1, identity: identity)
        try await store.storeSignedPreKey(signedPreKey)
        preKeys = try PreKeyRecord.generate(start: 1, count: preKeyCount)
        for preKey in preKeys { try await store.storePreKey(preKey) }
    }

    /// The bundle a prekey fetch would return, handing out the one-time prekey at `preKeyIndex`.
    func bundle(preKeyIndex: Int? = 0) -> PreKeyBundle {
        let preKey = preKeyIndex.map { preKeys[$0] }
        return PreKeyBundle(
            registrationID: registrationID, deviceID: address.deviceID, preKeyID: preKey?.id,
            preKey: preKey?.keyPair.publicKey, signedPreKeyID: signedPreKey.id,
            signedPreKey: signedPreKey.keyPair.publicKey, signedPreKeySignature: signedPreKey.signature,
            identityKey: identity.publicKey)
    }
}
