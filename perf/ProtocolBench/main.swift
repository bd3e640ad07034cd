import Foundation
import Reactor
import WAProtocol

// Protocol hot paths, single-threaded, release build: node encode/decode, Signal
// encrypt+decrypt of one message on an established session, streaming media encryption.
// perf/protocol-bench.sh runs this next to `openssl speed` (the anchor for AES-CBC throughput).

func measure(_ name: String, iterations: Int, unit: String = "op", _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<max(1, iterations / 20) { try body() }  // warm up
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { try body() }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
    let perOp = elapsed / Double(iterations)
    print(String(format: "%-34@ %12.0f ns/%@", name as NSString, perOp, unit as NSString))
    return perOp
}

// A typical inbound message stanza: attributes, an `enc` child with ~200 bytes of ciphertext.
let node = BinaryNode(
    "message",
    ["from": "15551234567@s.whatsapp.net", "id": "3EB0C767D0D1F4E4B1A2", "t": "1764420000", "type": "text",
     "notify": "Alice"],
    children: [
        BinaryNode("enc", ["v": "2", "type": "msg"], bytes: (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    ])
let encoded = try NodePlaintext.encode(node)
_ = try measure("node encode (message stanza)", iterations: 200_000) { _ = try NodePlaintext.encode(node) }
_ = try measure("node decode (message stanza)", iterations: 200_000) { _ = try NodePlaintext.decode(encoded) }

// Signal: Alice and Bob with an established session (pure functions, no stores).
let alice = try SignalKeyPair.generate()
let bob = try SignalKeyPair.generate()
let bobSigned = try SignedPreKeyRecord.generate(id: 1, identity: bob)
let bobPreKey = try PreKeyRecord.generate(start: 1, count: 1)[0]
let bundle = PreKeyBundle(
    registrationID: 2, deviceID: 1, preKeyID: bobPreKey.id, preKey: bobPreKey.keyPair.publicKey, signedPreKeyID: 1,
    signedPreKey: bobSigned.keyPair.publicKey, signedPreKeySignature: bobSigned.signature, identityKey: bob.publicKey)
let signal = SignalProtocol(
    store: InMemorySignalStore(identity: alice, registrationID: 1))
let bobStore = InMemorySignalStore(identity: bob, registrationID: 2)
try await bobStore.storeSignedPreKey(bobSigned)
try await bobStore.storePreKey(bobPreKey)
let bobSignal = SignalProtocol(store: bobStore)
let bobAddress = SignalAddress(name: "bob", deviceID: 1)
let aliceAddress = SignalAddress(name: "alice", deviceID: 1)
try await signal.processBundle(bundle, for: bobAddress)
let plaintext = try MessagePadding.pad(Array("Hello from the benchmark, a message of ordinary length.".utf8), length: 8)
let first = try await signal.encrypt(plaintext, for: bobAddress)
_ = try await bobSignal.decrypt(encType: first.encType, first.serialized, from: aliceAddress)
let signalIterations = 5_000
let signalStart = DispatchTime.now().uptimeNanoseconds
for _ in 0..<signalIterations {
    let message = try await signal.encrypt(plaintext, for: bobAddress)
    _ = try await bobSignal.decrypt(encType: message.encType, message.serialized, from: aliceAddress)
}
let signalPer = Double(DispatchTime.now().uptimeNanoseconds - signalStart) / Double(signalIterations)
print(String(format: "%-34@ %12.0f ns/op", "signal encrypt+decrypt (msg)" as NSString, signalPer))

// The same with a long history: 40 archived states in both records (sessions replaced many times), which a
// message should not have to decode and re-encode.
func addHistory(_ store: any SessionStore, for address: SignalAddress) async throws {
    guard var record = try await store.loadSession(for: address), let current = record.current else { return }
    for _ in 0..<SignalLimits.maxArchivedStates { record.promote(current) }
    try await store.storeSession(record, for: address)
}
try await addHistory(signal.sessions, for: bobAddress)
try await addHistory(bobSignal.sessions, for: aliceAddress)
let historyStart = DispatchTime.now().uptimeNanoseconds
for _ in 0..<signalIterations {
    let message = try await signal.encrypt(plaintext, for: bobAddress)
    _ = try await bobSignal.decrypt(encType: message.encType, message.serialized, from: aliceAddress)
}
let historyPer = Double(DispatchTime.now().uptimeNanoseconds - historyStart) / Double(signalIterations)
print(String(format: "%-34@ %12.0f ns/op", "signal e+d (40 archived states)" as NSString, historyPer))

// Media: 64 MiB through the streaming encryptor in 64 KiB chunks.
let chunk = [UInt8](repeating: 0x5A, count: 64 * 1024)
let total = 64 << 20
let mediaStart = DispatchTime.now().uptimeNanoseconds
let encryptor = try MediaEncryptor(mediaKey: try MediaKeys.generateMediaKey(), kind: .video)
for _ in 0..<(total / chunk.count) { _ = try encryptor.update(chunk) }
_ = try encryptor.finish()
let seconds = Double(DispatchTime.now().uptimeNanoseconds - mediaStart) / 1e9
print(String(format: "%-34@ %12.1f MB/s", "media encrypt (AES-CBC+HMAC+SHA)" as NSString, Double(total) / 1e6 / seconds))
