import Foundation
import Reactor
import SwiftProtobuf
import Testing
@testable import WAProtocol

/// The media re-upload payloads (reference part 2, 5.7): the key, the request's plaintext and
/// the answer, sealed and opened, and refused under another media key or message id.
@Suite struct MediaRetryCryptoTests {
    static let mediaKey = (0..<32).map { UInt8($0) }
    static let messageID = "3EB0AABBCCDDEEFF001122"

    /// Computed independently: `openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:0001…1f
    /// -kdfopt "info:WhatsApp Media Retry Notification" HKDF`.
    @Test func keyIsHKDFOfTheMediaKey() {
        let expected = "c84dfe50a708e0ec382a7ad2ba40135256f41b652cebe2129661d27871111cb2"
        #expect(signalHexString(MediaRetry.key(mediaKey: Self.mediaKey)) == expected)
    }

    @Test func theRequestIsAServerErrorReceiptSealedWithTheMessageIDAsAAD() throws {
        let sealed = try MediaRetry.sealRequest(messageID: Self.messageID, mediaKey: Self.mediaKey)
        #expect(sealed.iv.count == 12)
        let plaintext = try Crypto.aes256GCMOpen(
            key: MediaRetry.key(mediaKey: Self.mediaKey), iv: sealed.iv, ciphertext: sealed.ciphertext, aad: Array(Self.messageID.utf8))
        // Field 1, length-delimited: the message id.
        #expect(plaintext == [0x0a, UInt8(Self.messageID.utf8.count)] + Array(Self.messageID.utf8))
        #expect(try MediaRetry.openRequest(ciphertext: sealed.ciphertext, iv: sealed.iv, messageID: Self.messageID, mediaKey: Self.mediaKey)
            == Self.messageID)
        #expect(throws: ProtocolError.self) {
            try MediaRetry.openRequest(ciphertext: sealed.ciphertext, iv: sealed.iv, messageID: "3EB0OTHER", mediaKey: Self.mediaKey)
        }
    }

    @Test func theAnswerOpensOnlyUnderItsMediaKey() throws {
        var notification = Waproto_MediaRetryNotification()
        notification.stanzaID = Self.messageID
        notification.directPath = "/v/t62.7118-24/new.enc"
        notification.result = .success
        let sealed = try MediaRetry.sealNotification(notification, messageID: Self.messageID, mediaKey: Self.mediaKey)
        let opened = try MediaRetry.openNotification(
            ciphertext: sealed.ciphertext, iv: sealed.iv, messageID: Self.messageID, mediaKey: Self.mediaKey)
        #expect(opened.directPath == "/v/t62.7118-24/new.enc")
        #expect(opened.result == .success)
        // Fields 2 (direct path) and 3 (result, SUCCESS = 1) on the wire.
        let bytes = Array(try opened.serializedBytes() as Data)
        #expect(bytes.suffix(2) == [0x18, 0x01])
        #expect(throws: ProtocolError.self) {
            try MediaRetry.openNotification(
                ciphertext: sealed.ciphertext, iv: sealed.iv, messageID: Self.messageID, mediaKey: [UInt8](repeating: 9, count: 32))
        }
    }
}
