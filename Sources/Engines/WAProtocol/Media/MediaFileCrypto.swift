import Glibc

/// Media encryption and decryption from one file to another in fixed-size chunks, over the
/// streaming `MediaEncryptor` and `MediaDecryptor`: memory stays at one chunk whatever the size
/// of the file. The output is byte for byte what the whole-buffer `encrypt`/`decrypt` give.
///
/// Blocking file I/O and CPU work: call these on a worker, never on the reactor thread. The
/// destination is created (or emptied) with mode 0600 and removed again on any failure, so a
/// caller that sees an error finds no output; a decrypted file exists only once the MAC, the
/// padding and the expected hashes have all been checked (the decryptor's provisional plaintext
/// never leaves the private destination path).
package enum MediaFileCrypto {
    package static let chunkSize = 256 << 10

    /// Encrypts the file at `source` into `destination`: the blob (ciphertext ‖ MAC) and its digests.
    package static func encrypt(
        source: String, destination: String, mediaKey: [UInt8], kind: MediaKind
    ) throws(ProtocolError) -> MediaDigests {
        let encryptor = try MediaEncryptor(mediaKey: mediaKey, kind: kind)
        return try transform(source: source, destination: destination) { (chunk) throws(ProtocolError) in
            try encryptor.update(chunk)
        } finish: { () throws(ProtocolError) in
            try encryptor.finish()
        }
    }

    /// Encrypts `plaintext`, already in memory, into `destination` chunk by chunk: the blob never
    /// sits in memory beside it.
    package static func encrypt(
        _ plaintext: [UInt8], destination: String, mediaKey: [UInt8], kind: MediaKind
    ) throws(ProtocolError) -> MediaDigests {
        let encryptor = try MediaEncryptor(mediaKey: mediaKey, kind: kind)
        return try writing(destination) { (output) throws(ProtocolError) in
            for start in stride(from: 0, to: plaintext.count, by: chunkSize) {
                let piece = plaintext[start..<min(start + chunkSize, plaintext.count)]
                try write(output, try encryptor.update(piece), path: destination)
            }
            return try encryptor.finish()
        }
    }

    /// Checks and decrypts the blob at `source` into `destination`: the plaintext's digests.
    /// Throws `.authentication` for a wrong MAC or hash and `.malformed` for a bad length, as
    /// `MediaDecryptor` does; `destination` is then gone.
    package static func decrypt(
        source: String, destination: String, mediaKey: [UInt8], kind: MediaKind, expectedFileEncSHA256: [UInt8]? = nil,
        expectedFileSHA256: [UInt8]? = nil
    ) throws(ProtocolError) -> MediaDigests {
        let decryptor = try MediaDecryptor(
            mediaKey: mediaKey, kind: kind, expectedFileEncSHA256: expectedFileEncSHA256, expectedFileSHA256: expectedFileSHA256)
        return try transform(source: source, destination: destination) { (chunk) throws(ProtocolError) in
            try decryptor.update(chunk)
        } finish: { () throws(ProtocolError) in
            try decryptor.finish()
        }
    }

    /// Reads `source` chunk by chunk through `update`, writes what comes out, then `finish`'s tail.
    private static func transform(
        source: String, destination: String, update: ([UInt8]) throws(ProtocolError) -> [UInt8],
        finish: () throws(ProtocolError) -> (tail: [UInt8], digests: MediaDigests)
    ) throws(ProtocolError) -> MediaDigests {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ProtocolError.unexpected("cannot open \(source): errno \(errno)") }
        defer { close(input) }
        return try writing(destination) { (output) throws(ProtocolError) in
            var buffer = [UInt8](repeating: 0, count: chunkSize)
            while true {
                let count = try read(input, into: &buffer, path: source)
                if count == 0 { break }
                try write(output, try update(count == buffer.count ? buffer : Array(buffer[0..<count])), path: destination)
            }
            return try finish()
        }
    }

    /// Creates `destination`, lets `body` write all but the tail, writes the tail and closes; on
    /// any failure the file is removed, so a half-written output never survives.
    private static func writing(
        _ destination: String, _ body: (Int32) throws(ProtocolError) -> (tail: [UInt8], digests: MediaDigests)
    ) throws(ProtocolError) -> MediaDigests {
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw ProtocolError.unexpected("cannot create \(destination): errno \(errno)") }
        let digests: MediaDigests
        do throws(ProtocolError) {
            let (tail, written) = try body(output)
            try write(output, tail, path: destination)
            digests = written
        } catch {
            close(output)
            unlink(destination)
            throw error
        }
        // Closed once either way: a second close could hit a descriptor another thread just got.
        guard close(output) == 0 else {
            unlink(destination)
            throw ProtocolError.unexpected("cannot close \(destination): errno \(errno)")
        }
        return digests
    }

    /// Fills `buffer` as far as the file allows: its size, or less only at the end of the file.
    private static func read(_ descriptor: CInt, into buffer: inout [UInt8], path: String) throws(ProtocolError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw ProtocolError.unexpected("cannot read \(path): errno \(errno)") }
            if got == 0 { break }
            filled += got
        }
        return filled
    }

    private static func write(_ descriptor: CInt, _ bytes: [UInt8], path: String) throws(ProtocolError) {
        var written = 0
        while written < bytes.count {
            let put = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if put < 0, errno == EINTR { continue }
            guard put >= 0 else { throw ProtocolError.unexpected("cannot write \(path): errno \(errno)") }
            written += put
        }
    }
}
