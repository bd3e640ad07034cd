internal import COpenSSL

extension Crypto {
    /// Length of the AES-GCM authentication tag this protocol appends to every ciphertext.
    package static let aesGCMTagSize = 16

    // MARK: - AES-256-GCM

    /// AES-256-GCM encryption: returns `ciphertext ‖ tag(16)`.
    ///
    /// `key` is 32 bytes and `iv` 12 bytes (the only IV length the protocol uses). `aad` may be empty.
    package static func aes256GCMSeal(
        key: [UInt8], iv: [UInt8], plaintext: some Collection<UInt8>, aad: some Collection<UInt8> = [UInt8]()
    ) throws(ReactorError) -> [UInt8] {
        try checkLengths(key: key, iv: iv, ivSize: 12, operation: "aes-256-gcm seal")
        let context = try EVPCipherContext()
        let input = Array(plaintext)
        let additional = Array(aad)
        try checkSize(input.count, operation: "aes-256-gcm seal")
        var output = [UInt8](repeating: 0, count: input.count + aesGCMTagSize)
        let ok = output.withUnsafeMutableBufferPointer { out -> Bool in
            var written: Int32 = 0
            var finalWritten: Int32 = 0
            guard EVP_EncryptInit_ex2(context.pointer, OpenSSLAlgorithms.shared.aes256GCM, key, iv, nil) == 1,
                additional.isEmpty
                    || EVP_EncryptUpdate(context.pointer, nil, &written, additional, Int32(additional.count)) == 1,
                input.isEmpty
                    || EVP_EncryptUpdate(context.pointer, out.baseAddress, &written, input, Int32(input.count)) == 1
            else { return false }
            if input.isEmpty { written = 0 }
            guard EVP_EncryptFinal_ex(context.pointer, out.baseAddress! + Int(written), &finalWritten) == 1,
                Int(written + finalWritten) == input.count
            else { return false }
            return EVP_CIPHER_CTX_ctrl(
                context.pointer, EVP_CTRL_GCM_GET_TAG, Int32(aesGCMTagSize), out.baseAddress! + input.count) == 1
        }
        guard ok else { throw ReactorError.crypto("aes-256-gcm seal") }
        return output
    }

