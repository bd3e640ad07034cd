import Foundation

// libFuzzer entry point for the Signal layer. Not part of the SwiftPM package: scripts/fuzz.sh compiles
// it into one module with Sources/Engines/WAProtocol/Signal, the Signal protobufs and ProtocolError
// (so it needs no import of WAProtocol), against Reactor's crypto and SwiftProtobuf built as modules.
//
// The first input byte picks what the rest is:
// * 0x00–0x7F: bytes off the wire or out of a database. They are parsed as every Signal message and
//   every stored record, and whatever parses is decrypted against the fixed sessions of
//   `SignalFuzzFixture` (or, for a record, used to encrypt and decrypt), which runs the MAC check,
//   counters, skipped keys and DH-ratchet steps on hostile input.
// * 0x80–0xBF: a script of a pairwise conversation (`PairwiseConversation`).
// * 0xC0–0xFF: a script of a group conversation (`GroupConversation`).
//
// Every failure must be a `ProtocolError`; anything else, a trap, or a broken invariant (a record
// that does not survive its own serialization, a failed decryption that changed the record) is a crash
// that libFuzzer saves.

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let payload = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] {
    case 0x00..<0x80:
        checkWireMessages(payload)
        checkStoredRecords(payload)
    case 0x80..<0xC0: PairwiseConversation.run(script: payload)
    default: GroupConversation.run(script: payload)
    }
    return 0
}

/// With `SIGNAL_FUZZ_SEEDS=<dir>` set, writes the seed inputs into `<dir>` before libFuzzer reads it.
@_cdecl("LLVMFuzzerInitialize")
func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?)
    -> CInt
{
    guard let directory = ProcessInfo.processInfo.environment["SIGNAL_FUZZ_SEEDS"] else { return 0 }
    for (name, bytes) in SignalFuzzFixture.shared.seeds() {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("seed-\(name)")
        do { try Data(bytes).write(to: path) } catch { fatalError("cannot write \(path.path): \(error)") }
    }
    return 0
}

/// Runs `body`, turning a `ProtocolError` into nil; any other error traps, because the Signal layer
/// promises to throw only its module's error type.
func nilOnProtocolError<T>(_ what: String, _ body: () throws -> T) -> T? {
    do { return try body() } catch is ProtocolError { return nil } catch {
        fatalError("\(what) threw \(type(of: error)), not ProtocolError: \(error)")
    }
}

/// A fixed ratchet key for DH-ratchet steps the fuzzer provokes (the default would draw random keys and
/// make crashes irreproducible).
private func fuzzRatchetKey() -> SignalKeyPair { fuzzKeyPair(99) }

// MARK: - Wire messages

private func checkWireMessages(_ bytes: [UInt8]) {
    let fixture = SignalFuzzFixture.shared
    if let message = nilOnProtocolError("msg parse", { try WhisperMessage(serialized: bytes) }) {
        guard message.serialized == bytes else { fatalError("msg does not keep its received bytes") }
        decrypt(message, record: fixture.bobRecord)
        decrypt(message, record: fixture.aliceRecord)
    }
    if let message = nilOnProtocolError("pkmsg parse", { try PreKeyWhisperMessage(serialized: bytes) }) {
        guard message.serialized == bytes else { fatalError("pkmsg does not keep its received bytes") }
        decrypt(message, record: fixture.bobRecord)
        decrypt(message, record: SessionRecord())
    }
    if let message = nilOnProtocolError("skmsg parse", { try SenderKeyMessage(serialized: bytes) }) {
        guard message.serialized == bytes else { fatalError("skmsg does not keep its received bytes") }
        decrypt(message, record: fixture.bobSenderKey)
    }
    if let distribution = nilOnProtocolError("skdm parse", { try SenderKeyDistributionMessage(serialized: bytes) }) {
        var record = fixture.bobSenderKey
        GroupCipher.process(distribution, record: &record)
        checkRoundTrip(record)
        decrypt(fixture.groupMessage, record: record)
    }
}

/// Decrypts a `msg` with a copy of `record`; a failure must leave the copy as it was.
func decrypt(_ message: WhisperMessage, record: SessionRecord) {
    var working = record
    let plaintext = nilOnProtocolError("msg decrypt") {
        try SessionCipher.decrypt(message, record: &working, newRatchetKey: fuzzRatchetKey)
    }
    if plaintext == nil, working != record { fatalError("a failed msg decryption changed the session record") }
}

