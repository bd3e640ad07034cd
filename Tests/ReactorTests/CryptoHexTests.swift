import Reactor
import Testing

/// Hex encoding, which API key hashes go through on every request: the byte-array fast path and
/// the generic one agree with each other and with FIPS 180-2's SHA-256 answers.
struct CryptoHexTests {
    static let abcDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    static let emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    @Test func aDigestIsWrittenAsLowercaseHex() {
        #expect(Crypto.hex(Crypto.sha256(Array("abc".utf8))) == Self.abcDigest)
        #expect(Crypto.hex(Crypto.sha256([UInt8]())) == Self.emptyDigest)
        // Contiguous and not: a slice, a string's bytes, a reversed view.
        #expect(Crypto.hex(Crypto.sha256(Array("xabcx".utf8)[1..<4])) == Self.abcDigest)
        #expect(Crypto.hex(Crypto.sha256("abc".utf8)) == Self.abcDigest)
        #expect(Crypto.hex(Crypto.sha256(Array("cba".utf8).reversed())) == Self.abcDigest)
        // FIPS 180-2's two-block message.
        #expect(Crypto.hex(Crypto.sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func everyByteValueMatchesTheGenericEncoding() {
        let all = (0...255).map(UInt8.init)
        let fast = Crypto.hex(all)
        #expect(fast == Crypto.hex(all[...]))
        #expect(fast.hasPrefix("000102030405060708090a0b0c0d0e0f10"))
        #expect(fast.hasSuffix("fcfdfeff"))
        #expect(Crypto.hex([UInt8]()) == "")
    }
}
