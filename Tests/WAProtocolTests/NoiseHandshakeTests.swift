import Reactor
import Testing

@testable import WAProtocol

/// The login transcript of ref part 1 §7.4 (JSON keys `key.*`, `cert.*`, `hs.login.*`), replayed step by step
/// and through both state machines.
struct NoiseHandshakeTests {
    // key.client-ephemeral.*, key.client-noise-static.*, key.server-ephemeral.*, key.server-static.*
    static let clientEphemeral = CryptoVectors.bytes("30939c5adddec942290b637530898a70f2d32453e5241f30a0550780e7586b47")
    static let clientStatic = CryptoVectors.bytes("80d0a33f1b6f824cbba16ab8f17c2da95278d43143717835b3446f114c89ba6d")
    static let serverEphemeral = CryptoVectors.bytes("58e551a192e32372d3dfca3025e3a6129aa00350e5ffceeb0184f61b25e23441")
    static let serverStatic = CryptoVectors.bytes("40b0f52facd91e6603b9a1c026de0eb46ebcfc33fcf136a5a1c9b4980f664f73")
    // key.test-root.pub
    static let testRoot = CryptoVectors.bytes("d35255c864a538f77ecbcb0b68e1f418cedc7eb0bbcb180df9b3517f1c17e121")
    // cert.chain
    static let certChain = CryptoVectors.bytes(
        "0a760a32080210011a20427265d836c915925b7db24ebb0e6be96b23a96d50dcfd9f9866aba150a5a50c2080e2cfaa062880a8d6b907"
            + "1240970d76c82105b1b630e57d224d4832a720873eabffd89f6b007db9a5ad4bd394d7c02813a04a8869194e6ec72ad9f7ca4fb325d5"
            + "e0ab2d4c9258e9a1336e8e0a12760a32080110001a2092044e96eb6ecffa1fe2662e5506ed743a833d86ff79d7b07265d2567543e97"
            + "32080e2cfaa062880a8d6b9071240014733e7b4c9de9afbeb990ce8e6e3c05111fe2046c1ab2b0749142b01f6ad6d8e578e878a38f1"
            + "13a554e99e270dbd044924d61be20e19a5a20f0ff1b123368a")
    // payload.login
    static let loginPayload = CryptoVectors.bytes(
        "088784b4f73918012a38080e120b080210b81718d7afcdf2031a0330303022033030302a03302e3132003a074465736b746f7042"
            + "03302e3150005a02656e620255533202200060016801900107c00101880201c80201")
    // hs.login.serverHello.full
    static let serverHello = CryptoVectors.bytes(
        "1ad7020a2098ce40bd9d69d7950579450cfcb9844f328d214b045f825a96bf70f9ae37b37d12305e732b12cfa24b58553edc8e95dee2e4"
            + "ddbf2e27b496ab303a2917aedb73627c14eb832ab12a6373a338eb0323095b4c1a8002e665cacd850ec034a704969e2335528e29210d"
            + "c7c2ea0a028c3c44c3556be49cb1319e3ea0e83b3e6255304ddd0ee48d5da8dd3552d213cd4c37b32a9fbe70c74d6b5069882021164"
            + "261a4405113e2c444d64bea690dfc55230a2257e1d532884e39e9407df1b0709a2fcb46accbeb381200e1528a7ae27a61846b2234bd"
            + "ad56dd290f0dd3f85dde9c988561bfbce89ee0c54b55c31aafe1ced1bb243de5babceafbfe634042245d1d2e2e327ad781756c67eb2"
            + "b83b73a9267df1f06500fabfa494d8acca8142b49161e5cf6e3645fc8adf966f9b830f8357009756526886d090aa5b9210e8a7d301d"
            + "7472ad0a28a2a93c7e1f47825bc1360a2afe943d6497fe")
    // hs.login.clientFinish.full
    static let clientFinish = CryptoVectors.bytes(
        "229a010a30a565f8741ed67136285aa696aaced73cca10f14db2d18b9f2070c13fd6975a55d91132dd1bc6604d7ce2dcdac2803ec71266"
            + "9cb301a63678b000bf964fc3acaba7c7b22669c3246e32e85515ff27ce0f314da6ede63d48325f89085c923e879e3212c7296a36fec6"
            + "d7b7ed118235582f51553c09558d21ff22f446dc2b064435e69c4098f420c5334cf8e3f85423a319fd5736b855a8601e")
    // hs.login.clientHello.proto
    static let clientHello = CryptoVectors.bytes(
        "12220a20f01e3feed2953d4221feddad1b6baa06ee321666eb0e170d33428905b0057d4e")
    // hs.login.transport.clientWriteKey(=serverReadKey), hs.login.transport.clientReadKey(=serverWriteKey)
    static let clientWriteKey = "f4e10197cc3e90fd49d1846831625dac1adc2a178e4c857e66009576bf517fb2"
    static let clientReadKey = "5053c8fa1c9c2175d1b0915f150d3a25f71637178852ff70eaddd898e9b7fcdf"
    // hs.login.h_final
    static let finalHash = "c7e9c6621453f72a347d7b91e22f2406509a4b0412c3a58c1e4439cfee883993"
    /// Inside the vector chain's validity window (notBefore 1700000000, notAfter 2000000000).
    static let now: UInt64 = 1_750_000_000

