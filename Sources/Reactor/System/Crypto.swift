internal import COpenSSL

/// The hashes, MACs and randomness the gateway needs, over OpenSSL's one-shot APIs.
package enum Crypto {
    /// SHA-256 of `data`, through the digest fetched once per process (OpenSSL 3's one-shot
    /// `SHA256()` looks the algorithm up by name on every call; this runs per API request).
    package static func sha256(_ data: some Collection<UInt8>) -> [UInt8] {
        if let digest = data.withContiguousStorageIfAvailable({ sha256(buffer: UnsafeRawBufferPointer($0)) }) { return digest }
        return Array(data).withUnsafeBytes { sha256(buffer: $0) }
    }

    private static func sha256(buffer: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            var length: UInt32 = 0
            let ok = EVP_Digest(buffer.baseAddress, buffer.count, out.baseAddress, &length, OpenSSLAlgorithms.shared.sha256, nil)
            precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) failed")
            count = 32
        }
    }

    /// SHA-1 of `data`. Only for protocols that fix it (the WebSocket accept key), never for
    /// anything that needs collision resistance.
    package static func sha1(_ data: some Collection<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        let input = Array(data)
        input.withUnsafeBufferPointer { bytes in
            digest.withUnsafeMutableBufferPointer { out in
                _ = SHA1(bytes.baseAddress, bytes.count, out.baseAddress)
            }
        }
        return digest
    }

    /// HMAC-SHA256 of `data` under `key`.
    package static func hmacSHA256(key: some Collection<UInt8>, _ data: some Collection<UInt8>) -> [UInt8] {
        HMACSHA256Context(key: key).authenticate(data)
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    package static func randomBytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { throw ReactorError.crypto("RAND_bytes") }
        return bytes
    }

    /// Compares without an early exit, so timing does not reveal where two secrets differ.
    package static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { left in
            b.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, a.count) == 0 }
        }
    }

    /// Lowercase hex of `bytes`.
    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0x0F))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `hex` for a byte array, written straight into the string's storage: API keys are hashed
    /// and hex-encoded on every request, and the generic form is not specialized across modules.
    package static func hex(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = hexDigit(byte >> 4)
                out[2 * index + 1] = hexDigit(byte & 0x0F)
            }
            return bytes.count * 2
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// The OpenSSL version string, for `openwa version`.
    package static var libraryVersion: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
