import Reactor
import Testing

@testable import WAProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Streams 100 MB through the encryptor and back through the decryptor in 64 KiB chunks, checking that the
/// output per call stays within a chunk and resident memory does not grow with the file.
struct MediaStreamingMemoryTests {
    static let total = 100 * 1024 * 1024
    static let chunkSize = 64 * 1024

    /// Resident set size in bytes, from /proc/self/statm (Linux); nil elsewhere.
    static func residentBytes() -> Int? {
        #if os(Linux)
            let fd = open("/proc/self/statm", O_RDONLY)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { return nil }
            let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
            guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
            return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
            return nil
        #endif
    }

    @Test(.timeLimit(.minutes(2))) func hundredMegabytesStreamInBoundedMemory() throws {
        let mediaKey = try MediaKeys.generateMediaKey()
        var chunk = CryptoVectors.pseudoRandom(count: Self.chunkSize, seed: 99)
        let encryptor = try MediaEncryptor(mediaKey: mediaKey, kind: .video)
        let decryptor = try MediaDecryptor(mediaKey: mediaKey, kind: .video)
        var plainCheck = Crypto.IncrementalHash(.sha256)
        var decryptedCheck = Crypto.IncrementalHash(.sha256)
        let before = Self.residentBytes()
        var peak = before ?? 0
        var largestPiece = 0
        for index in 0..<(Self.total / Self.chunkSize) {
            chunk[0] = UInt8(truncatingIfNeeded: index)  // vary the content per chunk
            plainCheck.update(chunk)
            let ciphertext = try encryptor.update(chunk)
            let plaintext = try decryptor.update(ciphertext)
            largestPiece = max(largestPiece, ciphertext.count, plaintext.count)
            decryptedCheck.update(plaintext)
            if index % 256 == 0, let now = Self.residentBytes() { peak = max(peak, now) }
        }
        let (tail, digests) = try encryptor.finish()
        decryptedCheck.update(try decryptor.update(tail))
        let (plainTail, decryptedDigests) = try decryptor.finish()
        decryptedCheck.update(plainTail)

        #expect(digests.fileLength == UInt64(Self.total))
        #expect(decryptedDigests == digests)
        let expectedSHA = plainCheck.finalize()
        #expect(digests.fileSHA256 == expectedSHA)
        #expect(decryptedCheck.finalize() == expectedSHA)
        #expect(largestPiece <= Self.chunkSize + 16)
        if let before {
            // Holding the file (or its ciphertext) would add at least 100 MiB. Resident size is the whole
            // process's, and the other suites running in parallel have been seen to add up to ~55 MiB, so
            // the ceiling sits just under the size of the file.
            #expect(peak - before < 96 * 1024 * 1024, "resident memory grew by \(peak - before) bytes")
        }
    }
}
