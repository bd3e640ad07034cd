import Testing

@testable import WAProtocol

/// Pairwise sessions end to end through `SignalProtocol` and the in-memory store.
struct SignalSessionTests {
    /// Alice starts a session from Bob's bundle and sends the first message.
    private func establish() async throws -> (alice: SignalTestParty, bob: SignalTestParty) {
        let alice = try await SignalTestParty(name: "alice", registrationID: 111)
        let bob = try await SignalTestParty(name: "bob", registrationID: 222)
        try await alice.signal.processBundle(bob.bundle(), for: bob.address)
        let first = try await alice.signal.encrypt(Array("hello bob".utf8), for: bob.address)
        #expect(first.encType == "pkmsg")
        let plaintext = try await bob.signal.decrypt(encType: first.encType, first.serialized, from: alice.address)
        #expect(plaintext == Array("hello bob".utf8))
        return (alice, bob)
    }

    @Test func manyMessagesBothDirections() async throws {
        let (alice, bob) = try await establish()
        #expect(await bob.store.preKeyCount == 4)  // one one-time prekey consumed
        for round in 0..<20 {
            // Uneven bursts so both sides step the DH ratchet with non-zero previous counters.
            for index in 0..<(round % 3 + 1) {
                let text = Array("b→a \(round).\(index)".utf8)
                let message = try await bob.signal.encrypt(text, for: alice.address)
                #expect(message.encType == "msg")
                #expect(try await alice.signal.decrypt(encType: "msg", message.serialized, from: bob.address) == text)
            }
            for index in 0..<(round % 4 + 1) {
                let text = Array("a→b \(round).\(index)".utf8)
                let message = try await alice.signal.encrypt(text, for: bob.address)
                // Once Bob has answered, Alice stops sending pkmsg.
                #expect(message.encType == "msg")
                #expect(
                    try await bob.signal.decrypt(encType: message.encType, message.serialized, from: alice.address)
                        == text)
            }
        }
    }

    @Test func initiatorKeepsSendingPreKeyMessagesUntilAnswered() async throws {
        let (alice, bob) = try await establish()
        let second = try await alice.signal.encrypt([1], for: bob.address)
        #expect(second.encType == "pkmsg")
        #expect(try await bob.signal.decrypt(encType: "pkmsg", second.serialized, from: alice.address) == [1])
        // Same base key: no second prekey is consumed.
        #expect(await bob.store.preKeyCount == 4)
        let reply = try await bob.signal.encrypt([2], for: alice.address)
        #expect(try await alice.signal.decrypt(encType: "msg", reply.serialized, from: bob.address) == [2])
        #expect(try await alice.signal.encrypt([3], for: bob.address).encType == "msg")
    }

    @Test func outOfOrderDeliveryWithinTheBound() async throws {
        let (alice, bob) = try await establish()
        let reply = try await bob.signal.encrypt([0], for: alice.address)
        _ = try await alice.signal.decrypt(encType: "msg", reply.serialized, from: bob.address)

        var messages: [(Int, [UInt8])] = []
        for index in 0..<50 {
            messages.append((index, try await alice.signal.encrypt([UInt8(index)], for: bob.address).serialized))
        }
        // Deliver the newest first, then the rest in a scrambled order.
        var order = messages.reversed().map { $0 }
        order.swapAt(3, 40)
        order.swapAt(10, 20)
        for (index, bytes) in order {
            #expect(try await bob.signal.decrypt(encType: "msg", bytes, from: alice.address) == [UInt8(index)])
        }
    }

    @Test func skippedKeysSurviveADHRatchetStep() async throws {
        let (alice, bob) = try await establish()
        let late = try await alice.signal.encrypt([7], for: bob.address)  // still pkmsg, delivered last
        let reply = try await bob.signal.encrypt([8], for: alice.address)
        _ = try await alice.signal.decrypt(encType: "msg", reply.serialized, from: bob.address)
        let next = try await alice.signal.encrypt([9], for: bob.address)  // new ratchet key
        #expect(try await bob.signal.decrypt(encType: "msg", next.serialized, from: alice.address) == [9])
        #expect(try await bob.signal.decrypt(encType: late.encType, late.serialized, from: alice.address) == [7])
    }

    @Test func replayIsRefusedAsDuplicate() async throws {
        let (alice, bob) = try await establish()
        let reply = try await bob.signal.encrypt([1], for: alice.address)
        _ = try await alice.signal.decrypt(encType: "msg", reply.serialized, from: bob.address)
        let message = try await alice.signal.encrypt([2], for: bob.address)
        _ = try await bob.signal.decrypt(encType: "msg", message.serialized, from: alice.address)
        #expect(
            await throwsSignal(.duplicateMessage) {
                _ = try await bob.signal.decrypt(encType: "msg", message.serialized, from: alice.address)
            })
        // A skipped key is also single-use.
        let skipped = try await alice.signal.encrypt([3], for: bob.address)
        let after = try await alice.signal.encrypt([4], for: bob.address)
        _ = try await bob.signal.decrypt(encType: "msg", after.serialized, from: alice.address)
        _ = try await bob.signal.decrypt(encType: "msg", skipped.serialized, from: alice.address)
        #expect(
            await throwsSignal(.duplicateMessage) {
                _ = try await bob.signal.decrypt(encType: "msg", skipped.serialized, from: alice.address)
            })
    }

    @Test func counterBeyondTheFutureBoundIsRefused() async throws {
        let (alice, bob) = try await establish()
        let reply = try await bob.signal.encrypt([1], for: alice.address)
        _ = try await alice.signal.decrypt(encType: "msg", reply.serialized, from: bob.address)
        var last: CiphertextMessage?
        for _ in 0...(SignalLimits.maxFutureMessages + 1) {
            last = try await alice.signal.encrypt([5], for: bob.address)
        }
        let tooFar = try #require(last)
        #expect(
            await throwsSignal(.tooFarInFuture) {
                _ = try await bob.signal.decrypt(encType: "msg", tooFar.serialized, from: alice.address)
            })
        // The refused message left the session usable.
        let fresh = try await bob.signal.encrypt([6], for: alice.address)
        #expect(try await alice.signal.decrypt(encType: "msg", fresh.serialized, from: bob.address) == [6])
    }

    @Test func skippedKeyStoreIsBounded() throws {
        let alice = try SignalKeyPair.generate()
        let bobIdentity = try SignalKeyPair.generate()
        let signedPreKey = try SignedPreKeyRecord.generate(id: 1, identity: bobIdentity)
        let bundle = PreKeyBundle(
            registrationID: 2, deviceID: 1, preKeyID: nil, preKey: nil, signedPreKeyID: 1,
            signedPreKey: signedPreKey.keyPair.publicKey, signedPreKeySignature: signedPreKey.signature,
            identityKey: bobIdentity.publicKey)
        var aliceRecord = SessionRecord(
            current: try SessionBuilder.initiate(with: bundle, local: .init(identityKeyPair: alice, registrationID: 1)))
        var bobRecord = SessionRecord()
        let bobKeys = SessionCipher.ResponderKeys(
            local: .init(identityKeyPair: bobIdentity, registrationID: 2), signedPreKey: signedPreKey,
            oneTimePreKey: nil)

        var pending: [PreKeyWhisperMessage] = []
        for _ in 0..<1500 {
            guard case .preKey(let message) = try SessionCipher.encrypt([1], record: &aliceRecord) else {
                Issue.record("expected pkmsg")
                return
            }
            pending.append(message)
        }
        // Deliver the last of each 1500-message burst only: each skips 1499 keys.
        _ = try SessionCipher.decrypt(pending[1499], record: &bobRecord, keys: bobKeys)
        #expect(bobRecord.current?.skippedKeyCount == 1499)
        for _ in 0..<1500 { _ = try SessionCipher.encrypt([2], record: &aliceRecord) }
        guard case .preKey(let far) = try SessionCipher.encrypt([3], record: &aliceRecord) else { return }
        _ = try SessionCipher.decrypt(far, record: &bobRecord, keys: bobKeys)
        #expect(bobRecord.current?.skippedKeyCount == SignalLimits.maxSkippedKeys)
        // The oldest skipped keys were dropped: message 0 can no longer be decrypted.
        #expect(
            throwsSignal(.duplicateMessage) {
                _ = try SessionCipher.decrypt(pending[0], record: &bobRecord, keys: bobKeys)
            })
        #expect(try SessionCipher.decrypt(pending[1498], record: &bobRecord, keys: bobKeys).plaintext == [1])
    }

    @Test func tamperedMACIsRefusedAndStateUnchanged() async throws {
        let (alice, bob) = try await establish()
        let reply = try await bob.signal.encrypt([1], for: alice.address)
        _ = try await alice.signal.decrypt(encType: "msg", reply.serialized, from: bob.address)
        let message = try await alice.signal.encrypt(Array("secret".utf8), for: bob.address)
        let before = try await bob.store.loadSession(for: alice.address)
        for position in [message.serialized.count - 1, message.serialized.count - 8, 40] {
            var tampered = message.serialized
            tampered[position] ^= 0x01
            let failed = await throwsSignal(.invalidMAC) {
                _ = try await bob.signal.decrypt(encType: "msg", tampered, from: alice.address)
            }
            let refusedOtherwise = await throwsSignal(.malformedMessage) {
                _ = try await bob.signal.decrypt(encType: "msg", tampered, from: alice.address)
            }
            #expect(failed || refusedOtherwise)
        }
        #expect(try await bob.store.loadSession(for: alice.address) == before)
        #expect(
            try await bob.signal.decrypt(encType: "msg", message.serialized, from: alice.address)
                == Array("secret".utf8))
    }

    @Test func bundleWithBadSignatureIsRefused() async throws {
        let alice = try await SignalTestParty(name: "alice")
        let bob = try await SignalTestParty(name: "bob")
        let good = bob.bundle()
        var signature = good.signedPreKeySignature
        signature[5] ^= 0x40
        let bad = PreKeyBundle(
            registrationID: good.registrationID, deviceID: good.deviceID, preKeyID: good.preKeyID, preKey: good.preKey,
            signedPreKeyID: good.signedPreKeyID, signedPreKey: good.signedPreKey, signedPreKeySignature: signature,
            identityKey: good.identityKey)
        #expect(await throwsSignal(.invalidSignature) { try await alice.signal.processBundle(bad, for: bob.address) })
        #expect(try await !alice.signal.hasSession(for: bob.address))
    }

    @Test func preKeyMessageNamingAnUnknownPreKeyIsRefused() async throws {
        let alice = try await SignalTestParty(name: "alice")
        let bob = try await SignalTestParty(name: "bob")
        try await alice.signal.processBundle(bob.bundle(preKeyIndex: 2), for: bob.address)
        await bob.store.removePreKey(id: bob.preKeys[2].id)
        let message = try await alice.signal.encrypt([1], for: bob.address)
        #expect(
            await throwsSignal(.missingPreKey) {
                _ = try await bob.signal.decrypt(encType: "pkmsg", message.serialized, from: alice.address)
            })
        #expect(try await !bob.signal.hasSession(for: alice.address))
    }

    @Test func sessionWithoutOneTimePreKeyWorks() async throws {
        let alice = try await SignalTestParty(name: "alice")
        let bob = try await SignalTestParty(name: "bob")
        try await alice.signal.processBundle(bob.bundle(preKeyIndex: nil), for: bob.address)
        let message = try await alice.signal.encrypt([42], for: bob.address)
        #expect(try PreKeyWhisperMessage(serialized: message.serialized).preKeyID == nil)
        #expect(try await bob.signal.decrypt(encType: "pkmsg", message.serialized, from: alice.address) == [42])
        #expect(await bob.store.preKeyCount == 5)
    }

    @Test func simultaneousInitiationFallsBackToArchivedState() async throws {
        let alice = try await SignalTestParty(name: "alice")
        let bob = try await SignalTestParty(name: "bob")
        try await alice.signal.processBundle(bob.bundle(preKeyIndex: 0), for: bob.address)
        try await bob.signal.processBundle(alice.bundle(preKeyIndex: 0), for: alice.address)
        let fromAlice = try await alice.signal.encrypt([1], for: bob.address)
        let fromBob = try await bob.signal.encrypt([2], for: alice.address)
        #expect(try await bob.signal.decrypt(encType: "pkmsg", fromAlice.serialized, from: alice.address) == [1])
        #expect(try await alice.signal.decrypt(encType: "pkmsg", fromBob.serialized, from: bob.address) == [2])
        // Each side now uses the other's session as current; messages on the archived one still decrypt.
        let again = try await alice.signal.encrypt([3], for: bob.address)
        #expect(try await bob.signal.decrypt(encType: again.encType, again.serialized, from: alice.address) == [3])
    }

    @Test func changedIdentityReplacesTheSession() async throws {
        let (alice, bob) = try await establish()
        // Alice reinstalls: new identity, new session from Bob's next bundle.
        let reinstalled = try await SignalTestParty(name: "alice", registrationID: 999)
        try await reinstalled.signal.processBundle(bob.bundle(preKeyIndex: 1), for: bob.address)
        let message = try await reinstalled.signal.encrypt([5], for: bob.address)
        #expect(try await bob.signal.decrypt(encType: "pkmsg", message.serialized, from: alice.address) == [5])
        #expect(await bob.store.identity(for: alice.address) == reinstalled.identity.publicKey)
        let record = try #require(try await bob.store.loadSession(for: alice.address))
        #expect(record.archivedCount == 0)
        #expect(record.current?.remoteRegistrationID == 999)
    }

    @Test func untrustedIdentityIsRefusedWhenTheStoreSaysSo() async throws {
        let bobIdentity = try SignalKeyPair.generate()
        let strict = InMemorySignalStore(identity: bobIdentity, registrationID: 5, acceptsChangedIdentities: false)
        let address = SignalAddress(name: "alice", deviceID: 1)
        let earlierIdentity = try SignalKeyPair.generate()
        await strict.saveIdentity(earlierIdentity.publicKey, for: address)
        let alice = try await SignalTestParty(name: "alice")
        let signedPreKey = try SignedPreKeyRecord.generate(id: 1, identity: bobIdentity)
        try await strict.storeSignedPreKey(signedPreKey)
        let bundle = PreKeyBundle(
            registrationID: 5, deviceID: 1, preKeyID: nil, preKey: nil, signedPreKeyID: 1,
            signedPreKey: signedPreKey.keyPair.publicKey, signedPreKeySignature: signedPreKey.signature,
            identityKey: bobIdentity.publicKey)
        try await alice.signal.processBundle(bundle, for: SignalAddress(name: "bob", deviceID: 1))
        let message = try await alice.signal.encrypt([1], for: SignalAddress(name: "bob", deviceID: 1))
        #expect(
            await throwsSignal(.untrustedIdentity) {
                _ = try await SignalProtocol(store: strict).decrypt(encType: "pkmsg", message.serialized, from: address)
            })
    }

    @Test func recordsSurviveSerialization() async throws {
        let (alice, bob) = try await establish()
        for index in 0..<5 {
            let message = try await bob.signal.encrypt([UInt8(index)], for: alice.address)
            if index != 2 { _ = try await alice.signal.decrypt(encType: "msg", message.serialized, from: bob.address) }
        }
        let record = try #require(try await alice.store.loadSession(for: bob.address))
        #expect(record.current?.skippedKeyCount == 1)
        #expect(try SessionRecord(serialized: record.serialized()) == record)
        let signed = bob.signedPreKey
        #expect(try SignedPreKeyRecord(serialized: signed.serialized()) == signed)
        #expect(try PreKeyRecord(serialized: bob.preKeys[0].serialized()) == bob.preKeys[0])
        #expect(try SignalKeyPair(serializedIdentity: bob.identity.serializedIdentity()) == bob.identity)
        for _ in 0..<100 { #expect((1...16380).contains(try RegistrationID.generate())) }
    }

    @Test func encryptWithoutSessionFails() async throws {
        let alice = try await SignalTestParty(name: "alice")
        #expect(
            await throwsSignal(.noSession) {
                _ = try await alice.signal.encrypt([1], for: SignalAddress(name: "nobody", deviceID: 0))
            })
    }
}
