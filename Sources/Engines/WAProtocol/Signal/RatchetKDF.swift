/// Root-key and X3DH derivations.
enum RatchetKDF {
    /// One DH-ratchet step: `(root', chain) = HKDF(DH(ours, theirs), salt: root, "WhisperRatchet")`.
    static func ratchet(rootKey: [UInt8], ours: SignalKeyPair, theirs: [UInt8]) throws -> (
        rootKey: [UInt8], chainKey: ChainKey
    ) {
        let secret = try ours.agreement(with: theirs)
        let derived = SignalCrypto.hkdf(secret, salt: rootKey, info: "WhisperRatchet", count: 64)
        return (Array(derived[0..<32]), ChainKey(key: Array(derived[32..<64]), index: 0))
    }

    /// The X3DH master secret `0xFF×32 ‖ dh1 ‖ dh2 ‖ dh3 [‖ dh4]` through HKDF "WhisperText".
    static func initialKeys(agreements: [[UInt8]]) -> (rootKey: [UInt8], chainKey: ChainKey) {
        // The 32 0xFF bytes are libsignal's "discontinuity bytes", kept for compatibility with v2 keys.
        let master = [UInt8](repeating: 0xFF, count: 32) + agreements.joined()
        let derived = SignalCrypto.hkdf(master, info: "WhisperText", count: 64)
        return (Array(derived[0..<32]), ChainKey(key: Array(derived[32..<64]), index: 0))
    }
}
