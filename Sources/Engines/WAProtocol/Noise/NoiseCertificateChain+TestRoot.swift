import Reactor

/// The test certificate authority of the reference vectors (ref part 1 §7.4), for the simulator and tests.
///
/// Nobody outside WhatsApp can issue a chain under the production root, so a simulated server signs with
/// these keys and a client under test is configured with `testRootPublicKey`. They are published test keys
/// (`clamp(SHA-256("test-root"))` and `clamp(SHA-256("test-intermediate"))`): a client that trusts
/// `testRootPublicKey` outside tests trusts anyone.
extension NoiseCertificateChain {
    /// `key.test-root.pub`.
    package static let testRootPublicKey: [UInt8] = [
        0xd3, 0x52, 0x55, 0xc8, 0x64, 0xa5, 0x38, 0xf7, 0x7e, 0xcb, 0xcb, 0x0b, 0x68, 0xe1, 0xf4, 0x18,
        0xce, 0xdc, 0x7e, 0xb0, 0xbb, 0xcb, 0x18, 0x0d, 0xf9, 0xb3, 0x51, 0x7f, 0x1c, 0x17, 0xe1, 0x21,
    ]
    /// `key.test-root.priv`.
    package static let testRootPrivateKey: [UInt8] = [
        0xe8, 0xda, 0xa1, 0xfd, 0x6a, 0x7d, 0xe9, 0x8d, 0x1b, 0x3c, 0x23, 0xa3, 0xb7, 0x66, 0x0a, 0x22,
        0x3b, 0x5a, 0x8f, 0x44, 0x72, 0x20, 0xf8, 0x21, 0x16, 0x77, 0x93, 0x6e, 0x58, 0x0a, 0xf8, 0x42,
    ]
    /// `key.test-intermediate.priv`; its public key is derived when issuing.
    package static let testIntermediatePrivateKey: [UInt8] = [
        0x78, 0x41, 0x17, 0x52, 0x1c, 0x0f, 0x60, 0xbc, 0x9c, 0xaa, 0x89, 0x5a, 0xea, 0xf3, 0xad, 0xbb,
        0x45, 0x62, 0xf0, 0x3e, 0xdf, 0x86, 0xdd, 0xb7, 0x80, 0x46, 0x02, 0x37, 0x73, 0xe2, 0x02, 0x71,
    ]

    /// A chain for `serverStaticKey` under the test root: intermediate serial 1 (issuer 0), leaf serial 2
    /// (issuer 1), both valid from `notBefore` to `notAfter`. With the vectors' inputs (validity 1700000000 to
    /// 2000000000, nonces SHA-512("sig-intermediate") and SHA-512("sig-leaf")) this is exactly `cert.chain`.
    package static func issueTestChain(
        serverStaticKey: [UInt8], notBefore: UInt64?, notAfter: UInt64?, random: (intermediate: [UInt8], leaf: [UInt8])
    ) throws(ProtocolError) -> NoiseCertificateChain {
        let intermediateKey = try ProtocolError.fromCrypto("test intermediate key") { () throws(ReactorError) in
            try Crypto.x25519PublicKey(privateKey: testIntermediatePrivateKey)
        }
        return try issue(
            rootPrivateKey: testRootPrivateKey,
            intermediate: Details(
                serial: 1, issuerSerial: rootSerial, key: intermediateKey, notBefore: notBefore, notAfter: notAfter),
            intermediatePrivateKey: testIntermediatePrivateKey,
            leaf: Details(serial: 2, issuerSerial: 1, key: serverStaticKey, notBefore: notBefore, notAfter: notAfter),
            random: random)
    }
}
