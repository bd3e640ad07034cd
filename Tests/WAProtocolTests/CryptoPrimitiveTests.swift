import Testing

@testable import Reactor

/// Known-answer tests of the Reactor crypto primitives (RFC/NIST vectors named per test).
struct CryptoPrimitiveTests {
    let abc = Array("abc".utf8)

    @Test func sha256And512MatchFIPS180Vectors() {
        #expect(
            CryptoVectors.hex(Crypto.sha256(abc)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            CryptoVectors.hex(Crypto.sha512(abc))
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
    }

    @Test func incrementalHasherMatchesOneShotAndForksOnCopy() {
        let data = CryptoVectors.pseudoRandom(count: 10_000, seed: 7)
        for algorithm in [Crypto.DigestAlgorithm.sha256, .sha512] {
            var hasher = Crypto.IncrementalHash(algorithm)
            for chunk in stride(from: 0, to: data.count, by: 777) {
                hasher.update(data[chunk..<min(chunk + 777, data.count)])
            }
            var fork = hasher
            fork.update([1, 2, 3])
            let oneShot = algorithm == .sha256 ? Crypto.sha256(data) : Crypto.sha512(data)
            #expect(hasher.finalize() == oneShot)
            let forkExpected =
                algorithm == .sha256 ? Crypto.sha256(data + [1, 2, 3]) : Crypto.sha512(data + [1, 2, 3])
            #expect(fork.finalize() == forkExpected)
            // finalize() starts over with empty input.
            #expect(hasher.finalize() == (algorithm == .sha256 ? Crypto.sha256([UInt8]()) : Crypto.sha512([UInt8]())))
        }
    }

    @Test func hmacMatchesRFC4231() {
        // Test case 2: key "Jefe".
        let key = Array("Jefe".utf8)
        let message = Array("what do ya want for nothing?".utf8)
        #expect(
            CryptoVectors.hex(Crypto.hmacSHA256(key: key, message))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        var incremental = Crypto.IncrementalHMAC(.sha256, key: key)
        incremental.update(message[0..<10])
        incremental.update(message[10...])
        #expect(
            CryptoVectors.hex(incremental.finalize())
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(
            CryptoVectors.hex(Crypto.hmacSHA512(key: key, message))
                == "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        )
        // Test case 6: a 131-byte key is hashed first.
        let longKey = [UInt8](repeating: 0xaa, count: 131)
        let longMessage = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        var long = Crypto.IncrementalHMAC(.sha256, key: longKey)
        long.update(longMessage)
        #expect(
            CryptoVectors.hex(long.finalize()) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        // finalize() restarts under the same key.
        long.update(longMessage)
        #expect(
            CryptoVectors.hex(long.finalize()) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(
            CryptoVectors.hex(Crypto.hmacSHA256(key: longKey, longMessage))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func oneShotHMACAgreesWithIncrementalAcrossKeyLengths() {
        // Around the 64-byte block, where the key is padded, used as it is, or hashed first.
        let message = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        for length in [0, 1, 31, 32, 63, 64, 65, 128, 200] {
            let key = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
            var incremental = Crypto.IncrementalHMAC(.sha256, key: key)
            incremental.update(message)
            #expect(Crypto.hmacSHA256(key: key, message) == incremental.finalize(), "key of \(length) bytes")
            #expect(
                Crypto.hmacSHA256(key: key[...], message[3...]) == Crypto.hmacSHA256(key: key, Array(message[3...])))
        }
    }

    @Test func hkdfMatchesRFC5869() {
        // Test case 1.
        let ikm = [UInt8](repeating: 0x0b, count: 22)
        let salt = CryptoVectors.bytes("000102030405060708090a0b0c")
        let info = CryptoVectors.bytes("f0f1f2f3f4f5f6f7f8f9")
        let prk = Crypto.hkdfExtractSHA256(salt: salt, ikm: ikm)
        #expect(CryptoVectors.hex(prk) == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        #expect(
            CryptoVectors.hex(Crypto.hkdfExpandSHA256(prk: prk, info: info, count: 42))
                == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        // Test case 3: no salt, no info.
        #expect(
            CryptoVectors.hex(Crypto.hkdfSHA256(ikm: ikm, info: [UInt8](), count: 42))
                == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
        // An empty salt equals 32 zero bytes (the RFC default the protocol relies on).
        #expect(
            Crypto.hkdfSHA256(ikm: ikm, salt: [UInt8](repeating: 0, count: 32), info: info, count: 100)
                == Crypto.hkdfSHA256(ikm: ikm, info: info, count: 100))
    }

    @Test func pbkdf2MatchesRFC7914Style() throws {
        let password = Array("password".utf8)
        let salt = Array("salt".utf8)
        #expect(
            CryptoVectors.hex(try Crypto.pbkdf2SHA256(password: password, salt: salt, iterations: 1, count: 32))
                == "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
        #expect(
            CryptoVectors.hex(try Crypto.pbkdf2SHA256(password: password, salt: salt, iterations: 4096, count: 32))
                == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        #expect(throws: ReactorError.self) {
            try Crypto.pbkdf2SHA256(password: password, salt: salt, iterations: 0, count: 32)
        }
    }

    @Test func aesGCMMatchesMcGrewViegaAndRejectsTampering() throws {
        let key = [UInt8](repeating: 0, count: 32)
        let iv = [UInt8](repeating: 0, count: 12)
        // GCM spec test case 13 (empty plaintext) and 14 (one zero block).
        #expect(
            CryptoVectors.hex(try Crypto.aes256GCMSeal(key: key, iv: iv, plaintext: [UInt8]()))
                == "530f8afbc74536b9a963b4f1c4cb738b")
        let sealed = try Crypto.aes256GCMSeal(key: key, iv: iv, plaintext: [UInt8](repeating: 0, count: 16))
        #expect(CryptoVectors.hex(sealed) == "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919")
        #expect(try Crypto.aes256GCMOpen(key: key, iv: iv, ciphertext: sealed) == [UInt8](repeating: 0, count: 16))
        #expect(
            try Crypto.aes256GCMOpen(
                key: key, iv: iv, ciphertext: CryptoVectors.bytes("530f8afbc74536b9a963b4f1c4cb738b"))
                == [])
        for bit in [0, 127, 128, 255] {
            #expect(throws: ReactorError.self) {
                try Crypto.aes256GCMOpen(key: key, iv: iv, ciphertext: CryptoVectors.flipping(sealed, bit: bit))
            }
        }
        let withAAD = try Crypto.aes256GCMSeal(key: key, iv: iv, plaintext: [1, 2, 3], aad: [9])
        #expect(try Crypto.aes256GCMOpen(key: key, iv: iv, ciphertext: withAAD, aad: [9]) == [1, 2, 3])
        #expect(throws: ReactorError.self) { try Crypto.aes256GCMOpen(key: key, iv: iv, ciphertext: withAAD, aad: [8]) }
        #expect(throws: ReactorError.self) { try Crypto.aes256GCMOpen(key: key, iv: iv, ciphertext: [1, 2, 3]) }
        #expect(throws: ReactorError.self) { try Crypto.aes256GCMSeal(key: [1], iv: iv, plaintext: [UInt8]()) }
    }

    // NIST SP 800-38A F.2.5 / F.5.5 (AES-256), first two blocks.
    static let sp800Key = CryptoVectors.bytes("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
    static let sp800Plaintext = CryptoVectors.bytes("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")

    @Test func aesCBCMatchesSP80038AAndStreamsInAnyChunking() throws {
        let iv = CryptoVectors.bytes("000102030405060708090a0b0c0d0e0f")
        let ciphertext = try Crypto.aes256CBCEncrypt(key: Self.sp800Key, iv: iv, plaintext: Self.sp800Plaintext)
        #expect(ciphertext.count == 48)  // two blocks plus a full padding block
        #expect(
            CryptoVectors.hex(Array(ciphertext.prefix(32)))
                == "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d")
        #expect(try Crypto.aes256CBCDecrypt(key: Self.sp800Key, iv: iv, ciphertext: ciphertext) == Self.sp800Plaintext)

        let data = CryptoVectors.pseudoRandom(count: 1000, seed: 3)
        let oneShot = try Crypto.aes256CBCEncrypt(key: Self.sp800Key, iv: iv, plaintext: data)
        for chunk in [1, 7, 16, 33, 999] {
            let stream = try Crypto.AESCBCStream(key: Self.sp800Key, iv: iv, direction: .encrypt)
            var out: [UInt8] = []
            for start in stride(from: 0, to: data.count, by: chunk) {
                out += try stream.update(data[start..<min(start + chunk, data.count)])
            }
            out += try stream.finish()
            #expect(out == oneShot)
            #expect(throws: ReactorError.self) { try stream.finish() }
        }
        // Bad padding and bad lengths are refused.
        #expect(throws: ReactorError.self) {
            try Crypto.aes256CBCDecrypt(key: Self.sp800Key, iv: iv, ciphertext: Array(oneShot.dropLast()))
        }
        let wrongKey = [UInt8](repeating: 1, count: 32)
        var refusedOrGarbled = false
        do { refusedOrGarbled = try Crypto.aes256CBCDecrypt(key: wrongKey, iv: iv, ciphertext: oneShot) != data } catch
        {
            refusedOrGarbled = true
        }
        #expect(refusedOrGarbled)
    }

    @Test func aesCTRMatchesSP80038AAndCarriesAcross64Bits() throws {
        let counter = CryptoVectors.bytes("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
        let ciphertext = try Crypto.aes256CTR(key: Self.sp800Key, iv: counter, Self.sp800Plaintext)
        #expect(CryptoVectors.hex(ciphertext) == "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5")
        #expect(try Crypto.aes256CTR(key: Self.sp800Key, iv: counter, ciphertext) == Self.sp800Plaintext)
        // The whole 128-bit block is the counter: block 2 from ..00ffffffffffffffff is block 1 from ..010000000000000000.
        let low = CryptoVectors.bytes("0000000000000000ffffffffffffffff")
        let next = CryptoVectors.bytes("00000000000000010000000000000000")
        let zeros = [UInt8](repeating: 0, count: 32)
        let keystream = try Crypto.aes256CTR(key: Self.sp800Key, iv: low, zeros)
        #expect(Array(keystream[16...]) == (try Crypto.aes256CTR(key: Self.sp800Key, iv: next, zeros[16...])))
    }

    @Test func x25519MatchesRFC7748AndLibsignalVectors() throws {
        // RFC 7748 §6.1.
        let alice = try Crypto.X25519KeyPair(
            privateKey: CryptoVectors.bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        let bob = try Crypto.X25519KeyPair(
            privateKey: CryptoVectors.bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
        #expect(
            CryptoVectors.hex(alice.publicKey) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        #expect(CryptoVectors.hex(bob.publicKey) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let shared = try Crypto.x25519(privateKey: alice.privateKey, publicKey: bob.publicKey)
        #expect(CryptoVectors.hex(shared) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        #expect(try Crypto.x25519(privateKey: bob.privateKey, publicKey: alice.publicKey) == shared)
        // Part 2 §8.2 V1 (libsignal test_agreement).
        let signalAlice = CryptoVectors.bytes("c806439dc9d2c476ffed8f2580c0888d58ab406bf7ae3698879021b96bb4bf59")
        #expect(
            CryptoVectors.hex(try Crypto.x25519PublicKey(privateKey: signalAlice))
                == "1bb75966f2e93a3691dfff942bb2a466a1c08b8d78ca3f4d6df8b8bfa2e4ee28")
        let signalBobPublic = CryptoVectors.bytes("653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f")
        #expect(
            CryptoVectors.hex(try Crypto.x25519(privateKey: signalAlice, publicKey: signalBobPublic))
                == "325f239328941ced6e673b86ba41017448e99b649a9c3806c1dd7ca4c477e629")
        // A low-order point (u = 0) gives an all-zero secret, which is refused.
        #expect(throws: ReactorError.self) {
            try Crypto.x25519(privateKey: alice.privateKey, publicKey: [UInt8](repeating: 0, count: 32))
        }
        // Generated pairs are clamped and agree.
        let a = try Crypto.x25519KeyPair()
        let b = try Crypto.x25519KeyPair()
        #expect(a.privateKey[0] & 7 == 0 && a.privateKey[31] & 0xC0 == 0x40)
        #expect(
            try Crypto.x25519(privateKey: a.privateKey, publicKey: b.publicKey)
                == Crypto.x25519(privateKey: b.privateKey, publicKey: a.publicKey))
    }

    @Test func fieldArithmeticReducesAndInverts() {
        // p = 2^255 − 19 encodes to zero, p + 1 to one; bit 255 is ignored on input.
        var p = [UInt8](repeating: 0xff, count: 32)
        p[0] = 0xed
        p[31] = 0x7f
        #expect(Field25519(bytes: p).isZero)
        var pPlusOne = p
        pPlusOne[0] = 0xee
        #expect(Field25519(bytes: pPlusOne) == .one)
        var withTopBit = [UInt8](repeating: 0, count: 32)
        withTopBit[0] = 5
        withTopBit[31] = 0x80
        #expect(Field25519(bytes: withTopBit).bytes == [5] + [UInt8](repeating: 0, count: 31))
        for seed in 1...20 {
            let x = Field25519(bytes: CryptoVectors.pseudoRandom(count: 32, seed: UInt64(seed)))
            #expect(x * x.inverse == .one)
            #expect((x - x).isZero)
            #expect((x + .one) - .one == x)
        }
        #expect(Field25519.zero.inverse.isZero)
    }
}
