import Foundation
import Reactor

/// Something that happened in the gateway that integrations may want: OpenWA's webhook and
/// real-time event names (`session.status`, `session.qr`, `message.received`, ...) with their
/// `data` objects.
package struct GatewayEvent: Sendable, Equatable {
    package var name: String
    package var sessionID: String
    package var data: JSONValue
    package var timestamp: Date
    /// The producer already wrote this event's webhook outbox rows in its own transaction, so
    /// the webhook service must not write them again.
    package var outboxStaged: Bool

    package init(name: String, sessionID: String, data: JSONValue, timestamp: Date = Date(), outboxStaged: Bool = false) {
        self.name = name
        self.sessionID = sessionID
        self.data = data
        self.timestamp = timestamp
        self.outboxStaged = outboxStaged
    }
}

/// The in-process event bus: the session manager and engines publish, webhooks and the
/// real-time channel subscribe. Delivery to a subscriber is in publish order.
package final class EventBus: Sendable {
    package typealias Subscriber = @Sendable (GatewayEvent) -> Void

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var next: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Adds a subscriber; keep the token to unsubscribe.
    @discardableResult
    package func subscribe(_ subscriber: @escaping Subscriber) -> UInt64 {
        state.withLock { state in
            state.next += 1
            state.subscribers[state.next] = subscriber
            return state.next
        }
    }

    package func unsubscribe(_ token: UInt64) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: token) }
    }

    /// Hands `event` to every subscriber, synchronously and in subscription order. Subscribers
    /// must not block: they queue the event for their own delivery.
    package func publish(_ event: GatewayEvent) {
        let subscribers = state.withLock { $0.subscribers.sorted { $0.key < $1.key }.map(\.value) }
        for subscriber in subscribers { subscriber(event) }
    }
}

import Synchronization
