internal import COpenSSL

extension Crypto {
    /// Streaming AES-256-CBC with PKCS#7 padding, for media that must not be held in memory whole.
    ///
    /// Feed input with `update` in any chunk sizes and collect the returned output; `finish()` flushes the last
    /// block (adding padding when encrypting, checking and removing it when decrypting). When decrypting, the
    /// final block's plaintext is always held back until `finish()`, because only then is it known to be the
    /// one that carries the padding. A reference type because it owns an OpenSSL context; not thread-safe.
    package final class AESCBCStream {
        /// Whether the stream encrypts or decrypts.
        package enum Direction: Sendable {
            case encrypt
            case decrypt
        }

        /// Whether this stream encrypts or decrypts.
        package let direction: Direction
        private let context: EVPCipherContext
        private var finished = false

        /// A stream under the 32-byte `key` starting from the 16-byte `iv`.
        package init(key: [UInt8], iv: [UInt8], direction: Direction) throws(ReactorError) {
            try Crypto.checkLengths(key: key, iv: iv, ivSize: 16, operation: "aes-256-cbc")
            self.direction = direction
            context = try EVPCipherContext()
            let ok =
                direction == .encrypt
                ? EVP_EncryptInit_ex2(context.pointer, OpenSSLAlgorithms.shared.aes256CBC, key, iv, nil)
                : EVP_DecryptInit_ex2(context.pointer, OpenSSLAlgorithms.shared.aes256CBC, key, iv, nil)
            guard ok == 1 else { throw ReactorError.crypto("aes-256-cbc init") }
        }

        /// Processes `input` and returns whatever whole blocks are ready (possibly none).
        package func update(_ input: UnsafeRawBufferPointer) throws(ReactorError) -> [UInt8] {
            guard !finished else { throw ReactorError.crypto("aes-256-cbc update after finish") }
            guard !input.isEmpty else { return [] }
            try Crypto.checkSize(input.count, operation: "aes-256-cbc update")
            // OpenSSL may emit up to one block more than it was given (the block it held back last time).
            var output = [UInt8](repeating: 0, count: input.count + 16)
            var written: Int32 = 0
            let ok = output.withUnsafeMutableBufferPointer { out in
                let bytes = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
                return direction == .encrypt
                    ? EVP_EncryptUpdate(context.pointer, out.baseAddress, &written, bytes, Int32(input.count))
                    : EVP_DecryptUpdate(context.pointer, out.baseAddress, &written, bytes, Int32(input.count))
            }
            guard ok == 1 else { throw ReactorError.crypto("aes-256-cbc update") }
            output.removeLast(output.count - Int(written))
            return output
        }

        /// Processes `input` and returns whatever whole blocks are ready (possibly none).
        package func update(_ input: some Collection<UInt8>) throws(ReactorError) -> [UInt8] {
            let result: Result<[UInt8], ReactorError> = Crypto.withContiguousBytes(input) { bytes in
                do throws(ReactorError) { return .success(try update(bytes)) } catch { return .failure(error) }
            }
            return try result.get()
        }

        /// Flushes the final block. Decryption throws here when the total length is not a multiple of 16 or the
        /// padding is malformed. The stream cannot be used afterwards.
        package func finish() throws(ReactorError) -> [UInt8] {
            guard !finished else { throw ReactorError.crypto("aes-256-cbc finish called twice") }
            finished = true
            var output = [UInt8](repeating: 0, count: 32)
            var written: Int32 = 0
            let ok = output.withUnsafeMutableBufferPointer { out in
                direction == .encrypt
                    ? EVP_EncryptFinal_ex(context.pointer, out.baseAddress, &written)
                    : EVP_DecryptFinal_ex(context.pointer, out.baseAddress, &written)
            }
            guard ok == 1 else {
                throw ReactorError.crypto(
                    direction == .encrypt ? "aes-256-cbc finish" : "aes-256-cbc decrypt: bad length or padding")
            }
            output.removeLast(output.count - Int(written))
            return output
        }
    }
}
