/// The random-length padding WhatsApp puts around a serialized `Message` before Signal encryption
/// (`enc v="2"`, reference part 2, 1.10): n bytes, each equal to n.
package enum MessagePadding {
    /// Appends 1…16 padding bytes; `length` pins n for tests, otherwise it is random.
    package static func pad(_ plaintext: [UInt8], length: UInt8? = nil) throws -> [UInt8] {
        let n = try length ?? (SignalCrypto.randomBytes(1)[0] & 0x0F) + 1
        precondition((1...16).contains(n), "padding length must be 1...16")
        return plaintext + [UInt8](repeating: n, count: Int(n))
    }

    /// Strips the padding, strictly: every one of the last n bytes must equal n (whatsmeow's rule), so
    /// unpadded or corrupted plaintext is refused rather than truncated.
    package static func unpad(_ padded: [UInt8]) throws -> [UInt8] {
        guard let n = padded.last, n > 0, Int(n) <= padded.count else {
            throw ProtocolError.signalMalformed("plaintext padding is missing or longer than the plaintext")
        }
        guard padded.suffix(Int(n)).allSatisfy({ $0 == n }) else {
            throw ProtocolError.signalMalformed("plaintext padding bytes differ from the padding length")
        }
        return Array(padded.dropLast(Int(n)))
    }
}
