import Foundation
import Reactor
import WAProtocol

/// A simulated primary phone as a Signal participant: it publishes a bundle, decrypts what
/// companions send it and encrypts what it sends them (reactor thread only; records in memory).
///
/// The identity key is the account's identity, which is also the account signature key its
/// companions learned at pairing (reference part 2, 1.5).
final class PhoneSignal {
    /// One-time prekeys kept available; refilled when handed out.
    static let preKeyStock = 20

    let identity: SignalKeyPair
    let registrationID: UInt32
    let signedPreKey: SignedPreKeyRecord
    private(set) var preKeys: [UInt32: PreKeyRecord] = [:]
    private var nextPreKeyID: UInt32 = 1
    private var sessions: [SignalAddress: WAProtocol.SessionRecord] = [:]
    private var identities: [SignalAddress: [UInt8]] = [:]
    /// Every one-time prekey ever issued, so a test can hand a captured `pkmsg` and the keys it
    /// needs to an independent Signal implementation.
    private(set) var issuedPreKeys: [UInt32: PreKeyRecord] = [:]

    init(identityPrivateKey: [UInt8]) throws {
        identity = try SignalKeyPair(privateKey: identityPrivateKey)
        registrationID = try RegistrationID.generate()
        signedPreKey = try SignedPreKeyRecord.generate(id: 1, identity: identity, timestamp: unixNow())
        try refill()
    }

    private func refill() throws {
        let fresh = try PreKeyRecord.generate(start: nextPreKeyID, count: Self.preKeyStock - preKeys.count)
        for key in fresh {
            preKeys[key.id] = key
            issuedPreKeys[key.id] = key
        }
        nextPreKeyID = (fresh.last?.id ?? nextPreKeyID) % SignalLimits.maxPreKeyID + 1
    }

    /// This phone's bundle for a prekey fetch, handing out (and forgetting) one one-time prekey.
    func takeBundle() throws -> PreKeyBundle {
        let oneTime = preKeys.keys.min().flatMap { preKeys.removeValue(forKey: $0) }
        if preKeys.isEmpty { try refill() }
        return PreKeyBundle(
            registrationID: registrationID, deviceID: 0, preKeyID: oneTime?.id, preKey: oneTime?.keyPair.publicKey,
            signedPreKeyID: signedPreKey.id, signedPreKey: signedPreKey.keyPair.publicKey,
            signedPreKeySignature: signedPreKey.signature, identityKey: identity.publicKey)
    }

    var local: SessionBuilder.LocalIdentity {
        SessionBuilder.LocalIdentity(identityKeyPair: identity, registrationID: registrationID)
    }

    func hasSession(with address: SignalAddress) -> Bool { sessions[address]?.current != nil }

    /// Drops the session with `address` (a retry receipt asked for a fresh one).
    func forgetSession(with address: SignalAddress) { sessions[address] = nil }

    /// Drops every session (as if the phone were restored from an old backup).
    func forgetAllSessions() { sessions.removeAll() }

    /// Starts a session from a companion's uploaded bundle.
    func startSession(with address: SignalAddress, bundle: PreKeyBundle) throws {
        var record = sessions[address] ?? WAProtocol.SessionRecord()
        record.promote(try SessionBuilder.initiate(with: bundle, local: local))
        sessions[address] = record
        identities[address] = bundle.identityKey
    }

    /// Encrypts an already padded plaintext for `address`.
    func encrypt(_ padded: [UInt8], for address: SignalAddress) throws -> CiphertextMessage {
        guard var record = sessions[address] else { throw ProtocolError.signalNoSession("no session with \(address)") }
        let message = try SessionCipher.encrypt(padded, record: &record)
        sessions[address] = record
        return message
    }

    /// Decrypts a `msg` or `pkmsg` from `address`; the result is still padded.
    func decrypt(encType: String, _ bytes: [UInt8], from address: SignalAddress) throws -> [UInt8] {
        switch encType {
        case "msg":
            guard var record = sessions[address] else { throw ProtocolError.signalNoSession("no session with \(address)") }
            let plaintext = try SessionCipher.decrypt(try WhisperMessage(serialized: bytes), record: &record)
            sessions[address] = record
            return plaintext
        case "pkmsg":
            let message = try PreKeyWhisperMessage(serialized: bytes)
            var record = sessions[address] ?? WAProtocol.SessionRecord()
            if let known = identities[address], known != message.identityKey { record = WAProtocol.SessionRecord() }
            let keys = SessionCipher.ResponderKeys(
                local: local, signedPreKey: signedPreKey, oneTimePreKey: message.preKeyID.flatMap { issuedPreKeys[$0] })
            let result = try SessionCipher.decrypt(message, record: &record, keys: keys)
            sessions[address] = record
            identities[address] = message.identityKey
            if let used = result.consumedPreKeyID { preKeys[used] = nil }
            return result.plaintext
        default:
            throw ProtocolError.signalMalformed("unknown pairwise enc type \(encType)")
        }
    }
}
