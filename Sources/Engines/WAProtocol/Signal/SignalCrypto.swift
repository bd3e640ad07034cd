import Reactor

/// The primitives the Signal layer uses, over Reactor's `Crypto`.
///
/// Everything Signal needs from the crypto layer goes through here, so a change in Reactor's names or
/// error type touches one file; Reactor's errors become `ProtocolError.signalCrypto`.
enum SignalCrypto {
    /// X25519 agreement; fails on a small-order peer key (an all-zero shared secret).
    static func agreement(privateKey: [UInt8], publicKey: [UInt8]) throws -> [UInt8] {
        do { return try Crypto.x25519(privateKey: privateKey, publicKey: publicKey) } catch {
            throw ProtocolError.signalCrypto("x25519: \(error)")
        }
    }

    static func publicKey(privateKey: [UInt8]) throws -> [UInt8] {
        do { return try Crypto.x25519PublicKey(privateKey: privateKey) } catch {
            throw ProtocolError.signalCrypto("x25519 public key: \(error)")
        }
    }

    static func clamp(_ privateKey: [UInt8]) -> [UInt8] { Crypto.x25519Clamp(privateKey) }

    /// XEdDSA signature; `random` is for deterministic test vectors, nil draws 64 bytes from the CSPRNG.
    static func sign(privateKey: [UInt8], message: [UInt8], random: [UInt8]? = nil) throws -> [UInt8] {
        do {
            let noise = try random ?? Crypto.randomBytes(64)
            return try Crypto.xeddsaSign(privateKey: privateKey, message: message, random: noise)
        } catch {
            throw ProtocolError.signalCrypto("xeddsa sign: \(error)")
        }
    }

    static func verify(publicKey: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        publicKey.count == 32 && signature.count == 64
            && Crypto.xeddsaVerify(publicKey: publicKey, message: message, signature: signature)
    }

    /// HKDF-SHA256; an empty salt is the RFC default (32 zero bytes), which is what Signal uses.
    static func hkdf(_ ikm: [UInt8], salt: [UInt8] = [], info: String, count: Int) -> [UInt8] {
        Crypto.hkdfSHA256(ikm: ikm, salt: salt, info: Array(info.utf8), count: count)
    }

    static func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] { Crypto.hmacSHA256(key: key, data) }

    static func encryptCBC(key: [UInt8], iv: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        do { return try Crypto.aes256CBCEncrypt(key: key, iv: iv, plaintext: plaintext) } catch {
            throw ProtocolError.signalCrypto("aes-cbc encrypt: \(error)")
        }
    }

    /// Decrypts and strips PKCS#7; a bad length or bad padding is a `cryptoFailure`.
    static func decryptCBC(key: [UInt8], iv: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        do { return try Crypto.aes256CBCDecrypt(key: key, iv: iv, ciphertext: ciphertext) } catch {
            throw ProtocolError.signalCrypto("aes-cbc decrypt: \(error)")
        }
    }

    static func randomBytes(_ count: Int) throws -> [UInt8] {
        do { return try Crypto.randomBytes(count) } catch {
            throw ProtocolError.signalCrypto("random: \(error)")
        }
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool { Crypto.constantTimeEquals(a, b) }
}
