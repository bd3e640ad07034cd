import Foundation
import Logging
import Reactor
import WAProtocol

/// What the server sends after the handshake, by tag.
extension NativeLink {
    func handleNode(_ node: BinaryNode) {
        switch node.tag {
        case "iq": handleIQ(node)
        case "success": handleSuccess(node)
        case "failure": handleFailure(node)
        case "stream:error": handleStreamError(node)
        case "xmlstreamend": linkLost("the server ended the stream")
        case "notification":
            acknowledge(node)
            handleNotification(node)
        case "message": handleMessage(node)
        case "receipt":
            acknowledge(node)
            handleReceipt(node)
        case "ack": handleMessageAck(node)
        case "call": acknowledge(node)
        case "presence": handlePresence(node)
        case "chatstate": handleIncomingChatState(node)
        default: break
        }
    }

    private func handleIQ(_ node: BinaryNode) {
        let type = node.attributes.string("type")
        let id = node.attributes.string("id") ?? ""
        if type == "result" || type == "error" {
            guard let entry = pending.removeValue(forKey: id) else { return }
            reactor.cancel(entry.timer)
            if type == "error" {
                let error = node.child("error")
                let code = error?.attributes.string("code") ?? "?"
                let text = "the server refused the request: \(code) \(error?.attributes.string("text") ?? "")"
                // Not found, forbidden and conflict keep their meaning up to the API's status.
                switch code {
                case "404": entry.callback(.failure(.notFound(text)))
                case "401", "403": entry.callback(.failure(.forbidden(text)))
                case "409": entry.callback(.failure(.conflict(text)))
                default: entry.callback(.failure(.invalid(text)))
                }
            } else {
                entry.callback(.success(node))
            }
            return
        }
        if type == "get", node.attributes.string("xmlns") == "urn:xmpp:ping" || node.child("ping") != nil {
            return send(result(for: id))
        }
        guard type == "set", node.attributes.string("xmlns") == "md" else { return }
        if let pairDevice = node.child("pair-device") {
            send(result(for: id))
            handlePairDevice(pairDevice)
        } else if let success = node.child("pair-success") {
            handlePairSuccess(success, id: id)
        }
    }

    func result(for id: String) -> BinaryNode {
        BinaryNode("iq", ["to": .jid(.whatsAppServer), "id": .string(id), "type": "result"])
    }

    /// `<ack id class type to [participant]>` for every notification, message, receipt and call.
    private func acknowledge(_ node: BinaryNode) {
        guard let id = node.attributes.string("id") else { return }
        var attributes: NodeAttributes = ["id": .string(id), "class": .string(node.tag)]
        if let type = node.attributes.string("type"), node.tag != "message" { attributes.append("type", .string(type)) }
        attributes.append("to", node.attributes.jid("from").map { .jid($0) } ?? .jid(.whatsAppServer))
        if let participant = node.attributes.jid("participant") { attributes.append("participant", .jid(participant)) }
        send(BinaryNode("ack", attributes))
    }

    private func handleNotification(_ node: BinaryNode) {
        switch node.attributes.string("type") {
        case "link_code_companion_reg":
            if let registration = node.child("link_code_companion_reg") { handlePrimaryHello(registration) }
        case "companion_reg_refresh":
            refreshAdvSecret()
        case "w:gp2":
            handleGroupNotification(node)
        case "picture":
            handlePictureNotification(node)
        case "account_sync":
            if let change = node.child("blocklist") { applyBlocklistChange(change) }
        case "server_sync":
            handleServerSync(node)
        case "mediaretry":
            handleMediaRetry(node)
        case "devices":
            handleDevicesNotification(node)
        case "encrypt":
            if let value = node.child("count")?.attributes.string("value").flatMap(Int.init), value < 5, phase == .ready {
                uploadPreKeys(count: 50) { _ in }
            }
        default: break
        }
    }

    // MARK: - Stream end and refusals (ref part 1 §6.5)

    private func handleStreamError(_ node: BinaryNode) {
        let code = node.attributes.string("code")
        let conflict = node.child("conflict")?.attributes.string("type")
        if code == "515" {
            // Restart required (after pairing): reconnect at once with the login payload.
            logger.debug("restart required")
            teardown()
            return connect()
        }
        if code == "401" || conflict == "device_removed" {
            return removedByPhone("the device was removed from the account")
        }
        if conflict == "replaced" || node.child("conflict") != nil {
            return linkLost("replaced: another client logged in with this device", reconnect: false)
        }
        linkLost("stream error \(code ?? "without code")")
    }

    private func handleFailure(_ node: BinaryNode) {
        let reason = node.attributes.string("reason") ?? "?"
        switch reason {
        case "401", "403", "406": removedByPhone("the server refused the login (\(reason)): logged out")
        case "500", "503": linkLost("the server is unavailable (\(reason))")
        default: fail("the server refused the login (failure \(reason))")
        }
    }
}
