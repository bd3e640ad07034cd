import Testing

@testable import WAProtocol

/// Known-answer tests from protocol reference part 2, section 8 (vector names in the comments).
struct SignalVectorTests {
    // MARK: - V1–V3: the primitives as the Signal layer calls them

    /// V1 X25519 (libsignal test_agreement).
    @Test func x25519AgreementMatchesV1() throws {
        let alice = try SignalKeyPair(
            privateKey: signalHex("c806439dc9d2c476ffed8f2580c0888d58ab406bf7ae3698879021b96bb4bf59"))
        let bob = try SignalKeyPair(privateKey: signalHex("b03b34c33a1c44f225b662d2bf4859b8135411fa7b0386d45fb75dc5b91b4466"))
        #expect(alice.publicKey == signalHex("1bb75966f2e93a3691dfff942bb2a466a1c08b8d78ca3f4d6df8b8bfa2e4ee28"))
        #expect(bob.publicKey == signalHex("653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f"))
        let shared = signalHex("325f239328941ced6e673b86ba41017448e99b649a9c3806c1dd7ca4c477e629")
        #expect(try alice.agreement(with: bob.publicKey) == shared)
        #expect(try bob.agreement(with: alice.publicKey) == shared)
    }

    /// V2 XEdDSA verify (libsignal test_signature): valid, and any flipped bit is refused.
    @Test func xeddsaVerifiesV2AndRejectsFlippedBits() {
        let publicKey = signalHex("ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64")
        let message = signalHex("05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a")
        let signature = signalHex(
            "5de88ca9a89b4a115da79109c67c9c7464a3e4180274f1cb8c63c2984e286dfb"
                + "ede82deb9dcd9fae0bfbb821569b3d9001bd8130cd11d486cef047bd60b86e88")
        #expect(SignalCrypto.verify(publicKey: publicKey, message: message, signature: signature))
        for bit in stride(from: 0, to: 512, by: 7) {
            var flipped = signature
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(!SignalCrypto.verify(publicKey: publicKey, message: message, signature: flipped))
        }
    }

