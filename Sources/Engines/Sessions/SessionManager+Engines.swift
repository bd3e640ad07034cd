import Foundation
import Logging
import Persistence
import Reactor

extension SessionManager {
    /// Starts the session's engine; the status then follows the engine's events.
    package func start(id: String) async throws -> Session {
        var current = try await record(id)
        if live[id]?.engine != nil { throw EngineError.invalid("Session is already started") }
        guard let engines else { throw EngineError.notSupported("The configured engine is not available in this build") }
        if maxConcurrentSessions > 0, live.values.filter({ $0.engine != nil }).count >= maxConcurrentSessions {
            throw EngineError.invalid("Maximum concurrent sessions reached (\(maxConcurrentSessions))")
        }
        let (stream, continuation) = AsyncStream.makeStream(of: EngineEvent.self)
        let engine = engines.makeEngine(
            sessionID: id, config: SessionConfig(json: current.config).engineConfig,
            events: { continuation.yield($0) })
        // One consumer per session keeps the engine's events in order.
        let consumer = Task { [weak self] in
            for await event in stream { await self?.apply(event, to: id) }
        }
        live[id] = Live(engine: engine, qr: nil, lastError: nil, events: consumer, status: .initializing, statusSince: now())
        current.status = SessionStatus.initializing.rawValue
        current.desiredState = "started"
        current.updatedAt = now()
        try await save(current)
        publish("session.status", id, ["sessionId": .string(id), "status": "initializing"])
        do {
            try await engine.start()
        } catch {
            live[id]?.lastError = "\(error)"
            await teardown(id)
            try await transition(id, to: .failed)
            throw EngineError.unavailable("Engine could not start: \(error)")
        }
        await audit("session_started", current)
        return try await get(id: id)
    }

    /// Disconnects and keeps the credentials; the session stays down until started again.
    package func stop(id: String) async throws -> Session {
        var current = try await record(id)
        guard live[id]?.engine != nil else { throw EngineError.invalid("Session is not started") }
        await teardown(id)
        current = try await record(id)
        current.status = SessionStatus.disconnected.rawValue
        current.desiredState = "stopped"
        current.updatedAt = now()
        try await save(current)
        publish("session.status", id, ["sessionId": .string(id), "status": "disconnected"])
        await audit("session_stopped", current)
        return view(current)
    }

    /// Unlinks the device at WhatsApp and wipes the credentials.
    package func logout(id: String) async throws -> Session {
        _ = try await record(id)
        guard let engine = live[id]?.engine else { throw EngineError.invalid("Session is not started") }
        try await engine.logout()
        await teardown(id)
        try await guarded { try await self.authState.wipe(sessionID: id) }
        var current = try await record(id)
        current.status = SessionStatus.disconnected.rawValue
        current.phone = nil
        current.pushName = nil
        current.desiredState = "stopped"
        current.updatedAt = now()
        try await save(current)
        publish("session.status", id, ["sessionId": .string(id), "status": "disconnected"])
        await audit("session_logged_out", current)
        return view(current)
    }

    /// Stop then start, keeping the credentials.
    package func restart(id: String) async throws -> Session {
        if live[id]?.engine != nil { _ = try await stop(id: id) }
        return try await start(id: id)
    }

    package func pairingCode(id: String, phoneNumber: String) async throws -> (code: String, status: SessionStatus) {
        let session = try await get(id: id)
        guard let engine = live[id]?.engine else { throw EngineError.invalid("Session is not started") }
        if session.status == .ready || session.status == .authenticating {
            throw EngineError.invalid("Session is already authenticated")
        }
        guard session.status == .qrReady else { throw EngineError.conflict("Session is not ready for pairing yet") }
        let code = try await engine.requestPairingCode(phoneNumber: phoneNumber)
        return (code, session.status)
    }

    /// Sends a text through the session's engine (501 when the engine cannot).
    package func sendText(id: String, chatID: String, text: String) async throws -> SentMessage {
        let session = try await get(id: id)
        guard let engine = live[id]?.engine else { throw EngineError.invalid("Session is not started") }
        guard session.status == .ready else { throw EngineError.invalid("Session is not ready") }
        return try await engine.sendText(chatID: chatID, text: text)
    }

