// Script-driven conversations for the Signal fuzzer (Fuzz/SignalFuzz.swift). Random bytes never carry a
// valid MAC or signature, so on their own they stop at the first check; here the messages are real and
// the fuzzer only picks what happens to them: order, repeats, losses, flipped bytes, truncation.
//
// What must hold whatever the script: a delivery that succeeds yields exactly what was sent, and never
// twice; a tampered `msg` or `skmsg` never decrypts; a failed delivery leaves the receiver's record as it
// was; records come back equal from their own serialization.

/// Reads a script one byte at a time; reading past the end gives nil (for the next step) or 0 (for an
/// argument), so every byte string is a valid script.
struct ScriptReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func argument() -> Int { Int(next() ?? 0) }
}

/// Steps per script, and messages a script may lose in all: enough to pass the future-message bound once
/// (whose skipped keys are what costs time), so that no input runs for long.
private let maxSteps = 32
private let lossBudget = Int(SignalLimits.maxFutureMessages) + 100

/// A message in flight and what it must decrypt to.
private struct Sent {
    let bytes: [UInt8]
    let encType: String
    let plaintext: [UInt8]
    var delivered = false
}

/// A plaintext unique within one script (its sequence number first) of a script-chosen length.
private func plaintext(_ sequence: Int, length: Int) -> [UInt8] {
    withUnsafeBytes(of: UInt32(sequence).bigEndian, Array.init) + [UInt8](repeating: 0xAB, count: length % 80)
}

/// Flips or cuts `bytes` where the script says: a zero mask truncates at the position instead.
private func tamper(_ bytes: [UInt8], _ reader: inout ScriptReader) -> [UInt8] {
    let position = reader.argument() % bytes.count
    let mask = UInt8(reader.argument())
    guard mask != 0 else { return Array(bytes.prefix(position)) }
    var tampered = bytes
    tampered[position] ^= mask
    return tampered
}

/// Checks the outcome of delivering `sent` (possibly tampered) and marks it delivered.
private func settle(_ sent: inout Sent, plaintext: [UInt8]?, tampered: Bool, strict: Bool) {
    guard let plaintext else { return }
    if tampered && strict { fatalError("a tampered \(sent.encType) decrypted") }
    guard plaintext == sent.plaintext else { fatalError("\(sent.encType) decrypted to something never sent") }
    guard !sent.delivered else { fatalError("\(sent.encType) decrypted twice") }
    sent.delivered = true
}

// MARK: - Pairwise

/// Alice (party 0) and Bob (party 1), from the fixture's session: Alice sends `pkmsg` until Bob answers.
///
/// Each step byte: the low bit picks the sender (0 Alice, 1 Bob), the rest the action — send, deliver the
/// n-th message to its receiver, deliver it tampered, lose up to 1021 messages (the sending chain jumps
/// ahead; two such steps pass the future-message bound), or round-trip both records through serialization.
struct PairwiseConversation {
    private var records = [SignalFuzzFixture.shared.aliceRecord, SignalFuzzFixture.shared.bobRecord]
    /// `inboxes[p]`: everything sent to party p.
    private var inboxes: [[Sent]] = [[], []]
    private var sent = 0
    private var lost = 0
    private var ratchetSeed: UInt32 = 1000

    static func run(script: [UInt8]) {
        var conversation = PairwiseConversation()
        var reader = ScriptReader(script)
        for _ in 0..<maxSteps {
            guard let step = reader.next() else { return }
            conversation.perform(step, &reader)
        }
    }

    private mutating func perform(_ step: UInt8, _ reader: inout ScriptReader) {
        let party = Int(step & 1)
        switch (step >> 1) % 5 {
        case 0: send(from: party, length: reader.argument())
        case 1, 2: deliver(to: 1 - party, &reader, tampered: (step >> 1) % 5 == 2)
        case 3: loseMessages(of: party, count: reader.argument() * 4 + 1)
        default:
            checkRoundTrip(records[0])
            checkRoundTrip(records[1])
        }
    }

    private mutating func send(from party: Int, length: Int) {
        let text = plaintext(sent, length: length)
        sent += 1
        // Bob has no session to answer on only if the script breaks one, which it cannot: this must work.
        guard let message = nilOnProtocolError("encrypt", { try SessionCipher.encrypt(text, record: &records[party]) })
        else {
            fatalError("encrypting on an established session failed")
        }
        inboxes[1 - party].append(Sent(bytes: message.serialized, encType: message.encType, plaintext: text))
    }