    /// AES-256-GCM decryption of `ciphertext ‖ tag(16)`.
    ///
    /// Throws `ReactorError.crypto` naming the tag check when authentication fails; no plaintext is
    /// returned in that case.
    package static func aes256GCMOpen(
        key: [UInt8], iv: [UInt8], ciphertext: some Collection<UInt8>, aad: some Collection<UInt8> = [UInt8]()
    ) throws(ReactorError) -> [UInt8] {
        try checkLengths(key: key, iv: iv, ivSize: 12, operation: "aes-256-gcm open")
        let sealed = Array(ciphertext)
        guard sealed.count >= aesGCMTagSize else {
            throw ReactorError.crypto("aes-256-gcm open: input shorter than the tag")
        }
        try checkSize(sealed.count, operation: "aes-256-gcm open")
        let context = try EVPCipherContext()
        let additional = Array(aad)
        let bodyCount = sealed.count - aesGCMTagSize
        var output = [UInt8](repeating: 0, count: bodyCount + aesGCMTagSize)
        let outcome = sealed.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out -> Outcome in
                var written: Int32 = 0
                var finalWritten: Int32 = 0
                guard EVP_DecryptInit_ex2(context.pointer, OpenSSLAlgorithms.shared.aes256GCM, key, iv, nil) == 1,
                    additional.isEmpty
                        || EVP_DecryptUpdate(context.pointer, nil, &written, additional, Int32(additional.count)) == 1,
                    bodyCount == 0
                        || EVP_DecryptUpdate(
                            context.pointer, out.baseAddress, &written, input.baseAddress, Int32(bodyCount)) == 1
                else { return .failed }
                if bodyCount == 0 { written = 0 }
                let tag = UnsafeMutableRawPointer(mutating: input.baseAddress! + bodyCount)
                guard EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_SET_TAG, Int32(aesGCMTagSize), tag) == 1 else {
                    return .failed
                }
                // DecryptFinal is where OpenSSL compares the tag; a mismatch is the one expected failure.
                guard EVP_DecryptFinal_ex(context.pointer, out.baseAddress! + Int(written), &finalWritten) == 1 else {
                    return .badTag
                }
                return Int(written + finalWritten) == bodyCount ? .ok : .failed
            }
        }
        switch outcome {
        case .ok:
            output.removeLast(aesGCMTagSize)
            return output
        case .badTag: throw ReactorError.crypto("aes-256-gcm open: authentication tag mismatch")
        case .failed: throw ReactorError.crypto("aes-256-gcm open")
        }
    }

    // MARK: - AES-256-CBC (PKCS#7)

    /// AES-256-CBC encryption with PKCS#7 padding; `iv` is 16 bytes.
    package static func aes256CBCEncrypt(
        key: [UInt8], iv: [UInt8], plaintext: some Collection<UInt8>
    ) throws(ReactorError) -> [UInt8] {
        let stream = try AESCBCStream(key: key, iv: iv, direction: .encrypt)
        var output = try stream.update(plaintext)
        output += try stream.finish()
        return output
    }

    /// AES-256-CBC decryption with PKCS#7 padding; throws on a bad length or bad padding.
    package static func aes256CBCDecrypt(
        key: [UInt8], iv: [UInt8], ciphertext: some Collection<UInt8>
    ) throws(ReactorError) -> [UInt8] {
        let stream = try AESCBCStream(key: key, iv: iv, direction: .decrypt)
        var output = try stream.update(ciphertext)
        output += try stream.finish()
        return output
    }

    // MARK: - AES-256-CTR

    /// AES-256-CTR over `data` (encryption and decryption are the same operation).
    ///
    /// `iv` is the full 16-byte initial counter block, incremented as one 128-bit big-endian integer, which is
    /// what Go's `cipher.NewCTR` and Node's `aes-256-ctr` do for the pairing-code key wrap.
    package static func aes256CTR(key: [UInt8], iv: [UInt8], _ data: some Collection<UInt8>) throws(ReactorError)
        -> [UInt8]
    {
        try checkLengths(key: key, iv: iv, ivSize: 16, operation: "aes-256-ctr")
        let input = Array(data)
        try checkSize(input.count, operation: "aes-256-ctr")
        guard !input.isEmpty else { return [] }
        let context = try EVPCipherContext()
        var output = [UInt8](repeating: 0, count: input.count)
        let ok = output.withUnsafeMutableBufferPointer { out -> Bool in
            var written: Int32 = 0
            var finalWritten: Int32 = 0
            guard EVP_EncryptInit_ex2(context.pointer, OpenSSLAlgorithms.shared.aes256CTR, key, iv, nil) == 1,
                EVP_EncryptUpdate(context.pointer, out.baseAddress, &written, input, Int32(input.count)) == 1,
                EVP_EncryptFinal_ex(context.pointer, out.baseAddress! + Int(written), &finalWritten) == 1
            else { return false }
            return Int(written + finalWritten) == input.count
        }
        guard ok else { throw ReactorError.crypto("aes-256-ctr") }
        return output
    }

    // MARK: - Checks

    static func checkLengths(key: [UInt8], iv: [UInt8], ivSize: Int, operation: String) throws(ReactorError) {
        guard key.count == 32 else { throw ReactorError.crypto("\(operation): key must be 32 bytes") }
        guard iv.count == ivSize else { throw ReactorError.crypto("\(operation): iv must be \(ivSize) bytes") }
    }

    // OpenSSL's EVP update calls take an `int` length.
    static func checkSize(_ count: Int, operation: String) throws(ReactorError) {
        guard count <= Int(Int32.max) - 32 else { throw ReactorError.crypto("\(operation): input too large") }
    }
}

private enum Outcome { case ok, failed, badTag }

// MARK: - EVP_CIPHER_CTX ownership

/// Owns one `EVP_CIPHER_CTX` for the duration of a call or a stream; freed in `deinit`.
final class EVPCipherContext {
    let pointer: OpaquePointer

    init() throws(ReactorError) {
        guard let context = EVP_CIPHER_CTX_new() else { throw ReactorError.crypto("EVP_CIPHER_CTX_new") }
        pointer = context
    }

    deinit { EVP_CIPHER_CTX_free(pointer) }
}