    /// Marks a chat's incoming messages read (all unread ones, or `messageIDs`): the stored rows
    /// and a read receipt to the sender. False when nothing was unread.
    package func markRead(id: String, chatID: String, messageIDs: [String]?) async throws -> Bool {
        guard let live = live[id], let engine = live.engine, live.status == .ready else {
            _ = try await get(id: id)
            throw EngineError.invalid("Session is not ready")
        }
        guard let messages else { throw EngineError.notSupported("No message store") }
        let unread = try await messages.unread(sessionID: id, chatID: chatID, messageIDs: messageIDs)
        guard !unread.isEmpty else { return false }
        // The receipts go first: rows turn read only once WhatsApp was told, so a receipt that
        // could not go out leaves them unread for the next call (sending one twice is harmless).
        try await engine.markRead(chatID: chatID, messageIDs: unread)
        _ = try await messages.markRead(sessionID: id, chatID: chatID, messageIDs: unread)
        return true
    }

    /// Typing, recording or paused in a chat (OpenWA's `chats/typing`).
    package func sendChatState(id: String, chatID: String, state: String) async throws {
        guard let live = live[id], let engine = live.engine, live.status == .ready else {
            _ = try await get(id: id)
            throw EngineError.invalid("Session is not ready")
        }
        try await engine.sendChatState(chatID: chatID, state: state)
    }

    /// Whether a number is on WhatsApp, asked through the session's engine (501 when it cannot).
    package func checkNumber(id: String, number: String) async throws -> String? {
        if let live = live[id], let engine = live.engine, live.status == .ready { return try await engine.checkNumber(number) }
        _ = try await get(id: id)
        throw EngineError.invalid("Session is not ready")
    }

    /// Sends any content through the session's engine (501 when the engine cannot).
    package func send(id: String, _ message: OutgoingMessage) async throws -> SentMessage {
        // The hot path: a live, ready session sends without reading its row.
        if let live = live[id], let engine = live.engine, live.status == .ready { return try await engine.send(message) }
        let session = try await get(id: id)
        guard let engine = live[id]?.engine else { throw EngineError.invalid("Session is not started") }
        guard session.status == .ready else { throw EngineError.invalid("Session is not ready") }
        return try await engine.send(message)
    }

    /// At boot: sessions left in active states are reset; with `autoStart`, authenticated
    /// sessions not deliberately stopped are started again, `concurrency` at a time.
    package func restoreAtBoot(autoStart: Bool, concurrency: Int) async {
        guard let records = try? await store.list(limit: 1_000_000, offset: 0, name: nil) else { return }
        var toStart: [String] = []
        for var record in records where (SessionStatus(rawValue: record.status) ?? .created).isActive {
            record.status = SessionStatus.disconnected.rawValue
            try? await save(record)
            if autoStart, record.phone != nil, record.desiredState != "stopped" { toStart.append(record.id) }
        }
        // `concurrency` starts in flight at once: each awaits its database writes and the engine's
        // first step, so overlapping them keeps the data database and the reactor busy.
        await withTaskGroup(of: Void.self) { group in
            var next = toStart.makeIterator()
            func launch() -> Bool {
                guard let id = next.next() else { return false }
                group.addTask {
                    do { _ = try await self.start(id: id) } catch {
                        self.logger.warning("session restore failed", metadata: ["session.id": "\(id)", "error": "\(error)"])
                    }
                }
                return true
            }
            for _ in 0..<max(1, concurrency) {
                if !launch() { break }
            }
            while await group.next() != nil { _ = launch() }
        }
    }

    /// Stops every engine (gateway shutdown); credentials stay.
    package func shutdown() async {
        watchdog?.cancel()
        watchdog = nil
        for id in live.keys { await teardown(id) }
    }

    // MARK: - Engine events

