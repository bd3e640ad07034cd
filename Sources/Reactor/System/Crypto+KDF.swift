internal import COpenSSL

extension Crypto {
    /// HKDF-Extract (RFC 5869 §2.2) with SHA-256: the pseudorandom key for `ikm` under `salt`.
    ///
    /// An empty salt is the RFC's default: HMAC pads its key with zeros, so it equals 32 zero bytes.
    package static func hkdfExtractSHA256(salt: some Collection<UInt8>, ikm: some Collection<UInt8>) -> [UInt8] {
        HMACSHA256Context(key: salt).authenticate(ikm)
    }

    /// HKDF-Expand (RFC 5869 §2.3) with SHA-256: `count` bytes of output keying material from `prk`.
    ///
    /// `count` is at most 255 × 32 = 8160 bytes; more is a programming error (every caller asks for a
    /// fixed, small length), so it traps instead of throwing.
    package static func hkdfExpandSHA256(prk: some Collection<UInt8>, info: some Collection<UInt8>, count: Int)
        -> [UInt8]
    {
        precondition(count >= 0 && count <= 255 * 32, "HKDF-SHA256 output is limited to 8160 bytes")
        let mac = HMACSHA256Context(key: prk)
        let infoBytes = Array(info)
        var output: [UInt8] = []
        output.reserveCapacity(count + 32)
        var previous: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < count {
            mac.begin()
            mac.update(previous)
            mac.update(infoBytes)
            mac.update(CollectionOfOne(counter))
            previous = mac.finalize()
            output.append(contentsOf: previous)
            counter &+= 1
        }
        output.removeLast(output.count - count)
        return output
    }

    /// HKDF-SHA256 (extract then expand): `count` bytes from `ikm`, `salt` (empty = no salt) and `info`.
    package static func hkdfSHA256(
        ikm: some Collection<UInt8>, salt: some Collection<UInt8> = [UInt8](), info: some Collection<UInt8>, count: Int
    ) -> [UInt8] {
        hkdfExpandSHA256(prk: hkdfExtractSHA256(salt: salt, ikm: ikm), info: info, count: count)
    }

    /// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) of `password` and `salt`, `count` bytes.
    ///
    /// Runs OpenSSL's implementation: the pairing code asks for 131072 iterations, where a Swift loop over
    /// our own HMAC would be several times slower.
    package static func pbkdf2SHA256(
        password: some Collection<UInt8>, salt: some Collection<UInt8>, iterations: Int, count: Int
    ) throws(ReactorError) -> [UInt8] {
        guard iterations > 0, iterations <= Int(Int32.max), count > 0, count <= Int(Int32.max) else {
            throw ReactorError.crypto("pbkdf2: invalid parameters")
        }
        let passwordBytes = Array(password)
        let saltBytes = Array(salt)
        var output = [UInt8](repeating: 0, count: count)
        let ok = passwordBytes.withUnsafeBufferPointer { pass in
            saltBytes.withUnsafeBufferPointer { saltPointer in
                output.withUnsafeMutableBufferPointer { out in
                    pass.withMemoryRebound(to: CChar.self) { passChars in
                        PKCS5_PBKDF2_HMAC(
                            passChars.baseAddress, Int32(pass.count), saltPointer.baseAddress, Int32(saltPointer.count),
                            Int32(iterations), OpenSSLAlgorithms.shared.sha256, Int32(count), out.baseAddress)
                    }
                }
            }
        }
        guard ok == 1 else { throw ReactorError.crypto("PKCS5_PBKDF2_HMAC") }
        return output
    }
}
