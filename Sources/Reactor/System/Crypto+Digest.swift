internal import COpenSSL

extension Crypto {
    /// The two hash functions the WhatsApp protocol uses.
    package enum DigestAlgorithm: Sendable {
        case sha256
        case sha512

        /// Digest length in bytes.
        package var outputSize: Int { self == .sha256 ? 32 : 64 }
        /// Internal block length in bytes, which HMAC pads its key to.
        package var blockSize: Int { self == .sha256 ? 64 : 128 }

        var evpMD: OpaquePointer {
            self == .sha256 ? OpenSSLAlgorithms.shared.sha256 : OpenSSLAlgorithms.shared.sha512
        }
    }

    /// SHA-512 of `data`.
    package static func sha512(_ data: some Collection<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 64)
        Crypto.withContiguousBytes(data) { input in
            digest.withUnsafeMutableBufferPointer { out in
                _ = SHA512(input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, out.baseAddress)
            }
        }
        return digest
    }

    /// HMAC-SHA512 of `data` under `key`.
    package static func hmacSHA512(key: some Collection<UInt8>, _ data: some Collection<UInt8>) -> [UInt8] {
        var mac = IncrementalHMAC(.sha512, key: key)
        mac.update(data)
        return mac.finalize()
    }

    // MARK: - Incremental hash

    /// An incremental SHA-256/SHA-512, for inputs that arrive in pieces (media files, MAC chains).
    ///
    /// A value type: copying a hasher forks the running state (copy-on-write over one `EVP_MD_CTX`), which
    /// HMAC uses to reuse its keyed prefix. `finalize()` returns the digest and starts over with empty input.
    package struct IncrementalHash {
        /// The hash function being computed.
        package let algorithm: DigestAlgorithm
        private var context: DigestContext

        /// A hasher over empty input.
        package init(_ algorithm: DigestAlgorithm) {
            self.algorithm = algorithm
            context = DigestContext(algorithm)
        }

        /// Feeds `bytes`.
        package mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard !bytes.isEmpty else { return }
            makeUnique()
            // Fails only for a context without a digest, which `DigestContext` rules out.
            let ok = EVP_DigestUpdate(context.pointer, bytes.baseAddress, bytes.count)
            precondition(ok == 1, "EVP_DigestUpdate failed")
        }

        /// Feeds `bytes`.
        package mutating func update(_ bytes: some Collection<UInt8>) {
            Crypto.withContiguousBytes(bytes) { update($0) }
        }

        /// The digest of everything fed since the last `finalize()`; the hasher then starts over.
        package mutating func finalize() -> [UInt8] {
            makeUnique()
            var digest = [UInt8](repeating: 0, count: algorithm.outputSize)
            var length: UInt32 = 0
            let ok = digest.withUnsafeMutableBufferPointer { out in
                EVP_DigestFinal_ex(context.pointer, out.baseAddress, &length) == 1
                    && EVP_DigestInit_ex2(context.pointer, nil, nil) == 1
            }
            precondition(ok && Int(length) == algorithm.outputSize, "EVP_DigestFinal_ex failed")
            return digest
        }

        private mutating func makeUnique() {
            if !isKnownUniquelyReferenced(&context) { context = DigestContext(copying: context) }
        }
    }

    // MARK: - Incremental HMAC

    /// An incremental HMAC (RFC 2104) over SHA-256 or SHA-512.
    ///
    /// Built from two keyed `Hasher` prefixes rather than OpenSSL's `EVP_MAC`, so a keyed instance can be
    /// copied cheaply (HKDF expands many blocks under one key) and no provider lookup happens per MAC.
    /// `finalize()` returns the tag and restarts under the same key.
    package struct IncrementalHMAC {
        private let keyedInner: IncrementalHash
        private let keyedOuter: IncrementalHash
        private var inner: IncrementalHash

        /// A MAC under `key`; keys longer than the block size are hashed first, as RFC 2104 says.
        package init(_ algorithm: DigestAlgorithm, key: some Collection<UInt8>) {
            var block = [UInt8](repeating: 0, count: algorithm.blockSize)
            if key.count > algorithm.blockSize {
                var hasher = IncrementalHash(algorithm)
                hasher.update(key)
                block.replaceSubrange(0..<algorithm.outputSize, with: hasher.finalize())
            } else {
                block.replaceSubrange(0..<key.count, with: key)
            }
            var inner = IncrementalHash(algorithm)
            inner.update(block.map { $0 ^ 0x36 })
            var outer = IncrementalHash(algorithm)
            outer.update(block.map { $0 ^ 0x5c })
            keyedInner = inner
            keyedOuter = outer
            self.inner = inner
        }

        /// Feeds `bytes`.
        package mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bytes) }

        /// Feeds `bytes`.
        package mutating func update(_ bytes: some Collection<UInt8>) { inner.update(bytes) }

        /// The tag over everything fed since the last `finalize()`; the MAC then restarts under the same key.
        package mutating func finalize() -> [UInt8] {
            let innerDigest = inner.finalize()
            var outer = keyedOuter
            outer.update(innerDigest)
            inner = keyedInner
            return outer.finalize()
        }
    }
}

// MARK: - EVP_MD_CTX ownership

/// Owns one `EVP_MD_CTX`; freed in `deinit` because `Hasher` copies share it until one of them writes.
private final class DigestContext {
    let pointer: OpaquePointer

    init(_ algorithm: Crypto.DigestAlgorithm) {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        guard EVP_DigestInit_ex2(context, algorithm.evpMD, nil) == 1 else { fatalError("EVP_DigestInit_ex2 failed") }
        pointer = context
    }

    init(copying other: DigestContext) {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        guard EVP_MD_CTX_copy_ex(context, other.pointer) == 1 else { fatalError("EVP_MD_CTX_copy_ex failed") }
        pointer = context
    }

    deinit { EVP_MD_CTX_free(pointer) }
}