/// Decrypts a `pkmsg` as Bob, with his fixed prekeys under whatever ids the message names.
func decrypt(_ message: PreKeyWhisperMessage, record: SessionRecord) {
    var working = record
    let keys = SignalFuzzFixture.shared.bobKeys(for: message)
    let decryption = nilOnProtocolError("pkmsg decrypt") {
        try SessionCipher.decrypt(message, record: &working, keys: keys, newRatchetKey: fuzzRatchetKey)
    }
    if decryption == nil, working != record { fatalError("a failed pkmsg decryption changed the session record") }
}

func decrypt(_ message: SenderKeyMessage, record: SenderKeyRecord) {
    var working = record
    let plaintext = nilOnProtocolError("skmsg decrypt") { try GroupCipher.decrypt(message, record: &working) }
    if plaintext == nil, working != record { fatalError("a failed skmsg decryption changed the sender key record") }
}

// MARK: - Stored records

private func checkStoredRecords(_ bytes: [UInt8]) {
    let fixture = SignalFuzzFixture.shared
    checkStateCodec(bytes)
    if let record = nilOnProtocolError("session record parse", { try SessionRecord(serialized: bytes) }) {
        checkRoundTrip(record)
        var sending = record
        _ = nilOnProtocolError("encrypt with a stored session") {
            try SessionCipher.encrypt([1, 2, 3], record: &sending)
        }
        decrypt(fixture.secondMessage.message, record: record)
        decrypt(fixture.secondMessage, record: record)
    }
    if let record = nilOnProtocolError("sender key record parse", { try SenderKeyRecord(serialized: bytes) }) {
        checkRoundTrip(record)
        var sending = record
        _ = nilOnProtocolError("group encrypt with a stored record") {
            try GroupCipher.encrypt([4, 5, 6], record: &sending, signatureRandom: SignalFuzzFixture.nonce(3))
        }
        decrypt(fixture.groupMessage, record: record)
    }
    if let record = nilOnProtocolError("prekey record parse", { try PreKeyRecord(serialized: bytes) }) {
        let again = nilOnProtocolError("prekey record round trip") { try PreKeyRecord(serialized: record.serialized()) }
        guard again == record else { fatalError("prekey record changes through serialization") }
    }
    if let record = nilOnProtocolError("signed prekey record parse", { try SignedPreKeyRecord(serialized: bytes) }) {
        let again = nilOnProtocolError("signed prekey round trip") {
            try SignedPreKeyRecord(serialized: record.serialized())
        }
        guard again == record else { fatalError("signed prekey record changes through serialization") }
    }
    if let identity = nilOnProtocolError("identity parse", { try SignalKeyPair(serializedIdentity: bytes) }) {
        let again = nilOnProtocolError("identity round trip") {
            try SignalKeyPair(serializedIdentity: identity.serializedIdentity())
        }
        guard again == identity else { fatalError("identity key pair changes through serialization") }
    }
}

/// The hand-written session state codec against SwiftProtobuf on the same bytes: whatever it accepts,
/// SwiftProtobuf must accept as the same state, and the state must encode as SwiftProtobuf encodes it.
/// (The codec may refuse more: groups, and known fields with the wrong wire type.)
private func checkStateCodec(_ bytes: [UInt8]) {
    guard let state = nilOnProtocolError("session state parse", { try SessionState(serialized: bytes) }) else { return }
    let reference = nilOnProtocolError("reference state parse") {
        try SessionState(structure: SignalProto.decode(bytes, "reference session state"))
    }
    guard reference == state else { fatalError("the session state codec and SwiftProtobuf disagree") }
    let encoded = nilOnProtocolError("reference state encode") { try SignalProto.encode(state.structure) }
    guard encoded == state.serialized() else { fatalError("the session state codec encodes unlike SwiftProtobuf") }
}

/// A record must come back equal from its own serialization: the store relies on it after every message.
func checkRoundTrip(_ record: SessionRecord) {
    let again = nilOnProtocolError("session record round trip") { try SessionRecord(serialized: record.serialized()) }
    guard again == record else { fatalError("session record changes through serialization") }
}

func checkRoundTrip(_ record: SenderKeyRecord) {
    let again = nilOnProtocolError("sender key record round trip") {
        try SenderKeyRecord(serialized: record.serialized())
    }
    guard again == record else { fatalError("sender key record changes through serialization") }
}
