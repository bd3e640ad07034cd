import Foundation
import Reactor
import SwiftProtobuf

/// Media re-upload (reference part 2, 5.7): when a media host no longer has a blob, the receiver
/// asks the account's phone to upload it again. Both sides seal their protobuf with AES-256-GCM
/// under a key derived from the message's media key, with the message id as AAD: the request is a
/// `ServerErrorReceipt`, the phone's answer a `MediaRetryNotification` with the new direct path.
package enum MediaRetry {
    /// HKDF-SHA256 (no salt) of the media key with "WhatsApp Media Retry Notification".
    static func key(mediaKey: [UInt8]) -> [UInt8] {
        Crypto.hkdfSHA256(ikm: mediaKey, info: Array("WhatsApp Media Retry Notification".utf8), count: 32)
    }

    /// `enc_p` and `enc_iv` of the request for `messageID`.
    package static func sealRequest(messageID: String, mediaKey: [UInt8]) throws -> (ciphertext: [UInt8], iv: [UInt8]) {
        var receipt = Waproto_ServerErrorReceipt()
        receipt.stanzaID = messageID
        return try seal(Array(try receipt.serializedBytes() as Data), messageID: messageID, mediaKey: mediaKey)
    }

    /// The message id a request names; throws when it does not open under this media key.
    package static func openRequest(ciphertext: [UInt8], iv: [UInt8], messageID: String, mediaKey: [UInt8]) throws -> String {
        let plaintext = try open(ciphertext, iv: iv, messageID: messageID, mediaKey: mediaKey)
        do { return try Waproto_ServerErrorReceipt(serializedBytes: plaintext).stanzaID } catch {
            throw ProtocolError.signalMalformed("the media retry request is not a ServerErrorReceipt")
        }
    }

    /// `enc_p` and `enc_iv` of the phone's answer.
    package static func sealNotification(
        _ notification: Waproto_MediaRetryNotification, messageID: String, mediaKey: [UInt8]
    ) throws -> (ciphertext: [UInt8], iv: [UInt8]) {
        try seal(Array(try notification.serializedBytes() as Data), messageID: messageID, mediaKey: mediaKey)
    }

    /// The phone's answer; throws when it does not open under this media key.
    package static func openNotification(
        ciphertext: [UInt8], iv: [UInt8], messageID: String, mediaKey: [UInt8]
    ) throws -> Waproto_MediaRetryNotification {
        let plaintext = try open(ciphertext, iv: iv, messageID: messageID, mediaKey: mediaKey)
        do { return try Waproto_MediaRetryNotification(serializedBytes: plaintext) } catch {
            throw ProtocolError.signalMalformed("the media retry answer is not a MediaRetryNotification")
        }
    }

    private static func seal(_ plaintext: [UInt8], messageID: String, mediaKey: [UInt8]) throws -> (ciphertext: [UInt8], iv: [UInt8]) {
        let iv = try Crypto.randomBytes(12)
        let sealed = try Crypto.aes256GCMSeal(key: key(mediaKey: mediaKey), iv: iv, plaintext: plaintext, aad: Array(messageID.utf8))
        return (sealed, iv)
    }

    private static func open(_ ciphertext: [UInt8], iv: [UInt8], messageID: String, mediaKey: [UInt8]) throws -> [UInt8] {
        do {
            return try Crypto.aes256GCMOpen(key: key(mediaKey: mediaKey), iv: iv, ciphertext: ciphertext, aad: Array(messageID.utf8))
        } catch {
            throw ProtocolError.signalMalformed("the media retry payload does not open with this media key")
        }
    }
}