    func apply(_ event: EngineEvent, to id: String) async {
        guard live[id]?.engine != nil else { return }  // late events from a stopped engine
        do {
            switch event {
            case .qr(let qr):
                let first = live[id]?.qr == nil
                live[id]?.qr = qr
                try await transition(id, to: .qrReady)
                publish("session.qr", id, ["sessionId": .string(id), "qr": .string(QRImage.dataURL(qr))])
                if first, let current = try? await record(id) { await audit("session_qr_generated", current) }
            case .authenticating:
                live[id]?.qr = nil
                try await transition(id, to: .authenticating)
            case .ready(let phone, let pushName):
                var current = try await record(id)
                current.phone = phone
                current.pushName = pushName
                current.connectedAt = now()
                current.lastActiveAt = current.connectedAt
                current.status = SessionStatus.ready.rawValue
                current.updatedAt = now()
                try await save(current)
                noteStatus(id, .ready)
                live[id]?.lastError = nil
                publish("session.status", id, ["sessionId": .string(id), "status": "ready"])
                publish(
                    "session.authenticated", id,
                    ["sessionId": .string(id), "phone": .string(phone), "pushName": pushName.map(JSONValue.string) ?? .null])
            case .disconnected(let reason, let willReconnect):
                live[id]?.lastError = reason
                if !willReconnect { await teardown(id) }
                try await transition(id, to: .disconnected)
                publish("session.disconnected", id, ["sessionId": .string(id), "reason": .string(reason)])
                if let current = try? await record(id) { await audit("session_disconnected", current) }
            case .loggedOut(let reason):
                var current = try await record(id)
                current.phone = nil
                current.pushName = nil
                current.status = SessionStatus.disconnected.rawValue
                current.updatedAt = now()
                try await save(current)
                noteStatus(id, .disconnected)
                live[id]?.lastError = reason
                publish("session.status", id, ["sessionId": .string(id), "status": "disconnected"])
                publish("session.disconnected", id, ["sessionId": .string(id), "reason": .string(reason)])
            case .failed(let reason):
                live[id]?.lastError = reason
                await teardown(id)
                try await transition(id, to: .failed)
            case .message(let message):
                if let messages {
                    // Stored with its event in one transaction; a repeat of a known id is dropped. Our
                    // own messages start `pending`, so the acks that follow each show as a change.
                    if message.fromMe {
                        try await messages.sent(sessionID: id, message: message)
                    } else {
                        try await messages.ingest(sessionID: id, message: message)
                    }
                } else {
                    publish(message.fromMe ? "message.sent" : "message.received", id, Self.json(message))
                }
            case .messageAck(let messageID, let chatID, let ack) where messages != nil:
                try await messages?.acknowledged(sessionID: id, chatID: chatID, messageIDs: [messageID], ack: ack)
            case .messageAck(let messageID, let chatID, let ack):
                publish(
                    "message.ack", id,
                    [
                        "id": .string(messageID), "messageId": .string(messageID), "status": .string(Self.ackStatus(ack)),
                        "ack": .number(Double(ack)), "chatId": chatID.map(JSONValue.string) ?? .null,
                    ])
            case .group(let change):
                publish(change.name, id, change.json)
            case .presence(let snapshot):
                publish("presence.update", id, snapshot.event(sessionID: id))
            case .pushName(let name):
                var current = try await record(id)
                guard current.pushName != name else { break }
                current.pushName = name
                current.updatedAt = now()
                try await save(current)
            case .reconnectLoop(let attempts, let delay):
                publish(
                    "session.reconnect_loop", id,
                    ["sessionId": .string(id), "attempts": .number(Double(attempts)), "nextDelayMs": .number(Double(delay))])
            }
        } catch {
            logger.error("session event not applied", metadata: ["session.id": "\(id)", "error": "\(error)"])
        }
    }
}

extension SessionManager {
    /// OpenWA's `IncomingMessage` fields that every engine fills.
    static func json(_ message: EngineMessage) -> JSONValue {
        [
            "id": .string(message.id), "from": .string(message.from), "to": .string(message.to),
            "chatId": .string(message.chatID), "body": .string(message.body), "type": .string(message.type),
            "timestamp": .number(Double(message.timestamp)), "isGroup": .bool(message.chatID.hasSuffix("@g.us")),
            "fromMe": .bool(message.fromMe),
        ]
    }

    /// WhatsApp's ack number as OpenWA's delivery status.
    static func ackStatus(_ ack: Int) -> String {
        switch ack {
        case ..<0: return "failed"
        case 0: return "pending"
        case 1: return "sent"
        case 2: return "delivered"
        default: return "read"
        }
    }
}
