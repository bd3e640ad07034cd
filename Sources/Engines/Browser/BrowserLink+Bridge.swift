import Foundation
import Logging
import Reactor

/// The bridge: events the preload script reports through the binding, and commands evaluated
/// in the page (`window.__openwa.call(name, args)`, awaited, returned by value).
extension BrowserLink {
    func bridgeEvent(_ payload: String) {
        guard let message = try? JSONParser.parse(Array(payload.utf8)), let type = message["type"]?.stringValue else { return }
        let data = message["data"] ?? .null
        switch type {
        case "loaded":
            cancel(&loadTimer)
            logger.debug("WhatsApp Web loaded", metadata: ["wa.version": "\(data["version"]?.stringValue ?? "?")"])
        case "qr":
            guard let qr = data["qr"]?.stringValue else { return }
            phase = .unpaired
            qrShown += 1
            // As whatsapp-web.js does: the QR past the cap is not shown, the browser closes and
            // the session waits for a new start (nobody is scanning; rotating on is pointless).
            if configuration.qrMaxRetries > 0, qrShown > configuration.qrMaxRetries {
                return giveUp("Max qrcode retries reached", failed: false)
            }
            emit(.qr(qr))
        case "state":
            stateChanged(data["state"]?.stringValue ?? "")
        case "ready":
            guard phase != .ready else { return }
            phase = .ready
            qrShown = 0
            cancel(&loadTimer)
            becameReady()
            emit(.ready(phone: Self.phone(of: data["me"]?.stringValue ?? ""), pushName: data["pushName"]?.stringValue))
        case "message":
            if let message = Self.message(data) { emit(.message(message)) }
        case "message_ack":
            guard let id = data["id"]?.stringValue, let ack = data["ack"]?.intValue else { return }
            emit(.messageAck(messageID: id, chatID: data["chatId"]?.stringValue, ack: ack))
        case "logout":
            loggedOutByPage()
        case "error":
            logger.debug("bridge error", metadata: ["bridge.error": "\(data["message"]?.stringValue ?? "")"])
        default:
            break
        }
    }

    /// WhatsApp Web's socket state (`WAWebSocketModel.Socket.state`).
    private func stateChanged(_ state: String) {
        switch state {
        case "PAIRING", "CONNECTED":
            // Leaving the QR screen for these means the phone linked us (OPENING alone is only
            // WA Web's socket reconnecting).
            if phase == .unpaired {
                phase = .authenticating
                emit(.authenticating)
            }
        case "CONFLICT", "DEPRECATED_VERSION", "PROXYBLOCK", "SMB_TOS_BLOCK", "TOS_BLOCK":
            wantRunning = false
            teardown()
            releaseProfile()
            emit(.disconnected(reason: state, willReconnect: false))
        default:
            break
        }
    }

    /// WhatsApp Web logged out (the phone removed the device): the profile's state is gone, the
    /// page shows a QR again.
    func loggedOutByPage() {
        guard phase == .ready || phase == .authenticating else { return }
        phase = .loading
        cancel(&readyResetTimer)
        emit(.loggedOut(reason: "logged out"))
    }

    // MARK: - Commands

    /// Evaluates `expression` in the page, awaiting a promise, and returns its JSON value.
    /// Exceptions thrown by the page are errors, with the page's message.
    func evaluate(_ expression: String, timeoutMilliseconds: Int? = nil, _ completion: @escaping (Result<JSONValue, EngineError>) -> Void) {
        guard let connection, let session = pageSession, !pageCrashed else {
            return completion(.failure(.unavailable("The browser page is not available")))
        }
        let params: JSONValue = ["expression": .string(expression), "awaitPromise": true, "returnByValue": true]
        connection.send(
            "Runtime.evaluate", params, session: session,
            timeoutMilliseconds: timeoutMilliseconds ?? configuration.commandTimeoutMilliseconds
        ) { result in
            switch result {
            case .failure(let error):
                completion(.failure(.unavailable("The browser did not answer: \(error)")))
            case .success(let value):
                if let details = value["exceptionDetails"] {
                    let text = details["exception"]?["description"]?.stringValue ?? details["text"]?.stringValue ?? "exception"
                    return completion(.failure(.invalid("WhatsApp Web refused: \(text)")))
                }
                completion(.success(value["result"]?["value"] ?? .null))
            }
        }
    }

    /// Calls a bridge command that needs a logged-in page. A refusal the page returns
    /// (`{error: {code, message}}`) becomes the matching `EngineError` (`notFound` is a 404).
    func callWhenReady(
        _ name: String, _ arguments: [JSONValue], timeoutMilliseconds: Int? = nil,
        _ completion: @escaping (Result<JSONValue, EngineError>) -> Void
    ) {
        guard phase == .ready else { return completion(.failure(.invalid("Session is not ready"))) }
        let expression = "window.__openwa.call(\(JSONWriter.string(.string(name))), \(JSONWriter.string(.array(arguments))))"
        evaluate(expression, timeoutMilliseconds: timeoutMilliseconds) { result in
            completion(
                result.flatMap { value in
                    guard let refusal = value["error"] else { return .success(value) }
                    let message = refusal["message"]?.stringValue ?? "WhatsApp Web refused the command"
                    return .failure(refusal["code"]?.stringValue == "notFound" ? .notFound(message) : .invalid(message))
                })
        }
    }

    /// Hands one piece of a media file (base64) to the page, ahead of the `send` that uses it.
    func stageMedia(token: String, base64: String, _ completion: @escaping (Result<Void, EngineError>) -> Void) {
        guard phase == .ready else { return completion(.failure(.invalid("Session is not ready"))) }
        // Base64 and the token (hex) need no escaping inside a JS string literal.
        evaluate("window.__openwa.stage('\(token)', '\(base64)')") { completion($0.map { _ in () }) }
    }

    /// Drops staged pieces of a send that failed before the page took them.
    func unstageMedia(token: String) {
        evaluate("window.__openwa.unstage('\(token)')") { _ in }
    }

    // MARK: - Values

    static func message(_ data: JSONValue) -> EngineMessage? {
        guard let id = data["id"]?.stringValue, let chat = data["chatId"]?.stringValue else { return nil }
        return EngineMessage(
            id: id, chatID: chat, from: data["from"]?.stringValue ?? "", to: data["to"]?.stringValue ?? "",
            body: data["body"]?.stringValue ?? "", type: data["type"]?.stringValue ?? "chat",
            timestamp: data["timestamp"]?.intValue ?? 0, fromMe: data["fromMe"]?.boolValue ?? false)
    }

    /// "15551234567@c.us" (or with a device suffix) -> "15551234567".
    static func phone(of wid: String) -> String {
        String(wid.prefix { $0 != "@" && $0 != ":" })
    }
}
