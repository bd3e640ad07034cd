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