    static func pair(_ privateKey: [UInt8]) throws -> Crypto.X25519KeyPair {
        try Crypto.X25519KeyPair(privateKey: privateKey)
    }

    @Test func publicKeysMatchVectors() throws {
        // key.*.pub
        #expect(
            CryptoVectors.hex(try Self.pair(Self.clientEphemeral).publicKey)
                == "f01e3feed2953d4221feddad1b6baa06ee321666eb0e170d33428905b0057d4e")
        #expect(
            CryptoVectors.hex(try Self.pair(Self.clientStatic).publicKey)
                == "e8cd327c5b1ccacd930c87af022adfe821740bd3918e29b3d11dc9b35aae553c")
        #expect(
            CryptoVectors.hex(try Self.pair(Self.serverEphemeral).publicKey)
                == "98ce40bd9d69d7950579450cfcb9844f328d214b045f825a96bf70f9ae37b37d")
        #expect(
            CryptoVectors.hex(try Self.pair(Self.serverStatic).publicKey)
                == "427265d836c915925b7db24ebb0e6be96b23a96d50dcfd9f9866aba150a5a50c")
    }

    @Test func symmetricStateReproducesEveryIntermediate() throws {
        let ce = try Self.pair(Self.clientEphemeral)
        let cs = try Self.pair(Self.clientStatic)
        let se = try Self.pair(Self.serverEphemeral)
        let ss = try Self.pair(Self.serverStatic)
        var state = NoiseSymmetricState(protocolName: NoiseHandshake.protocolName, prologue: NoiseHandshake.prologue)
        #expect(
            CryptoVectors.hex(NoiseHandshake.protocolName)
                == "4e6f6973655f58585f32353531395f41455347434d5f53484132353600000000")
        // hs.login.h0(after prologue)
        #expect(
            CryptoVectors.hex(state.handshakeHash) == "ffff0c9267310966f1311170c04b38c79504285bf5edf763e5c946492a50a755"
        )
        state.mixHash(ce.publicKey)
        #expect(
            CryptoVectors.hex(state.handshakeHash) == "5ac8c26a339bae2fd940705293d8681c37f361223e6410a0b8f1cfa9a869a464"
        )
        state.mixHash(se.publicKey)
        #expect(
            CryptoVectors.hex(state.handshakeHash) == "0a011c2d8d20b2fcfadb9e67a39076af48b51171f676f9c7a589c2e991db2542"
        )
        state.mixKey(try Crypto.x25519(privateKey: ce.privateKey, publicKey: se.publicKey))
        // hs.login.ck1, hs.login.k1
        #expect(
            CryptoVectors.hex(state.chainingKey) == "13bca07a43ecc6a77a03f22ac8de2cad6b3b0a2ab50e63275dbab33807e178fa")
        #expect(
            CryptoVectors.hex(state.cipherKey) == "238275b8d40646a5ccb195c92fc31d75bdd5e424db8a9d2528cf23645679e766")
        let staticCiphertext = try state.encryptAndHash(ss.publicKey)
        // hs.login.serverHello.static(ct)
        #expect(
            CryptoVectors.hex(staticCiphertext)
                == "5e732b12cfa24b58553edc8e95dee2e4ddbf2e27b496ab303a2917aedb73627c14eb832ab12a6373a338eb0323095b4c")
        #expect(
            CryptoVectors.hex(state.handshakeHash) == "7d7e5ba5a969a85ca6a627a261181d167b44723cfe43d2fcf20af04563cfc84c"
        )
        state.mixKey(try Crypto.x25519(privateKey: ce.privateKey, publicKey: ss.publicKey))
        // hs.login.ck2, hs.login.k2
        #expect(
            CryptoVectors.hex(state.chainingKey) == "f59392d1752d86a915711f6e5c2e8782f717fbf76b5023f1bfb590a2a6196f9c")
        #expect(
            CryptoVectors.hex(state.cipherKey) == "6e4c65e252be27c04b6a6ac3e6127cb7ae7353145e7854cb0b20d24641d3e032")
        _ = try state.encryptAndHash(Self.certChain)
        // hs.login.h_after_cert
        #expect(
            CryptoVectors.hex(state.handshakeHash) == "becf1e24e920d5263cf8d4f551fdbdc5ede76005dfc995c879b7a7516b3e99d7"
        )
        #expect(state.nonce == 1)
        let clientStaticCiphertext = try state.encryptAndHash(cs.publicKey)
        // hs.login.clientFinish.static(ct,nonce=1)
        #expect(
            CryptoVectors.hex(clientStaticCiphertext)
                == "a565f8741ed67136285aa696aaced73cca10f14db2d18b9f2070c13fd6975a55d91132dd1bc6604d7ce2dcdac2803ec7")
        state.mixKey(try Crypto.x25519(privateKey: cs.privateKey, publicKey: se.publicKey))
        // hs.login.ck3, hs.login.k3
        #expect(
            CryptoVectors.hex(state.chainingKey) == "e4a63d2c33aa324e466e5a8a8a321cec481040b9c2815a09390870ee445ba7cb")
        #expect(
            CryptoVectors.hex(state.cipherKey) == "e3c72ca57113175606b6d8b69cb4b29f148bbd73a12fb6a283e7078f6b05350e")
        let payloadCiphertext = try state.encryptAndHash(Self.loginPayload)
        // hs.login.clientFinish.payload(ct).prefix32
        #expect(
            CryptoVectors.hex(Array(payloadCiphertext.prefix(32)))
                == "9cb301a63678b000bf964fc3acaba7c7b22669c3246e32e85515ff27ce0f314d")
        #expect(CryptoVectors.hex(state.handshakeHash) == Self.finalHash)
        let keys = state.split()
        #expect(CryptoVectors.hex(keys.initiatorKey) == Self.clientWriteKey)
        #expect(CryptoVectors.hex(keys.responderKey) == Self.clientReadKey)
    }

    @Test func initiatorProducesTheTranscript() throws {
        var client = NoiseHandshake.Initiator(
            staticKey: try Self.pair(Self.clientStatic), ephemeralKey: try Self.pair(Self.clientEphemeral),
            rootPublicKey: Self.testRoot)
        let hello = try client.makeClientHello()
        #expect(hello == Self.clientHello)
        // hs.login.ws1(intro+frame): intro header, 3-byte length, ClientHello.
        let firstMessage = NoiseHandshake.prologue + [0, 0, UInt8(hello.count)] + hello
        #expect(
            CryptoVectors.hex(firstMessage)
                == "5741060300002412220a20f01e3feed2953d4221feddad1b6baa06ee321666eb0e170d33428905b0057d4e")
        let server = try client.readServerHello(Self.serverHello, now: Self.now)
        #expect(
            CryptoVectors.hex(server.staticKey) == "427265d836c915925b7db24ebb0e6be96b23a96d50dcfd9f9866aba150a5a50c")
        #expect(server.leaf.serial == 2 && server.intermediate.serial == 1)
        #expect(
            CryptoVectors.hex(client.handshakeHash)
                == "becf1e24e920d5263cf8d4f551fdbdc5ede76005dfc995c879b7a7516b3e99d7")
        let (finish, transport) = try client.makeClientFinish(payload: Self.loginPayload)
        #expect(finish == Self.clientFinish)
        // hs.login.clientFinish.proto.len / .sha256
        #expect(finish.count == 157)
        #expect(
            CryptoVectors.hex(Crypto.sha256(finish))
                == "39086b4072bc52fdb1cb7c264b0b37e9860ca837a5063bbf07adf2606f091f50")
        #expect(CryptoVectors.hex(client.handshakeHash) == Self.finalHash)
        #expect(CryptoVectors.hex(transport.writeKey) == Self.clientWriteKey)
        #expect(CryptoVectors.hex(transport.readKey) == Self.clientReadKey)
    }

    @Test func responderProducesTheTranscript() throws {
        var server = NoiseHandshake.Responder(
            staticKey: try Self.pair(Self.serverStatic), ephemeralKey: try Self.pair(Self.serverEphemeral),
            certificateChain: Self.certChain)
        try server.readClientHello(Self.clientHello)
        let hello = try server.makeServerHello()
        // hs.login.serverHello.proto.len / .sha256 / .full
        #expect(hello.count == 346)
        #expect(
            CryptoVectors.hex(Crypto.sha256(hello))
                == "b1838d18e2aa73a1e908598431fd63a9b92a3ed07fa52001a6704994ec535472")
        #expect(hello == Self.serverHello)
        let (client, transport) = try server.readClientFinish(Self.clientFinish)
        #expect(
            CryptoVectors.hex(client.staticKey) == "e8cd327c5b1ccacd930c87af022adfe821740bd3918e29b3d11dc9b35aae553c")
        #expect(client.payload == Self.loginPayload)
        #expect(CryptoVectors.hex(server.handshakeHash) == Self.finalHash)
        #expect(CryptoVectors.hex(transport.writeKey) == Self.clientReadKey)
        #expect(CryptoVectors.hex(transport.readKey) == Self.clientWriteKey)
    }

    @Test func freshKeysHandshakeEndToEnd() throws {
        let rootKey = try Crypto.x25519KeyPair()
        let intermediateKey = try Crypto.x25519KeyPair()
        let serverStaticKey = try Crypto.x25519KeyPair()
        let chain = try NoiseCertificateChain.issue(
            rootPrivateKey: rootKey.privateKey,
            intermediate: .init(
                serial: 1, issuerSerial: 0, key: intermediateKey.publicKey, notBefore: nil, notAfter: nil),
            intermediatePrivateKey: intermediateKey.privateKey,
            leaf: .init(serial: 2, issuerSerial: 1, key: serverStaticKey.publicKey, notBefore: 10, notAfter: 20),
            random: (try Crypto.randomBytes(64), try Crypto.randomBytes(64)))
        var client = NoiseHandshake.Initiator(
            staticKey: try Crypto.x25519KeyPair(), ephemeralKey: try Crypto.x25519KeyPair(),
            rootPublicKey: rootKey.publicKey)
        var server = NoiseHandshake.Responder(
            staticKey: serverStaticKey, ephemeralKey: try Crypto.x25519KeyPair(), certificateChain: chain.serialized())
        try server.readClientHello(try client.makeClientHello())
        _ = try client.readServerHello(try server.makeServerHello(), now: 15)
        let (finish, clientTransport) = try client.makeClientFinish(payload: [1, 2, 3])
        let (identity, serverTransport) = try server.readClientFinish(finish)
        #expect(identity.payload == [1, 2, 3])
        var c = clientTransport
        var s = serverTransport
        for size in [0, 1, 100, 70_000] {
            let message = CryptoVectors.pseudoRandom(count: size, seed: UInt64(size + 1))
            #expect(try s.decrypt(try c.encrypt(message)) == message)
            #expect(try c.decrypt(try s.encrypt(message)) == message)
        }
    }

    @Test func expiredLeafIsRejected() throws {
        var client = NoiseHandshake.Initiator(
            staticKey: try Self.pair(Self.clientStatic), ephemeralKey: try Self.pair(Self.clientEphemeral),
            rootPublicKey: Self.testRoot)
        _ = try client.makeClientHello()
        let error = #expect(throws: ProtocolError.self) {
            try client.readServerHello(Self.serverHello, now: 2_000_000_001)
        }
        #expect(error?.kind == .certificate)
    }

    @Test func productionRootRejectsTheTestChain() throws {
        var client = NoiseHandshake.Initiator(
            staticKey: try Self.pair(Self.clientStatic), ephemeralKey: try Self.pair(Self.clientEphemeral))
        _ = try client.makeClientHello()
        let error = #expect(throws: ProtocolError.self) { try client.readServerHello(Self.serverHello, now: Self.now) }
        #expect(error?.kind == .certificate)
    }

    @Test func tamperedServerHelloFailsAuthentication() throws {
        var tampered = Self.serverHello
        tampered[100] ^= 0x01  // inside the encrypted certificate chain
        var client = NoiseHandshake.Initiator(
            staticKey: try Self.pair(Self.clientStatic), ephemeralKey: try Self.pair(Self.clientEphemeral),
            rootPublicKey: Self.testRoot)
        _ = try client.makeClientHello()
        let error = #expect(throws: ProtocolError.self) { try client.readServerHello(tampered, now: Self.now) }
        #expect(error?.kind == .authentication)
    }

    @Test func stepsOutOfOrderAreRefused() throws {
        var client = NoiseHandshake.Initiator(
            staticKey: try Self.pair(Self.clientStatic), ephemeralKey: try Self.pair(Self.clientEphemeral),
            rootPublicKey: Self.testRoot)
        #expect(throws: ProtocolError.self) { try client.makeClientFinish(payload: []) }
        _ = try client.makeClientHello()
        #expect(throws: ProtocolError.self) { try client.makeClientHello() }
        var server = NoiseHandshake.Responder(
            staticKey: try Self.pair(Self.serverStatic), ephemeralKey: try Self.pair(Self.serverEphemeral),
            certificateChain: Self.certChain)
        #expect(throws: ProtocolError.self) { try server.makeServerHello() }
        #expect(throws: ProtocolError.self) { try server.readClientHello(Self.serverHello) }
    }
}
