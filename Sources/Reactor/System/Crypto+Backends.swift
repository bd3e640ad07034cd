internal import COpenSSL
internal import CSodium

// MARK: - OpenSSL algorithm handles

/// OpenSSL 3 algorithm implementations, fetched once per process.
///
/// Handing the legacy `EVP_sha256()`-style constants to an init call makes OpenSSL 3 look the provider
/// implementation up again on every call (a name-map lookup under a lock); fetching once and reusing the
/// handle avoids that on the per-frame and per-chunk paths. The pointers are written once, before any use,
/// and OpenSSL documents fetched `EVP_MD`/`EVP_CIPHER` objects as shareable between threads, which is why
/// the holder is `@unchecked Sendable` with nothing mutable in it.
struct OpenSSLAlgorithms: @unchecked Sendable {
    /// `EVP_MD*` for SHA-256.
    let sha256: OpaquePointer
    /// `EVP_MD*` for SHA-512.
    let sha512: OpaquePointer
    /// `EVP_CIPHER*` for AES-256-GCM.
    let aes256GCM: OpaquePointer
    /// `EVP_CIPHER*` for AES-256-CBC.
    let aes256CBC: OpaquePointer
    /// `EVP_CIPHER*` for AES-256-CTR.
    let aes256CTR: OpaquePointer

    /// The process-wide handles; Swift initialises a global `let` once, thread-safely, on first use.
    static let shared = OpenSSLAlgorithms()

    private init() {
        sha256 = Self.digest("SHA256")
        sha512 = Self.digest("SHA512")
        aes256GCM = Self.cipher("AES-256-GCM")
        aes256CBC = Self.cipher("AES-256-CBC")
        aes256CTR = Self.cipher("AES-256-CTR")
    }

    // A missing default-provider algorithm means a broken OpenSSL install; nothing can work without it.
    private static func digest(_ name: String) -> OpaquePointer {
        guard let md = EVP_MD_fetch(nil, name, nil) else { fatalError("OpenSSL has no \(name) digest") }
        return md
    }

    private static func cipher(_ name: String) -> OpaquePointer {
        guard let cipher = EVP_CIPHER_fetch(nil, name, nil) else { fatalError("OpenSSL has no \(name) cipher") }
        return cipher
    }
}

// MARK: - libsodium

/// libsodium's one-time initialisation.
///
/// `sodium_init` picks the fastest X25519 implementation for this CPU and seeds nothing we rely on; it is
/// idempotent and thread-safe, but calling it once through a lazily initialised global keeps it off the
/// hot path.
enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0

    /// Call before any libsodium primitive.
    @inline(__always)
    static func ensureInitialized() {
        precondition(initialized, "sodium_init failed")
    }
}

// MARK: - Byte access

extension Crypto {
    /// Runs `body` over the contiguous bytes of `data`, copying only when the collection is not contiguous.
    @inline(__always)
    static func withContiguousBytes<R>(_ data: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let result = data.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(data).withUnsafeBytes(body)
    }
}
