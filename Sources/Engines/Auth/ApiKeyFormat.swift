import Reactor

/// The shape and hashing of API keys: `owa_k1_` + 64 lowercase hex (32 random bytes) = 71 chars.
package enum ApiKeyFormat {
    package static let prefix = "owa_k1_"
    package static let displayPrefixLength = 12

    /// A fresh random key.
    package static func generate() throws -> String {
        prefix + Crypto.hex(try Crypto.randomBytes(32))
    }

    /// The stored form: SHA-256 of the whole key, or HMAC-SHA256 under the pepper when one is set
    /// (so a leaked database alone does not allow offline guessing).
    package static func hash(_ key: String, pepper: String?) -> String {
        if let pepper, !pepper.isEmpty {
            return Crypto.hex(Crypto.hmacSHA256(key: Array(pepper.utf8), Array(key.utf8)))
        }
        return Crypto.hex(Crypto.sha256(Array(key.utf8)))
    }

    /// The first characters shown in listings so operators can tell keys apart.
    package static func displayPrefix(_ key: String) -> String {
        String(key.prefix(displayPrefixLength))
    }
}
