/// Where an engine hands the messages it must not lose. Each call returns only once the message
/// and its events are committed, so the engine acknowledges to WhatsApp only what is stored.
package protocol MessageSink: Sendable {
    /// Stores an inbound message (or a copy of one our own phone sent) with its event, in one
    /// transaction. False when the session already has it: a redelivery, not a new message.
    @discardableResult
    func ingest(sessionID: String, message: EngineMessage) async throws -> Bool

    /// Stores a message this gateway is about to send (status `pending`), with its `message.sent`
    /// event, before it goes on the wire: a receipt can then never arrive for an unknown row.
    func sent(sessionID: String, message: EngineMessage) async throws

    /// Sent messages moved forward (WhatsApp's ack: -1 failed, 1 server, 2 device, 3 read, 4 played).
    func acknowledged(sessionID: String, chatID: String?, messageIDs: [String], ack: Int) async throws
}
