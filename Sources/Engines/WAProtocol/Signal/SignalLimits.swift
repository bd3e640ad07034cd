/// The bounds libsignal enforces (reference part 2, 1.7 and 1.9); they cap memory per peer and refuse
/// counters a real sender would never reach.
package enum SignalLimits {
    /// Message version 3: the high nibble of the version byte, and the low nibble we write.
    package static let version: UInt8 = 3
    /// `(3 << 4) | 3`, the first byte of every `msg`, `pkmsg`, `skmsg` and distribution message.
    package static let versionByte: UInt8 = version << 4 | version
    /// How far ahead of the chain a counter (or sender-key iteration) may be.
    package static let maxFutureMessages: UInt32 = 2000
    /// Skipped message keys kept per session (all receiving chains together) and per sender-key state.
    package static let maxSkippedKeys = 2000
    /// Receiving chains kept per session state; older ones are dropped with their skipped keys.
    package static let maxReceivingChains = 5
    /// Archived session states kept per address, tried when the current one fails.
    package static let maxArchivedStates = 40
    /// Sender-key states kept per (group, sender).
    package static let maxSenderKeyStates = 5
    /// Prekey ids are 3 bytes on the wire.
    package static let maxPreKeyID: UInt32 = 0xFF_FFFF
    /// Length of the truncated HMAC that ends a `msg`.
    package static let macLength = 8
    /// Length of the XEdDSA signature that ends an `skmsg`.
    package static let signatureLength = 64
}

enum SignalVersion {
    /// Refuses anything but message version 3 in the high nibble; older versions are not spoken by WhatsApp
    /// and newer ones (with Kyber) are not supported here.
    static func check(_ byte: UInt8) throws {
        guard byte >> 4 == SignalLimits.version else { throw ProtocolError.signalInvalidVersion(byte) }
    }
}
