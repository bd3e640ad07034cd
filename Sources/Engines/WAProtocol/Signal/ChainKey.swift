/// A symmetric-ratchet chain key and its position (reference part 2, 1.7).
package struct ChainKey: Sendable, Hashable {
    package let key: [UInt8]
    /// The counter of the next message this chain produces or accepts.
    package let index: UInt32

    package init(key: [UInt8], index: UInt32) {
        self.key = key
        self.index = index
    }

    /// The keys for the message at `index`: HKDF over HMAC(CK, 0x01) with "WhisperMessageKeys".
    package func messageKeys() -> MessageKeys {
        let seed = SignalCrypto.hmac(key: key, [0x01])
        let derived = SignalCrypto.hkdf(seed, info: "WhisperMessageKeys", count: 80)
        return MessageKeys(
            cipherKey: Array(derived[0..<32]), macKey: Array(derived[32..<64]), iv: Array(derived[64..<80]),
            index: index)
    }

    /// The chain key one step on: HMAC(CK, 0x02).
    package func next() -> ChainKey {
        ChainKey(key: SignalCrypto.hmac(key: key, [0x02]), index: index &+ 1)
    }
}

/// The AES-256-CBC key, HMAC key and IV of one message.
package struct MessageKeys: Sendable, Hashable {
    package let cipherKey: [UInt8]
    package let macKey: [UInt8]
    package let iv: [UInt8]
    /// The counter these keys belong to.
    package let index: UInt32

    package init(cipherKey: [UInt8], macKey: [UInt8], iv: [UInt8], index: UInt32) {
        self.cipherKey = cipherKey
        self.macKey = macKey
        self.iv = iv
        self.index = index
    }
}
