import Engines
import Foundation
import Persistence
import Reactor
import Synchronization
import Testing
import TestSupport
import WAProtocol

/// Records an engine's events and lets a test wait for one.
final class EventRecorder: Sendable {
    private let events = Mutex<[EngineEvent]>([])

    var sink: @Sendable (EngineEvent) -> Void { { [self] event in events.withLock { $0.append(event) } } }
    var all: [EngineEvent] { events.withLock { $0 } }

    /// Waits until an event after index `from` matches, and returns it with its index.
    @discardableResult
    func wait(
        from start: Int = 0, timeout: Duration = .seconds(20), _ sourceLocation: SourceLocation = #_sourceLocation,
        _ match: (EngineEvent) -> Bool
    ) async throws -> (event: EngineEvent, index: Int) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = all.enumerated().dropFirst(start).first { match($0.element) }
            if let found { return (found.element, found.offset) }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no matching event; got \(all)", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    /// The QR string of the first `.qr` event from `start`.
    func qr(from start: Int = 0) async throws -> (String, Int) {
        let (event, index) = try await wait(from: start) { if case .qr = $0 { true } else { false } }
        guard case .qr(let text) = event else { throw CancellationError() }
        return (text, index)
    }

    func readyIndex(from start: Int = 0) async throws -> Int {
        try await wait(from: start) { if case .ready = $0 { true } else { false } }.index
    }
}

func waitUntil(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition never held")
}

/// A `MessageSink` that keeps what the engine commits, in order, in memory.
final class RecordingMessageSink: MessageSink {
    let changeLog = Mutex<[MessageChange]>([])
    let chatStateLog = Mutex<[String: ChatStateRecord]>([:])
    private let state = Mutex<(messages: [EngineMessage], acks: [(ids: [String], ack: Int)])>(([], []))

    func ingest(sessionID: String, message: EngineMessage) async throws -> Bool {
        state.withLock { state in
            guard !state.messages.contains(where: { $0.id == message.id }) else { return false }
            state.messages.append(message)
            return true
        }
    }

    func sent(sessionID: String, message: EngineMessage) async throws {
        _ = try await ingest(sessionID: sessionID, message: message)
    }

    func acknowledged(sessionID: String, chatID: String?, messageIDs: [String], ack: Int) async throws {
        state.withLock { $0.acks.append((messageIDs, ack)) }
    }

    var messages: [EngineMessage] { state.withLock { $0.messages } }
    var acks: [(ids: [String], ack: Int)] { state.withLock { $0.acks } }
}

extension RecordingMessageSink {
    func apply(sessionID: String, change: MessageChange) async throws {
        changeLog.withLock { $0.append(change) }
    }

    func stored(sessionID: String, messageID: String) async throws -> EngineMessage? {
        messages.first { $0.id == messageID }
    }

    var changes: [MessageChange] { changeLog.withLock { $0 } }
}

extension RecordingMessageSink {
    func unread(sessionID: String, chatID: String, messageIDs: [String]?) async throws -> [String] {
        try await markRead(sessionID: sessionID, chatID: chatID, messageIDs: messageIDs)
    }

    func markRead(sessionID: String, chatID: String, messageIDs: [String]?) async throws -> [String] {
        messages.filter { !$0.fromMe && $0.chatID == chatID && (messageIDs?.contains($0.id) ?? true) }.map(\.id)
    }
}

extension RecordingMessageSink {
    func updateChatState(sessionID: String, chatID: String, change: ChatStateChange) async throws {
        chatStateLog.withLock { $0[chatID] = change.applied(to: $0[chatID] ?? ChatStateRecord()) }
    }

    func chatStates(sessionID: String) async throws -> [String: ChatStateRecord] { chatStateLog.withLock { $0 } }

    func forgetChatStates(sessionID: String) async throws { chatStateLog.withLock { $0.removeAll() } }
}