    private mutating func deliver(to party: Int, _ reader: inout ScriptReader, tampered: Bool) {
        guard !inboxes[party].isEmpty else { return }
        let index = reader.argument() % inboxes[party].count
        var message = inboxes[party][index]
        let bytes = tampered ? tamper(message.bytes, &reader) : message.bytes
        let before = records[party]
        let plaintext = nilOnProtocolError("deliver \(message.encType)") {
            try receive(bytes, message.encType, party: party)
        }
        if plaintext == nil, records[party] != before { fatalError("a failed delivery changed the record") }
        // A pkmsg's outer fields (registration id, prekey ids) are not authenticated, so a tampered
        // pkmsg may still decrypt; it must then yield the original plaintext.
        settle(&message, plaintext: plaintext, tampered: tampered, strict: message.encType == "msg")
        inboxes[party][index] = message
    }

    private mutating func receive(_ bytes: [UInt8], _ encType: String, party: Int) throws -> [UInt8] {
        ratchetSeed += 1
        let ratchetKey = fuzzKeyPair(ratchetSeed)
        if encType == "pkmsg" {
            let message = try PreKeyWhisperMessage(serialized: bytes)
            // Only Alice sends pkmsg, so the receiver is Bob.
            return try SessionCipher.decrypt(
                message, record: &records[party], keys: SignalFuzzFixture.shared.bobKeys(for: message),
                newRatchetKey: { ratchetKey }
            ).plaintext
        }
        let message = try WhisperMessage(serialized: bytes)
        return try SessionCipher.decrypt(message, record: &records[party], newRatchetKey: { ratchetKey })
    }

    /// Messages sent and never delivered: the sending chain moves on without producing them.
    private mutating func loseMessages(of party: Int, count: Int) {
        guard var state = records[party].current, var chain = state.sendingChain else { return }
        let count = min(count, lossBudget - lost)
        lost += count
        for _ in 0..<count { chain.chainKey = chain.chainKey.next() }
        state.sendingChain = chain
        records[party].current = state
    }
}

// MARK: - Group

/// Alice's sender key and Bob's copy of it, from the fixture. Each step byte picks the action: Alice sends,
/// Bob receives the n-th message, receives it tampered, Alice loses messages, or both records round-trip.
struct GroupConversation {
    private var sender = SignalFuzzFixture.shared.aliceSenderKey
    private var receiver = SignalFuzzFixture.shared.bobSenderKey
    private var inbox: [Sent] = []
    private var lost = 0

    static func run(script: [UInt8]) {
        var conversation = GroupConversation()
        var reader = ScriptReader(script)
        for _ in 0..<maxSteps {
            guard let step = reader.next() else { return }
            conversation.perform(step, &reader)
        }
    }

    private mutating func perform(_ step: UInt8, _ reader: inout ScriptReader) {
        switch step % 5 {
        case 0:
            let text = plaintext(inbox.count, length: reader.argument())
            let nonce = SignalFuzzFixture.nonce(UInt8(truncatingIfNeeded: inbox.count))
            guard
                let message = nilOnProtocolError(
                    "group encrypt", { try GroupCipher.encrypt(text, record: &sender, signatureRandom: nonce) })
            else { fatalError("group encryption with our own sender key failed") }
            inbox.append(Sent(bytes: message.serialized, encType: "skmsg", plaintext: text))
        case 1, 2: deliver(&reader, tampered: step % 5 == 2)
        case 3:
            let count = min(reader.argument() * 4 + 1, lossBudget - lost)
            lost += count
            for _ in 0..<count { sender.states[0].chainKey = sender.states[0].chainKey.next() }
        default:
            checkRoundTrip(sender)
            checkRoundTrip(receiver)
        }
    }

    private mutating func deliver(_ reader: inout ScriptReader, tampered: Bool) {
        guard !inbox.isEmpty else { return }
        let index = reader.argument() % inbox.count
        var message = inbox[index]
        let bytes = tampered ? tamper(message.bytes, &reader) : message.bytes
        let before = receiver
        let plaintext = nilOnProtocolError("deliver skmsg") {
            try GroupCipher.decrypt(try SenderKeyMessage(serialized: bytes), record: &receiver)
        }
        if plaintext == nil, receiver != before { fatalError("a failed group delivery changed the record") }
        settle(&message, plaintext: plaintext, tampered: tampered, strict: true)
        inbox[index] = message
    }
}
