import Reactor
import Testing

@testable import WAProtocol

/// Server certificate chain checks (ref part 1 §2.5) on the `cert.*` vectors and on chains issued here.
struct NoiseCertificateTests {
    static let chainBytes = NoiseHandshakeTests.certChain  // cert.chain
    static let testRoot = NoiseHandshakeTests.testRoot  // key.test-root.pub
    static let serverStatic = CryptoVectors.bytes("427265d836c915925b7db24ebb0e6be96b23a96d50dcfd9f9866aba150a5a50c")  // key.server-static.pub
    static let now = NoiseHandshakeTests.now

    @Test func vectorChainParsesAndVerifies() throws {
        let chain = try NoiseCertificateChain(serialized: Self.chainBytes)
        #expect(chain.serialized() == Self.chainBytes)
        // cert.intermediate.details / cert.leaf.details / the two signatures
        #expect(
            CryptoVectors.hex(chain.intermediate?.details ?? [])
                == "080110001a2092044e96eb6ecffa1fe2662e5506ed743a833d86ff79d7b07265d2567543e9732080e2cfaa062880a8d6b907"
        )
        #expect(
            CryptoVectors.hex(chain.leaf?.signature ?? [])
                == "970d76c82105b1b630e57d224d4832a720873eabffd89f6b007db9a5ad4bd394d7c02813a04a8869194e6ec72ad9f7ca4fb325d5e0ab2d4c9258e9a1336e8e0a"
        )
        let (leaf, intermediate) = try chain.verify(
            rootPublicKey: Self.testRoot, serverStaticKey: Self.serverStatic, now: Self.now)
        #expect(
            leaf
                == .init(
                    serial: 2, issuerSerial: 1, key: Self.serverStatic, notBefore: 1_700_000_000,
                    notAfter: 2_000_000_000))
        // key.test-intermediate.pub
        #expect(
            CryptoVectors.hex(intermediate.key) == "92044e96eb6ecffa1fe2662e5506ed743a833d86ff79d7b07265d2567543e973")
        #expect(intermediate.serial == 1 && intermediate.issuerSerial == 0)
    }

    @Test func testRootReissuesTheVectorChain() throws {
        #expect(NoiseCertificateChain.testRootPublicKey == Self.testRoot)
        let chain = try NoiseCertificateChain.issueTestChain(
            serverStaticKey: Self.serverStatic, notBefore: 1_700_000_000, notAfter: 2_000_000_000,
            random: (Crypto.sha512(Array("sig-intermediate".utf8)), Crypto.sha512(Array("sig-leaf".utf8))))
        #expect(chain.serialized() == Self.chainBytes)
    }

    @Test func everyFlippedByteIsRejected() throws {
        for index in Self.chainBytes.indices {
            var tampered = Self.chainBytes
            tampered[index] ^= 0x01
            var accepted = false
            if let chain = try? NoiseCertificateChain(serialized: tampered),
                (try? chain.verify(rootPublicKey: Self.testRoot, serverStaticKey: Self.serverStatic, now: Self.now))
                    != nil
            {
                accepted = true
            }
            #expect(!accepted, "flipping byte \(index) was accepted")
        }
    }

    @Test func wrongRootServerKeyOrTimeIsRejected() throws {
        let chain = try NoiseCertificateChain(serialized: Self.chainBytes)
        for (root, key, now) in [
            (NoiseCertificateChain.whatsAppRootPublicKey, Self.serverStatic, Self.now),
            (Self.testRoot, CryptoVectors.flipping(Self.serverStatic, bit: 0), Self.now),
            (Self.testRoot, Self.serverStatic, UInt64(1_699_999_999)),
            (Self.testRoot, Self.serverStatic, UInt64(2_000_000_001)),
        ] {
            let error = #expect(throws: ProtocolError.self) {
                try chain.verify(rootPublicKey: root, serverStaticKey: key, now: now)
            }
            #expect(error?.kind == .certificate)
        }
        var missing = chain
        missing.leaf = nil
        #expect(throws: ProtocolError.self) {
            try missing.verify(rootPublicKey: Self.testRoot, serverStaticKey: Self.serverStatic, now: Self.now)
        }
    }

    /// Issues a chain with the given details under a fresh root, and verifies it.
    static func verifyIssued(
        intermediate: (serial: UInt32, issuer: UInt32), leaf: (serial: UInt32, issuer: UInt32), leafKey: [UInt8]? = nil,
        serverKey: Crypto.X25519KeyPair, validity: (UInt64?, UInt64?) = (nil, nil), now: UInt64 = 100
    ) throws -> Bool {
        let root = try Crypto.x25519KeyPair()
        let intermediateKey = try Crypto.x25519KeyPair()
        let chain = try NoiseCertificateChain.issue(
            rootPrivateKey: root.privateKey,
            intermediate: .init(
                serial: intermediate.serial, issuerSerial: intermediate.issuer, key: intermediateKey.publicKey,
                notBefore: validity.0, notAfter: validity.1),
            intermediatePrivateKey: intermediateKey.privateKey,
            leaf: .init(
                serial: leaf.serial, issuerSerial: leaf.issuer, key: leafKey ?? serverKey.publicKey, notBefore: nil,
                notAfter: nil),
            random: (try Crypto.randomBytes(64), try Crypto.randomBytes(64)))
        let parsed = try NoiseCertificateChain(serialized: chain.serialized())
        return (try? parsed.verify(rootPublicKey: root.publicKey, serverStaticKey: serverKey.publicKey, now: now))
            != nil
    }

    @Test func serialsKeysAndValidityAreChecked() throws {
        let server = try Crypto.x25519KeyPair()
        #expect(try Self.verifyIssued(intermediate: (1, 0), leaf: (2, 1), serverKey: server))
        // Intermediate not issued by the root (issuer serial must be 0).
        #expect(try !Self.verifyIssued(intermediate: (1, 5), leaf: (2, 1), serverKey: server))
        // Leaf issued by a different serial than the intermediate's.
        #expect(try !Self.verifyIssued(intermediate: (1, 0), leaf: (2, 7), serverKey: server))
        // Leaf certifies another key (a replayed genuine chain).
        #expect(
            try !Self.verifyIssued(
                intermediate: (1, 0), leaf: (2, 1), leafKey: try Crypto.x25519KeyPair().publicKey, serverKey: server))
        // Validity is checked only where present; bounds are inclusive.
        #expect(
            try Self.verifyIssued(intermediate: (1, 0), leaf: (2, 1), serverKey: server, validity: (100, 100), now: 100)
        )
        #expect(
            try !Self.verifyIssued(
                intermediate: (1, 0), leaf: (2, 1), serverKey: server, validity: (101, nil), now: 100))
        #expect(
            try !Self.verifyIssued(intermediate: (1, 0), leaf: (2, 1), serverKey: server, validity: (nil, 99), now: 100)
        )
    }
}
