/// Signal registration ids: opaque to peers, compared in retry receipts to notice a reinstall.
package enum RegistrationID {
    /// A random id in libsignal's range 1...16380 (14 bits, as Baileys draws); sent as 4 bytes big-endian.
    package static func generate() throws -> UInt32 {
        let bytes = try SignalCrypto.randomBytes(2)
        return (UInt32(bytes[0]) << 8 | UInt32(bytes[1])) % 16380 + 1
    }
}
