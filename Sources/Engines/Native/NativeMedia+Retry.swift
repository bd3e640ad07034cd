import Foundation
import Reactor
import WAProtocol

/// Media re-upload (reference part 2, 5.7): a received blob the media host no longer has (404 or
/// 410, the sender's upload expired) is asked for again. The `server-error` receipt goes to our
/// own account, whose phone holds the message; it uploads the blob again and answers with a
/// `mediaretry` notification naming the new direct path, sealed under the media key. One request
/// per download: a phone that cannot serve it leaves the download failed, noted on the row.
extension NativeMediaTransfer {
    /// Where a received media message came from: what the receipt's `<rmr>` names.
    struct MediaOrigin: Sendable {
        let chat: JID
        let sender: JID
        let fromMe: Bool
    }

    /// `attachment` at the direct path the phone uploaded it to again.
    func reuploaded(
        _ attachment: MessageCodec.MediaAttachment, messageID: String, origin: MediaOrigin, link: LinkRef
    ) async throws -> MessageCodec.MediaAttachment {
        let sealed = try MediaRetry.sealRequest(messageID: messageID, mediaKey: attachment.mediaKey)
        let answer = try await link.askForReupload(messageID: messageID, origin: origin, sealed: sealed, timeout: timeoutMilliseconds)
        if let refusal = answer.child("error") {
            let code = refusal.attributes.string("code") ?? "?"
            throw EngineError.notFound("the phone could not upload the media again (error \(code))")
        }
        guard let encrypt = answer.child("encrypt"), let ciphertext = encrypt.child("enc_p")?.contentBytes,
            let iv = encrypt.child("enc_iv")?.contentBytes
        else { throw EngineError.invalid("the phone's media retry answer carries no payload") }
        let notification: Waproto_MediaRetryNotification
        do {
            notification = try MediaRetry.openNotification(
                ciphertext: ciphertext, iv: iv, messageID: messageID, mediaKey: attachment.mediaKey)
        } catch {
            throw EngineError.invalid("the phone's media retry answer did not open: \(error)")
        }
        guard notification.result == .success, notification.directPath.hasPrefix("/") else {
            throw EngineError.notFound("the phone could not upload the media again (\(notification.result))")
        }
        var fresh = attachment
        fresh.directPath = notification.directPath
        return fresh
    }
}

extension LinkRef {
    /// Sends the `server-error` receipt for `messageID` and waits for the phone's answer.
    func askForReupload(
        messageID: String, origin: NativeMediaTransfer.MediaOrigin, sealed: (ciphertext: [UInt8], iv: [UInt8]), timeout: Int
    ) async throws -> BinaryNode {
        try await withLink { link, continuation in
            guard let me = link.credentials?.me else {
                return continuation.resume(throwing: EngineError.unavailable("the device is not paired"))
            }
            var rmr: NodeAttributes = ["jid": .jid(origin.chat), "from_me": .string(origin.fromMe ? "true" : "false")]
            if origin.chat.server == JID.Server.group { rmr.append("participant", .jid(origin.sender)) }
            let receipt = BinaryNode(
                "receipt", ["id": .string(messageID), "to": .jid(JID(user: me.user, server: me.server)), "type": "server-error"],
                children: [
                    BinaryNode(
                        "encrypt", children: [BinaryNode("enc_p", bytes: sealed.ciphertext), BinaryNode("enc_iv", bytes: sealed.iv)]),
                    BinaryNode("rmr", rmr),
                ])
            link.awaitMediaRetry(messageID, timeout: timeout) { continuation.resume(with: $0.mapError { $0 }) }
            link.send(receipt)
        }
    }
}

extension NativeLink {
    /// Keeps `callback` for the `mediaretry` notification about `messageID`, or a timeout.
    func awaitMediaRetry(_ messageID: String, timeout: Int, _ callback: @escaping (Result<BinaryNode, EngineError>) -> Void) {
        if let earlier = mediaRetries.removeValue(forKey: messageID) {
            reactor.cancel(earlier.timer)
            earlier.callback(.failure(.unavailable("a newer media retry for the message replaced this one")))
        }
        let timer = reactor.schedule(afterMilliseconds: timeout) { [weak self] in
            guard let entry = self?.mediaRetries.removeValue(forKey: messageID) else { return }
            entry.callback(.failure(.unavailable("the phone did not answer the media retry")))
        }
        mediaRetries[messageID] = (timer, callback)
    }

    /// A `mediaretry` notification: the answer to one of our requests, or nothing we asked for.
    func handleMediaRetry(_ node: BinaryNode) {
        guard let id = node.attributes.string("id"), let entry = mediaRetries.removeValue(forKey: id) else { return }
        reactor.cancel(entry.timer)
        entry.callback(.success(node))
    }
}
