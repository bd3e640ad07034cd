import Foundation
import Reactor
import WAProtocol

/// What the phone that sent a media message keeps of it: the media key, to open a re-upload
/// request and seal its answer, and where the blob first went (the host keeps the phones' copy).
struct HeldMedia {
    let mediaKey: [UInt8]
    let directPath: String
    let type: String
}

/// Media re-upload on the phone side (reference part 2, 5.7 [SIM]): a companion whose download
/// found no blob sends a `server-error` receipt to its own account; the account's phone opens it
/// with the message's media key, uploads its copy of the blob again and answers with a
/// `mediaretry` notification naming the new direct path. A phone that no longer has the media
/// answers `<error code="2"/>`.
extension SimulatorCore {
    /// Notes the media of a message a phone sent, for a later re-upload.
    func holdMedia(of content: Waproto_Message, id: String) {
        guard let attachment = MessageCodec.mediaAttachment(of: content) else { return }
        heldMedia[id] = HeldMedia(
            mediaKey: attachment.mediaKey, directPath: attachment.directPath, type: attachment.kind.mediaKind.uploadPath ?? "image")
    }

    /// The answer's payload to a re-upload request for `id`: `<encrypt>` on success or when the
    /// request does not open, `<error code="2"/>` when no phone holds the media any more.
    func reuploadAnswer(id: String, request: BinaryNode?) -> BinaryNode {
        guard let held = heldMedia[id] else { return BinaryNode("error", ["code": "2"]) }
        var notification = Waproto_MediaRetryNotification()
        notification.stanzaID = id
        if let ciphertext = request?.child("enc_p")?.contentBytes, let iv = request?.child("enc_iv")?.contentBytes,
            (try? MediaRetry.openRequest(ciphertext: ciphertext, iv: iv, messageID: id, mediaKey: held.mediaKey)) == id
        {
            if let directPath = media.reupload(held.directPath, type: held.type) {
                notification.result = .success
                notification.directPath = directPath
            } else {
                notification.result = .notFound
            }
        } else {
            notification.result = .decryptionError
        }
        guard let sealed = try? MediaRetry.sealNotification(notification, messageID: id, mediaKey: held.mediaKey) else {
            return BinaryNode("error", ["code": "1"])
        }
        return BinaryNode("encrypt", children: [BinaryNode("enc_p", bytes: sealed.ciphertext), BinaryNode("enc_iv", bytes: sealed.iv)])
    }
}

extension SimulatorConnection {
    /// A companion's `server-error` receipt (already acked): its account's phone answers it.
    func mediaRetryRequest(_ node: BinaryNode, id: String) {
        guard let account else { return }
        var children: [BinaryNode] = []
        if let rmr = node.child("rmr") { children.append(rmr) }
        children.append(core.reuploadAnswer(id: id, request: node.child("encrypt")))
        send(
            BinaryNode(
                "notification",
                ["from": .jid(account.jid), "type": "mediaretry", "id": .string(id), "t": .string(String(unixNow()))],
                children: children))
    }
}
