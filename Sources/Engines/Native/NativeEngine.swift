import Foundation
import Logging
import Persistence
import Reactor
import WAProtocol

/// Makes `NativeEngine`s: WhatsApp's multi-device protocol spoken directly over one WebSocket per
/// session, on the shared reactor.
package struct NativeEngineFactory: WhatsAppEngineFactory {
    package let configuration: NativeEngineConfiguration
    let reactor: ReactorHandle
    private let authState: any AuthStateStore
    private let messages: any MessageSink
    private let logger: Logger

    package init(
        configuration: NativeEngineConfiguration, reactor: ReactorHandle, authState: any AuthStateStore,
        messages: any MessageSink, logger: Logger
    ) {
        self.configuration = configuration
        self.reactor = reactor
        self.authState = authState
        self.messages = messages
        self.logger = logger
    }

    package var engineType: EngineType { .native }

    package func makeEngine(
        sessionID: String, config: SessionEngineConfig, events: @escaping @Sendable (EngineEvent) -> Void
    ) -> any WhatsAppEngine {
        NativeEngine(
            sessionID: sessionID, config: config, configuration: configuration, reactor: reactor, authState: authState,
            messages: messages, logger: logger, events: events)
    }
}

/// One session's native connection. Callable from any task; the link itself (`NativeLink`) lives
/// on the reactor thread and every method here hops there.
package final class NativeEngine: WhatsAppEngine {
    let link: ReactorBound<NativeLink>
    let reactor: ReactorHandle

    package init(
        sessionID: String, config: SessionEngineConfig, configuration: NativeEngineConfiguration, reactor: ReactorHandle,
        authState: any AuthStateStore, messages: any MessageSink, logger: Logger,
        events: @escaping @Sendable (EngineEvent) -> Void
    ) {
        self.reactor = reactor
        var logger = logger
        logger[metadataKey: "link.session"] = "\(sessionID)"
        link = ReactorBound(
            handle: reactor,
            NativeLink(
                sessionID: sessionID, config: config, configuration: configuration, handle: reactor, authState: authState,
                messages: messages, logger: logger, events: events))
    }

    package func start() async throws {
        try await onReactor { link, continuation in link.start(continuation) }
    }

    package func stop() async {
        try? await onReactor { link, continuation in link.stop(continuation) }
    }

    package func logout() async throws {
        try await onReactor { link, continuation in link.logout(continuation) }
    }

    package func requestPairingCode(phoneNumber: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let posted = reactor.post { [link] reactor in
                link.value.attach(reactor)
                link.value.requestPairingCode(phoneNumber: phoneNumber) { continuation.resume(with: $0) }
            }
            if !posted { continuation.resume(throwing: EngineError.unavailable("the reactor has stopped")) }
        }
    }

    package func health() async -> EngineHealth {
        let probe = try? await reactor.submit { [link] reactor in
            let value = link.value
            return EngineHealth(
                linkUp: value.socket != nil,
                silentMilliseconds: value.socket == nil ? nil : value.lastInbound.map { $0.milliseconds(until: reactor.now) })
        }
        return probe ?? EngineHealth(linkUp: false, silentMilliseconds: nil)
    }

    package func sendText(chatID: String, text: String) async throws -> SentMessage {
        try await send(OutgoingMessage(chatID: chatID, content: .text(text)))
    }

    package func send(_ message: OutgoingMessage) async throws -> SentMessage {
        let job: SendJob = try await withCheckedThrowingContinuation { continuation in
            let posted = reactor.post { [link] reactor in
                link.value.attach(reactor)
                continuation.resume(with: Result { try link.value.sendJob(for: message) })
            }
            if !posted { continuation.resume(throwing: EngineError.unavailable("the reactor has stopped")) }
        }
        // The job runs in the caller's task. A REST call's task prefers the reactor, so the job's
        // many short visits to the link cost no thread switch; its heavy steps (encryption,
        // uploads, storage) run on worker lanes either way.
        return try await job.recipient.server == JID.Server.group ? job.runInGroup() : job.run()
    }

    package func checkNumber(_ number: String) async throws -> String? {
        let ref = try await linkRef()
        let found = try await ref.checkNumber(number)
        // A number that is on WhatsApp is a contact we now know (without a push name yet).
        if let found { try? await ref.noteContact(id: found, pushName: nil, phone: number) }
        return found
    }

    /// The current link for async work; its calls fail once that link is gone.
    func linkRef() async throws -> LinkRef {
        let ref: LinkRef = try await reactor.submit { [link] reactor in
            link.value.attach(reactor)
            return LinkRef(link.value)
        }
        return ref
    }

    package func markRead(chatID: String, messageIDs: [String]) async throws {
        let chat = try NativeLink.recipient(of: chatID)
        try await onReactor { link, done in
            guard link.phase == .ready else { return done(.failure(EngineError.unavailable("the connection to WhatsApp closed"))) }
            link.sendReadReceipt(chat: chat, ids: messageIDs)
            done(.success(()))
        }
    }

    /// `<chatstate to><composing/></chatstate>` (`media="audio"` while recording) or `<paused/>`.
    package func sendChatState(chatID: String, state: String) async throws {
        let chat = try NativeLink.recipient(of: chatID)
        let child: BinaryNode
        switch state {
        case "typing": child = BinaryNode("composing")
        case "recording": child = BinaryNode("composing", ["media": "audio"])
        default: child = BinaryNode("paused")
        }
        try await onReactor { link, done in
            guard link.phase == .ready else { return done(.failure(EngineError.unavailable("the connection to WhatsApp closed"))) }
            link.send(BinaryNode("chatstate", ["to": .jid(chat)], children: [child]))
            done(.success(()))
        }
    }

    /// Runs `body` on the reactor with the link while it is logged in.
    func onLink(_ body: @escaping @Sendable (NativeLink) -> Void) async throws {
        try await onReactor { link, done in
            guard link.phase == .ready else { return done(.failure(EngineError.unavailable("the connection to WhatsApp closed"))) }
            body(link)
            done(.success(()))
        }
    }

    private func onReactor(_ body: @escaping @Sendable (NativeLink, @escaping @Sendable (Result<Void, any Error>) -> Void) -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let posted = reactor.post { [link] reactor in
                link.value.attach(reactor)
                body(link.value) { continuation.resume(with: $0) }
            }
            if !posted { continuation.resume(throwing: EngineError.unavailable("the reactor has stopped")) }
        }
    }
}
