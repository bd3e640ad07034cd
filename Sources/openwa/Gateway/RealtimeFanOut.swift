import Engines
import Foundation
import Logging
import Persistence
import Reactor

/// Cross-node fan-out of the real-time channel. With Redis, every node publishes its own events
/// to one pub/sub channel and every node's real-time channel takes its events from that channel
/// (its own included), so a socket on any node sees the sessions of every node. Without Redis
/// the channel reads the local bus directly.
enum RealtimeFanOut {
    static let channel = "openwa:realtime:events"

    /// The bus the real-time channel should subscribe to.
    static func bus(local: EventBus, pubsub: (any PubSub)?, logger: Logger) async -> EventBus {
        guard let pubsub else { return local }
        let fanned = EventBus()
        await pubsub.subscribe(channel: channel) { bytes in
            guard let event = decode(bytes) else {
                logger.warning("undecodable real-time event from pub/sub", metadata: ["bytes": "\(bytes.count)"])
                return
            }
            fanned.publish(event)
        }
        // One publisher task keeps this node's events in their order.
        let (stream, continuation) = AsyncStream.makeStream(of: GatewayEvent.self)
        local.subscribe { continuation.yield($0) }
        Task {
            for await event in stream { await pubsub.publish(channel: channel, message: encode(event)) }
        }
        return fanned
    }

    static func encode(_ event: GatewayEvent) -> [UInt8] {
        Array(
            JSONWriter.string(
                .object([
                    ("name", .string(event.name)), ("sessionId", .string(event.sessionID)),
                    ("timestamp", .number(event.timestamp.timeIntervalSince1970 * 1_000)), ("data", event.data),
                ])
            ).utf8)
    }

    static func decode(_ bytes: [UInt8]) -> GatewayEvent? {
        guard let value = try? JSONParser.parse(bytes), let name = value["name"]?.stringValue,
            let session = value["sessionId"]?.stringValue, case .number(let milliseconds)? = value["timestamp"]
        else { return nil }
        return GatewayEvent(
            name: name, sessionID: session, data: value["data"] ?? .null,
            timestamp: Date(timeIntervalSince1970: milliseconds / 1_000))
    }
}
