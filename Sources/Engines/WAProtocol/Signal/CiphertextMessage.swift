/// What `SessionCipher.encrypt` produces: the `enc` type and its bytes.
package enum CiphertextMessage: Sendable, Hashable {
    case whisper(WhisperMessage)
    case preKey(PreKeyWhisperMessage)

    /// The `type` attribute of the `enc` node.
    package var encType: String {
        switch self {
        case .whisper: return "msg"
        case .preKey: return "pkmsg"
        }
    }

    package var serialized: [UInt8] {
        switch self {
        case .whisper(let message): return message.serialized
        case .preKey(let message): return message.serialized
        }
    }
}
