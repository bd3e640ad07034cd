import Testing

@testable import Reactor

/// libsignal-flavoured XEdDSA (ref part 2 §1.2): upstream vectors (part 2 §8.2 V2/V3, §8.3 V5) and the
/// signatures of ref part 1 §7.4–7.5, re-made with their fixed nonces.
struct XEdDSATests {
    // part 2 §8.2 V2 (libsignal test_signature)
    static let identityPrivate = CryptoVectors.bytes("c097248412e58bf05df487968205132794178e367637f5818f81e0e6ce73e865")
    static let identityPublic = CryptoVectors.bytes("ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64")
    static let message = CryptoVectors.bytes("05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a")
    static let signature = CryptoVectors.bytes(
        "5de88ca9a89b4a115da79109c67c9c7464a3e4180274f1cb8c63c2984e286dfbede82deb9dcd9fae0bfbb821569b3d9001bd8130cd11d486cef047bd60b86e88"
    )

    static func z(_ label: String) -> [UInt8] { Crypto.sha512(Array(label.utf8)) }

    @Test func libsignalVectorVerifiesAndEveryBitFlipFails() {
        #expect(Crypto.xeddsaVerify(publicKey: Self.identityPublic, message: Self.message, signature: Self.signature))
        for bit in 0..<512 {
            #expect(
                !Crypto.xeddsaVerify(
                    publicKey: Self.identityPublic, message: Self.message,
                    signature: CryptoVectors.flipping(Self.signature, bit: bit)))
        }
        for bit in 0..<(Self.message.count * 8) {
            #expect(
                !Crypto.xeddsaVerify(
                    publicKey: Self.identityPublic, message: CryptoVectors.flipping(Self.message, bit: bit),
                    signature: Self.signature))
        }
        #expect(
            !Crypto.xeddsaVerify(
                publicKey: Self.identityPublic, message: Self.message, signature: Array(Self.signature.prefix(63))))
    }

    @Test func deterministicSignaturesMatchVectors() throws {
        // part 2 §8.2 V3: Z = 00×64.
        let zeros = [UInt8](repeating: 0, count: 64)
        #expect(
            CryptoVectors.hex(
                try Crypto.xeddsaSign(privateKey: Self.identityPrivate, message: Self.message, random: zeros))
                == "dc9f199e11e17e3a042feabf424bba17459786a669306ed52d3e8cebc80b624672aad89212c67d478881dffdf0eb543b99265dd7cc595faf660be5d27c5a4887"
        )
        // part 2 §8.3 V5: SPKb signature = XEdDSA(IKb, 05‖SPKb pub, Z = 00×64).
        let bobIdentity = CryptoVectors.bytes("d8ee3f2d1ef84e0274befd20ff3cc3f170e9f3ded1c3dbd50ff0e304fa3aef7e")
        let bobSignedPreKey = CryptoVectors.bytes("0d00e05e6dc44cca2fa26791b6d0967328b32e8b71c2c612ac00f8b016daf166")
        #expect(
            CryptoVectors.hex(
                try Crypto.xeddsaSign(privateKey: bobIdentity, message: [5] + bobSignedPreKey, random: zeros))
                == "b321eec0d0c682d15f056ef0e43326f5c94bb348f642536ce2939363efa639c88a29fe391f0a5b13a7a7c7be4d25568f65faaece7a1a5913fadb9d455e822984"
        )
        // payload.signedPreKeySignature: client identity over 05‖spk.pub, Z = SHA-512("sig-spk").
        let clientIdentity = CryptoVectors.bytes("30540783e788824fd7783d659090ea6a1314717fd4ce1b55f1f555a7c0832471")
        let clientSignedPreKey = CryptoVectors.bytes("18e292ece6c97fcc0b0a39d3a8e496141f4e34f3a48ca9b483d56a0874f5700f")
        #expect(
            CryptoVectors.hex(
                try Crypto.xeddsaSign(
                    privateKey: clientIdentity, message: [5] + clientSignedPreKey, random: Self.z("sig-spk")))
                == "4b348cdeb719f22b5bad8acb2cef55ad75a2a90837326ebe7f4c81eb0a2407f49d5e4715c0c1efbac95b9fa1112e50bce46ee20f25b97f0608f12f9f851ab20f"
        )
        // cert.intermediate.signature (by key.test-root, Z = SHA-512("sig-intermediate")) and cert.leaf.signature.
        let root = CryptoVectors.bytes("e8daa1fd6a7de98d1b3c23a3b7660a223b5a8f447220f8211677936e580af842")
        let intermediate = CryptoVectors.bytes("784117521c0f60bc9caa895aeaf3adbb4562f03edf86ddb78046023773e20271")
        let intermediateDetails = CryptoVectors.bytes(
            "080110001a2092044e96eb6ecffa1fe2662e5506ed743a833d86ff79d7b07265d2567543e9732080e2cfaa062880a8d6b907")
        let leafDetails = CryptoVectors.bytes(
            "080210011a20427265d836c915925b7db24ebb0e6be96b23a96d50dcfd9f9866aba150a5a50c2080e2cfaa062880a8d6b907")
        #expect(
            CryptoVectors.hex(
                try Crypto.xeddsaSign(
                    privateKey: root, message: intermediateDetails, random: Self.z("sig-intermediate")))
                == "014733e7b4c9de9afbeb990ce8e6e3c05111fe2046c1ab2b0749142b01f6ad6d8e578e878a38f113a554e99e270dbd044924d61be20e19a5a20f0ff1b123368a"
        )
        #expect(
            CryptoVectors.hex(
                try Crypto.xeddsaSign(privateKey: intermediate, message: leafDetails, random: Self.z("sig-leaf")))
                == "970d76c82105b1b630e57d224d4832a720873eabffd89f6b007db9a5ad4bd394d7c02813a04a8869194e6ec72ad9f7ca4fb325d5e0ab2d4c9258e9a1336e8e0a"
        )
    }

    @Test(arguments: 0..<24) func randomSignaturesVerifyHereAndAsPlainEd25519(seed: Int) throws {
        let pair = try Crypto.x25519KeyPair()
        let message = CryptoVectors.pseudoRandom(count: seed * 13, seed: UInt64(seed + 100))
        let signature = try Crypto.xeddsaSign(
            privateKey: pair.privateKey, message: message, random: try Crypto.randomBytes(64))
        #expect(Crypto.xeddsaVerify(publicKey: pair.publicKey, message: message, signature: signature))
        // The converted Montgomery key, with the sign bit the signature carries, is exactly A = a·B …
        let edwards = try #require(Crypto.edwardsPublicKey(montgomery: pair.publicKey, signBit: signature[63] & 0x80))
        #expect(edwards == (try Crypto.edwardsPublicKey(privateKey: pair.privateKey)))
        // … and the signature with that bit cleared is a standard Ed25519 signature under it.
        var standard = signature
        standard[63] &= 0x7F
        #expect(Crypto.ed25519Verify(publicKey: edwards, message: message, signature: standard))
        #expect(!Crypto.xeddsaVerify(publicKey: pair.publicKey, message: message + [0], signature: signature))
        #expect(
            !Crypto.xeddsaVerify(
                publicKey: pair.publicKey, message: message,
                signature: CryptoVectors.flipping(signature, bit: seed * 21)))
        let other = try Crypto.x25519KeyPair()
        #expect(!Crypto.xeddsaVerify(publicKey: other.publicKey, message: message, signature: signature))
    }

    @Test func degenerateInputsAreRejected() throws {
        // u = −1 (p − 1) has no Edwards image.
        var minusOne = [UInt8](repeating: 0xff, count: 32)
        minusOne[0] = 0xec
        minusOne[31] = 0x7f
        #expect(Crypto.edwardsPublicKey(montgomery: minusOne, signBit: 0) == nil)
        #expect(!Crypto.xeddsaVerify(publicKey: minusOne, message: Self.message, signature: Self.signature))
        // An S with any of bits 253–254 set is not reduced.
        var bigS = Self.signature
        bigS[63] |= 0x40
        #expect(!Crypto.xeddsaVerify(publicKey: Self.identityPublic, message: Self.message, signature: bigS))
        #expect(throws: ReactorError.self) {
            try Crypto.xeddsaSign(privateKey: Self.identityPrivate, message: [1], random: [0])
        }
        // Signing clamps: an unclamped key signs like its clamped form.
        var unclamped = Self.identityPrivate
        unclamped[0] |= 7
        unclamped[31] |= 0x80
        let zeros = [UInt8](repeating: 0, count: 64)
        #expect(
            try Crypto.xeddsaSign(privateKey: unclamped, message: Self.message, random: zeros)
                == Crypto.xeddsaSign(privateKey: Self.identityPrivate, message: Self.message, random: zeros))
    }
}
