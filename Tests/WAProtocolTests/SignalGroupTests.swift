import Testing

@testable import WAProtocol

/// Group sender keys: distribution, encryption, decryption and their failure modes.
struct SignalGroupTests {
    private let group = "120363000000000000@g.us"

    /// Three members; each distributes its sender key to the other two (pairwise in real life).
    @Test func threeMembersExchangeGroupMessages() async throws {
        let members = [
            try await SignalTestParty(name: "alice"), try await SignalTestParty(name: "bob"),
            try await SignalTestParty(name: "carol"),
        ]
        for sender in members {
            let distribution = try await sender.signal.senderKeyDistributionMessage(
                group: group, sender: sender.address)
            for receiver in members where receiver.address != sender.address {
                try await receiver.signal.processSenderKeyDistribution(
                    distribution.serialized, group: group, sender: sender.address)
            }
        }
        for round in 0..<10 {
            for sender in members {
                let text = Array("\(sender.address.name) #\(round)".utf8)
                let message = try await sender.signal.groupEncrypt(text, group: group, sender: sender.address)
                #expect(message.iteration == UInt32(round))
                for receiver in members where receiver.address != sender.address {
                    #expect(
                        try await receiver.signal.groupDecrypt(message.serialized, group: group, sender: sender.address)
                            == text)
                }
            }
        }
    }

    @Test func distributionIsStableAndLateJoinersStartAtTheCurrentIteration() async throws {
        let alice = try await SignalTestParty(name: "alice")
        let bob = try await SignalTestParty(name: "bob")
        let first = try await alice.signal.senderKeyDistributionMessage(group: group, sender: alice.address)
        _ = try await alice.signal.groupEncrypt([1], group: group, sender: alice.address)
        _ = try await alice.signal.groupEncrypt([2], group: group, sender: alice.address)
        let second = try await alice.signal.senderKeyDistributionMessage(group: group, sender: alice.address)
        #expect(first.keyID == second.keyID)
        #expect(second.iteration == 2)
        try await bob.signal.processSenderKeyDistribution(second.serialized, group: group, sender: alice.address)
        let message = try await alice.signal.groupEncrypt([3], group: group, sender: alice.address)
        #expect(try await bob.signal.groupDecrypt(message.serialized, group: group, sender: alice.address) == [3])
    }

    @Test func outOfOrderDuplicateAndFarFutureIterations() throws {
        var sender = SenderKeyRecord()
        let distribution = try GroupCipher.distributionMessage(record: &sender)
        var receiver = SenderKeyRecord()
        GroupCipher.process(distribution, record: &receiver)
        let messages = try (0..<10).map { try GroupCipher.encrypt([UInt8($0)], record: &sender) }
        #expect(try GroupCipher.decrypt(messages[9], record: &receiver) == [9])
        #expect(try GroupCipher.decrypt(messages[4], record: &receiver) == [4])
        #expect(throwsSignal(.duplicateMessage) { _ = try GroupCipher.decrypt(messages[4], record: &receiver) })
        #expect(throwsSignal(.duplicateMessage) { _ = try GroupCipher.decrypt(messages[9], record: &receiver) })
        #expect(try GroupCipher.decrypt(messages[0], record: &receiver) == [0])

        for _ in 0...(SignalLimits.maxFutureMessages) { _ = try GroupCipher.encrypt([0], record: &sender) }
        let far = try GroupCipher.encrypt([1], record: &sender)
        #expect(throwsSignal(.tooFarInFuture) { _ = try GroupCipher.decrypt(far, record: &receiver) })
    }

    @Test func forgedSignatureAndUnknownKeyIDAreRefused() throws {
        var sender = SenderKeyRecord()
        let distribution = try GroupCipher.distributionMessage(record: &sender)
        var receiver = SenderKeyRecord()
        GroupCipher.process(distribution, record: &receiver)
        let message = try GroupCipher.encrypt(Array("hi".utf8), record: &sender)

        var forged = message.serialized
        forged[forged.count - 10] ^= 0x01
        #expect(
            throwsSignal(.invalidSignature) {
                _ = try GroupCipher.decrypt(try SenderKeyMessage(serialized: forged), record: &receiver)
            })
        var tamperedBody = message.serialized
        tamperedBody[tamperedBody.count - 70] ^= 0x01  // inside the ciphertext
        #expect(
            throwsSignal(.invalidSignature) {
                _ = try GroupCipher.decrypt(try SenderKeyMessage(serialized: tamperedBody), record: &receiver)
            })
        var stranger = SenderKeyRecord()
        _ = try GroupCipher.distributionMessage(record: &stranger)
        let unknown = try GroupCipher.encrypt([1], record: &stranger)
        #expect(throwsSignal(.noSenderKey) { _ = try GroupCipher.decrypt(unknown, record: &receiver) })
        // The genuine message still decrypts: the failures changed nothing.
        #expect(try GroupCipher.decrypt(message, record: &receiver) == Array("hi".utf8))
    }

    @Test func recordKeepsAtMostFiveStatesNewestFirst() throws {
        var receiver = SenderKeyRecord()
        var ids: [UInt32] = []
        for _ in 0..<7 {
            var sender = SenderKeyRecord()
            let distribution = try GroupCipher.distributionMessage(record: &sender)
            ids.append(distribution.keyID)
            GroupCipher.process(distribution, record: &receiver)
        }
        #expect(receiver.states.map(\.keyID) == Array(ids.reversed().prefix(SignalLimits.maxSenderKeyStates)))
        #expect(try SenderKeyRecord(serialized: receiver.serialized()) == receiver)
    }

    @Test func groupEncryptWithoutOwnKeyFails() async throws {
        let alice = try await SignalTestParty(name: "alice")
        #expect(
            await throwsSignal(.noSenderKey) {
                _ = try await alice.signal.groupEncrypt([1], group: group, sender: alice.address)
            })
        #expect(
            await throwsSignal(.noSenderKey) {
                _ = try await alice.signal.groupDecrypt(
                    signalHex("3308011000" + "1a10" + String(repeating: "00", count: 16)) + [UInt8](repeating: 0, count: 64),
                    group: group, sender: SignalAddress(name: "bob", deviceID: 0))
            })
    }
}
