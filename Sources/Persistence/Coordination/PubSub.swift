import Logging
import Synchronization

/// Publish/subscribe on named channels; Redis fans messages out to every node, the in-memory
/// one within this process. Handlers may run on any thread (Redis delivers on the reactor).
package protocol PubSub: Sendable {
    func publish(channel: String, message: [UInt8]) async
    func subscribe(channel: String, handler: @escaping @Sendable ([UInt8]) -> Void) async
}

/// Pub/sub within one process: `publish` calls the channel's handlers before returning.
package final class InMemoryPubSub: PubSub {
    private let handlers = Mutex<[String: [@Sendable ([UInt8]) -> Void]]>([:])

    package init() {}

    package func publish(channel: String, message: [UInt8]) async {
        let targets = handlers.withLock { $0[channel] ?? [] }
        for handler in targets { handler(message) }
    }

    package func subscribe(channel: String, handler: @escaping @Sendable ([UInt8]) -> Void) async {
        handlers.withLock { $0[channel, default: []].append(handler) }
    }
}

/// Pub/sub over Redis (`PUBLISH`, and `SUBSCRIBE` on the client's subscriber connection). When
/// Redis is up a node's own handlers hear its messages through Redis, like every other node's.
/// While Redis cannot be reached, a message is delivered to this node's handlers only (one
/// warning); subscriptions are renewed automatically when Redis is back.
package final class RedisPubSub: PubSub {
    private let client: RedisClient
    private let local = InMemoryPubSub()
    package let notice: RedisOutageNotice

    package init(client: RedisClient, logger: Logger) {
        self.client = client
        self.notice = RedisOutageNotice(service: "pub/sub", logger: logger)
    }

    package func publish(channel: String, message: [UInt8]) async {
        do {
            try await client.publish(channel: channel, message: message)
            notice.succeeded()
        } catch {
            notice.failed(error)
            await local.publish(channel: channel, message: message)
        }
    }

    package func subscribe(channel: String, handler: @escaping @Sendable ([UInt8]) -> Void) async {
        await local.subscribe(channel: channel, handler: handler)
        do {
            try await client.subscribe(channel: channel, handler: handler)
        } catch {
            // The client keeps the subscription and renews it once Redis is back.
            notice.failed(error)
        }
    }
}
