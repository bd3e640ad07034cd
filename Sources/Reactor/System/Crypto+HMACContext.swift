internal import COpenSSL

/// HMAC-SHA256 (RFC 2104) for short inputs, on one `EVP_MD_CTX` that is re-initialised for the inner and
/// the outer hash.
///
/// The Signal ratchet computes about fifteen MACs and HKDF blocks per message, each over a few dozen bytes,
/// so the fixed cost per MAC is what counts. OpenSSL 3's one-shot `HMAC()` fetches the HMAC and SHA-256
/// implementations from the provider on every call, and `IncrementalHMAC` (built for long streams) forks
/// its keyed contexts with `EVP_MD_CTX_copy_ex`; both cost several times the four SHA-256 compressions a
/// short MAC needs. Here one context is re-initialised with the pre-fetched digest (a reset of its state)
/// and the padded keys are kept, so a MAC costs little more than its compressions, and HKDF's blocks under
/// one key share the setup. Not thread-safe; make one per use.
final class HMACSHA256Context {
    private static let blockSize = 64
    private let context: OpaquePointer
    /// The key padded to one block and XORed with the inner constant, then the same with the outer one.
    private var pads = [UInt8](repeating: 0, count: 2 * blockSize)

    init(key: some Collection<UInt8>) {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        self.context = context
        Crypto.withContiguousBytes(key) { setKey($0) }
    }

    private func setKey(_ key: UnsafeRawBufferPointer) {
        pads.withUnsafeMutableBytes { pads in
            if key.count > Self.blockSize {
                // RFC 2104: a key longer than the block is replaced by its hash.
                Self.reset(context)
                Self.update(context, key)
                Self.finish(context, into: pads.baseAddress!.assumingMemoryBound(to: UInt8.self))
            } else if !key.isEmpty {
                pads.copyMemory(from: key)
            }
            for index in 0..<Self.blockSize {
                pads[Self.blockSize + index] = pads[index] ^ 0x5c
                pads[index] ^= 0x36
            }
        }
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Starts a MAC under the key, discarding any unfinished one.
    func begin() {
        Self.reset(context)
        pads.withUnsafeBytes { Self.update(context, UnsafeRawBufferPointer(rebasing: $0[0..<Self.blockSize])) }
    }

    /// Feeds `bytes` to the MAC started by `begin()`.
    func update(_ bytes: some Collection<UInt8>) {
        Crypto.withContiguousBytes(bytes) { Self.update(context, $0) }
    }

    /// The tag of everything fed since `begin()`.
    func finalize() -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: 32)
        tag.withUnsafeMutableBufferPointer { out in
            let digest = out.baseAddress!
            Self.finish(context, into: digest)
            Self.reset(context)
            pads.withUnsafeBytes { Self.update(context, UnsafeRawBufferPointer(rebasing: $0[Self.blockSize...])) }
            Self.update(context, UnsafeRawBufferPointer(out))
            Self.finish(context, into: digest)
        }
        return tag
    }

    /// The tag of `data`: `begin()`, `update(data)`, `finalize()`.
    func authenticate(_ data: some Collection<UInt8>) -> [UInt8] {
        begin()
        update(data)
        return finalize()
    }

    // MARK: - EVP calls

    // These fail only for a context without a digest or a provider error on a fetched, working SHA-256;
    // neither can happen once `OpenSSLAlgorithms` has fetched it, so they trap like `IncrementalHash`.

    private static func reset(_ context: OpaquePointer) {
        let ok = EVP_DigestInit_ex2(context, OpenSSLAlgorithms.shared.sha256, nil)
        precondition(ok == 1, "EVP_DigestInit_ex2 failed")
    }

    private static func update(_ context: OpaquePointer, _ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let ok = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
        precondition(ok == 1, "EVP_DigestUpdate failed")
    }

    private static func finish(_ context: OpaquePointer, into digest: UnsafeMutablePointer<UInt8>) {
        var length: UInt32 = 0
        let ok = EVP_DigestFinal_ex(context, digest, &length)
        precondition(ok == 1 && length == 32, "EVP_DigestFinal_ex failed")
    }
}