    /// V3 XEdDSA sign with Z = 64 zero bytes.
    @Test func xeddsaSignWithZeroRandomMatchesV3() throws {
        let identity = try SignalKeyPair(
            privateKey: signalHex("c097248412e58bf05df487968205132794178e367637f5818f81e0e6ce73e865"))
        let signature = try identity.sign(
            signalHex("05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a"),
            random: [UInt8](repeating: 0, count: 64))
        #expect(
            signature
                == signalHex(
                    "dc9f199e11e17e3a042feabf424bba17459786a669306ed52d3e8cebc80b6246"
                        + "72aad89212c67d478881dffdf0eb543b99265dd7cc595faf660be5d27c5a4887"))
    }

    // MARK: - V4: chain key

    /// V4 chain key (libsignal test_chain_key_derivation).
    @Test func chainKeyDerivationMatchesV4() {
        let chainKey = ChainKey(key: signalHex("8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f"), index: 0)
        let keys = chainKey.messageKeys()
        #expect(keys.cipherKey == signalHex("bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217"))
        #expect(keys.macKey == signalHex("c6c77d6a73a354337a56435e34607dfe48e3ace14e77314dc6abc172e7a7030b"))
        #expect(keys.iv == signalHex("afa8207986b692a116d4b40bbff72d6c"))
        #expect(keys.index == 0)
        let next = chainKey.next()
        #expect(next.key == signalHex("28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d"))
        #expect(next.index == 1)
    }

    // MARK: - V5: X3DH and the first pkmsg

    private struct V5 {
        let alice: SignalKeyPair  // IKa
        let base: SignalKeyPair  // EKa
        let ratchet: SignalKeyPair  // RKa
        let bob: SignalKeyPair  // IKb
        let signedPreKey: SignedPreKeyRecord  // SPKb, id 1
        let oneTimePreKey: PreKeyRecord  // OPKb, id 7

        init() throws {
            alice = try SignalKeyPair(
                privateKey: signalHex("e0e314557690c84928f27408502c8feece28b2cb96df00e8af8578c0a0f25248"))
            base = try SignalKeyPair(
                privateKey: signalHex("c8bb0b7ef1af473f8ac1c3e74a3e45c2a8c7c072f838fa9845650d1634c2d04c"))
            ratchet = try SignalKeyPair(
                privateKey: signalHex("68c3de37e6131f1a0d2a15cac7e78143e5517072c79bc02b1205a116111c9965"))
            bob = try SignalKeyPair(privateKey: signalHex("d8ee3f2d1ef84e0274befd20ff3cc3f170e9f3ded1c3dbd50ff0e304fa3aef7e"))
            signedPreKey = try SignedPreKeyRecord.generate(
                id: 1, identity: bob,
                keyPair: try SignalKeyPair(
                    privateKey: signalHex("180d326c8abb2f6be957a3d45afd28e7ef370de761c2fe7ab3e022a653f4137c")),
                signatureRandom: [UInt8](repeating: 0, count: 64))
            oneTimePreKey = PreKeyRecord(
                id: 7,
                keyPair: try SignalKeyPair(
                    privateKey: signalHex("e81c8138b9fd1527189bd2abc81dae8d9087d27f7f840454426d65b35b29e062")))
        }

        var bundle: PreKeyBundle {
            PreKeyBundle(
                registrationID: 1, deviceID: 0, preKeyID: 7, preKey: oneTimePreKey.keyPair.publicKey,
                signedPreKeyID: 1, signedPreKey: signedPreKey.keyPair.publicKey,
                signedPreKeySignature: signedPreKey.signature, identityKey: bob.publicKey)
        }
    }

    private static let v5PreKeyMessage = signalHex(
        """
        330807122105fbba3df1e6ac31c341b5de9c0c062030352774094e09cf6d2359
        a2067ee3fb511a2105c6ff3c6b54d635a736a66171a515e8626ffa99c8adff73
        181062879963a0821e2242330a21056ef949d586751c45b0d573a4669cbb078c
        b56583554d76460ed32692f57a741d10001800221033b24fb25a7bea90f6a3f1
        9415427d05008572433738242428b4243001
        """)

    /// V5: public keys, the SPKb signature, the four agreements and the derived root and chain keys.
    @Test func x3dhKeysMatchV5() throws {
        let v = try V5()
        #expect(v.alice.publicKey == signalHex("c6ff3c6b54d635a736a66171a515e8626ffa99c8adff73181062879963a0821e"))
        #expect(v.base.publicKey == signalHex("fbba3df1e6ac31c341b5de9c0c062030352774094e09cf6d2359a2067ee3fb51"))
        #expect(v.ratchet.publicKey == signalHex("6ef949d586751c45b0d573a4669cbb078cb56583554d76460ed32692f57a741d"))
        #expect(v.bob.publicKey == signalHex("bb055b76302a241444251c7ad6bf735847df72fa0c20ba32188caa19bf566e07"))
        #expect(
            v.signedPreKey.keyPair.publicKey == signalHex("0d00e05e6dc44cca2fa26791b6d0967328b32e8b71c2c612ac00f8b016daf166"))
        #expect(
            v.oneTimePreKey.keyPair.publicKey == signalHex("1f56432f319f8f8dea8b4ec903365ec9bbbe9ec93911a043f42a1d82c0e80b39")
        )
        #expect(
            v.signedPreKey.signature
                == signalHex(
                    "b321eec0d0c682d15f056ef0e43326f5c94bb348f642536ce2939363efa639c8"
                        + "8a29fe391f0a5b13a7a7c7be4d25568f65faaece7a1a5913fadb9d455e822984"))
        #expect(v.bundle.hasValidSignature)

        let dh1 = try v.alice.agreement(with: v.signedPreKey.keyPair.publicKey)
        let dh2 = try v.base.agreement(with: v.bob.publicKey)
        let dh3 = try v.base.agreement(with: v.signedPreKey.keyPair.publicKey)
        let dh4 = try v.base.agreement(with: v.oneTimePreKey.keyPair.publicKey)
        #expect(dh1 == signalHex("48975a4ba4286dbeac36f1a65e71068de0e7cbd2ad690b1431e575188a95c855"))
        #expect(dh2 == signalHex("0abbbd3d7a8edf242ec7c889f24f68738979da8ba3dee9166643d63a4cff937c"))
        #expect(dh3 == signalHex("76f47d26888056495ba022dda6ef5851210370e13bd7edb84ba0b7bc31fdc65e"))
        #expect(dh4 == signalHex("b4e34086dc3be0b0db93d5f37300d283070a28c5c0377e85bcb888a710850725"))
        let initial = RatchetKDF.initialKeys(agreements: [dh1, dh2, dh3, dh4])
        #expect(initial.rootKey == signalHex("8ed1fa2e3894804bc75538b84d05065c614f06081227073b563a5b98efd3c7e9"))
        #expect(initial.chainKey.key == signalHex("eb11cfb0eddb66a26771092937a529ee512378459f8e85cd0982919f4ca2e195"))

        let state = try SessionBuilder.initiate(
            with: v.bundle, local: .init(identityKeyPair: v.alice, registrationID: 0x1234), baseKey: v.base,
            ratchetKey: v.ratchet)
        // RK1
        #expect(state.rootKey == signalHex("3c98f83965af337abd8c237b5c6a886b1301cb4e8520b0ca5d2490ec5e9f785c"))
        let sending = try #require(state.sendingChain)
        // CKs0
        #expect(sending.chainKey.key == signalHex("c3a839f4f11e8f6aec261ad7ad20b366b2ce6de2c2ea046bd81d99b9e0b66443"))
        #expect(state.receivingChains.map(\.chainKey.key) == [initial.chainKey.key])
        #expect(
            SignalCrypto.hmac(key: sending.chainKey.key, [0x01])
                == signalHex("b99fe2fd4e2a8cf55fc55bac15ec9c3583e2bb81ffd5f02e8903c10d22f1850c"))
        // CKs1
        #expect(sending.chainKey.next().key == signalHex("0fc96ac17775d015c2477b975d7902aa812dce4dcecb4916495a48460c0c2a83"))
        let keys = sending.chainKey.messageKeys()
        #expect(keys.cipherKey == signalHex("c63828ff0032d837dcad5dadeb9e763bf182a9e894e2544e6bc8d1544a25e93e"))
        #expect(keys.macKey == signalHex("a74423600814ba53c1a2e57a0860873ba7b3b4e6e4a1e5f09cf5abb7afdcad80"))
        #expect(keys.iv == signalHex("c34bc70571de9cadf33e0f8aa2783ad4"))
    }

    /// V5: Alice's first message, Message{conversation:"Hello"} padded with n = 3, byte for byte.
    @Test func firstPreKeyMessageMatchesV5() throws {
        let v = try V5()
        var record = SessionRecord(
            current: try SessionBuilder.initiate(
                with: v.bundle, local: .init(identityKeyPair: v.alice, registrationID: 0x1234), baseKey: v.base,
                ratchetKey: v.ratchet))
        let padded = try MessagePadding.pad(signalHex("0a0548656c6c6f"), length: 3)
        #expect(padded == signalHex("0a0548656c6c6f030303"))
        let message = try SessionCipher.encrypt(padded, record: &record)
        #expect(message.encType == "pkmsg")
        #expect(message.serialized == Self.v5PreKeyMessage)
        guard case .preKey(let preKeyMessage) = message else { Issue.record("expected a pkmsg"); return }
        #expect(preKeyMessage.message.ciphertext == signalHex("33b24fb25a7bea90f6a3f19415427d05"))
        #expect(
            preKeyMessage.message.serialized
                == signalHex(
                    "330a21056ef949d586751c45b0d573a4669cbb078cb56583554d76460ed32692f5"
                        + "7a741d10001800221033b24fb25a7bea90f6a3f19415427d05" + "0085724337382424"))
    }

    /// V5 from Bob's side: the pkmsg decrypts to the padded plaintext and consumes prekey 7.
    @Test func bobDecryptsV5PreKeyMessage() throws {
        let v = try V5()
        let message = try PreKeyWhisperMessage(serialized: Self.v5PreKeyMessage)
        #expect(message.preKeyID == 7)
        #expect(message.signedPreKeyID == 1)
        #expect(message.registrationID == 4660)
        #expect(message.baseKey == v.base.publicKey)
        #expect(message.identityKey == v.alice.publicKey)
        var record = SessionRecord()
        let result = try SessionCipher.decrypt(
            message, record: &record,
            keys: .init(
                local: .init(identityKeyPair: v.bob, registrationID: 1), signedPreKey: v.signedPreKey,
                oneTimePreKey: v.oneTimePreKey))
        #expect(result.plaintext == signalHex("0a0548656c6c6f030303"))
        #expect(try MessagePadding.unpad(result.plaintext) == signalHex("0a0548656c6c6f"))
        #expect(result.consumedPreKeyID == 7)
        #expect(record.current?.remoteRegistrationID == 4660)
    }

    // MARK: - V6: sender keys

    private static let v6Distribution = signalHex(
        """
        3308c4e688890110001a20c761d7c260679aa961a6744e1c13385ca906816fea
        a8083b55fc8f5d5af244f922210570381fe20d8cf3b325d7118194c600d7a844
        bdacddfa1e11497e8adf3200975b
        """)
    private static let v6SenderKeyMessage = signalHex(
        """
        3308c4e688890110001a100a9039811a4f3c52688636a89c85c806d4b15589a2
        bcc05a35e4f8babd713d484d6911074bebd834c2bfc5ae418c513fee29fcc821
        5b1c44fd72fbac10c21a8bb92b0a2104de39820661315643161e00
        """)

    /// V6: distribution message, chain steps, message key and the signed skmsg.
    @Test func senderKeyMessagesMatchV6() throws {
        let chainKey = signalHex("c761d7c260679aa961a6744e1c13385ca906816feaa8083b55fc8f5d5af244f9")
        let signing = try SignalKeyPair(
            privateKey: signalHex("c81b96572bebeb1fd5a619a11595a67799d4bc202ec25386564837206cd53659"))
        #expect(signing.publicKey == signalHex("70381fe20d8cf3b325d7118194c600d7a844bdacddfa1e11497e8adf3200975b"))
        var record = SenderKeyRecord()
        let distribution = try GroupCipher.distributionMessage(
            record: &record, keyID: 0x1122_3344, chainKey: chainKey, signingKey: signing)
        #expect(distribution.serialized == Self.v6Distribution)

        let chain = SenderKeyState.ChainKey(iteration: 0, seed: chainKey)
        #expect(chain.messageSeed == signalHex("80aa098dda9810c20360a9668af7f00ba6eadbbd2f3a2d0fc50e5d9ca355b4e0"))
        #expect(chain.next().seed == signalHex("0a8412984effd429085efb142011bd6c43cd1ccbbadb4f1533920667cdee14e5"))
        let derived = SenderKeyState.MessageKey(iteration: 0, seed: chain.messageSeed).derived
        #expect(derived.iv == signalHex("e08f571f8a7e15d5290cc76e2719fe60"))
        #expect(derived.cipherKey == signalHex("63ea270417eea3010a3533863d08008f1600aa8daf3658d495a797491290c068"))

        let plaintext = signalHex("0a0848692067726f757001")  // Message{conversation:"Hi group"} + padding n = 1
        let message = try GroupCipher.encrypt(
            plaintext, record: &record, signatureRandom: [UInt8](repeating: 0, count: 64))
        #expect(message.ciphertext == signalHex("0a9039811a4f3c52688636a89c85c806"))
        #expect(message.serialized == Self.v6SenderKeyMessage)
        #expect(record.states.first?.chainKey.iteration == 1)

        var receiver = SenderKeyRecord()
        GroupCipher.process(try SenderKeyDistributionMessage(serialized: Self.v6Distribution), record: &receiver)
        #expect(
            try GroupCipher.decrypt(SenderKeyMessage(serialized: Self.v6SenderKeyMessage), record: &receiver)
                == plaintext)
    }

    // MARK: - V12: padding

    /// V12: n = 3 padding; unpad strips it; a trailing `…0302` is refused.
    @Test func paddingMatchesV12() throws {
        #expect(try MessagePadding.pad(signalHex("0a0548656c6c6f"), length: 3) == signalHex("0a0548656c6c6f030303"))
        #expect(try MessagePadding.unpad(signalHex("0a0548656c6c6f030303")) == signalHex("0a0548656c6c6f"))
        #expect(throwsSignal(.malformedMessage) { _ = try MessagePadding.unpad(signalHex("0a0548656c6c6f0302")) })
        #expect(throwsSignal(.malformedMessage) { _ = try MessagePadding.unpad([]) })
        #expect(throwsSignal(.malformedMessage) { _ = try MessagePadding.unpad([0x00]) })
        #expect(throwsSignal(.malformedMessage) { _ = try MessagePadding.unpad([0x01, 0x05]) })
    }

    @Test func randomPaddingIsOneToSixteenAndRoundTrips() throws {
        for _ in 0..<64 {
            let padded = try MessagePadding.pad([1, 2, 3])
            #expect((4...19).contains(padded.count))
            #expect(try MessagePadding.unpad(padded) == [1, 2, 3])
        }
    }
}
