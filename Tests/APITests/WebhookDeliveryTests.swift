import Engines
import Foundation
import Reactor
import Testing
import TestSupport

/// Deliveries to a real HTTP receiver on loopback: envelope, headers and signature, order per
/// chat through an outage, retries with a stable idempotency key, dead letters and redrive.
@Suite(.timeLimit(.minutes(1))) struct WebhookDeliveryTests {
    static let secret = "a-secret-of-32-characters-long!!"

    static func world(retryDelay: Int = 20, timeout: Int = 1_000) async throws -> (TestGateway, WebhookReceiver, String) {
        var settings = WebhookSettings()
        settings.urlPolicy = WebhookURLPolicy(protect: false)
        settings.retryDelayMilliseconds = retryDelay
        settings.timeoutMilliseconds = timeout
        let gateway = try await TestGateway.start(webhooks: settings)
        let receiver = try await WebhookReceiver.start()
        let id = try await WebhookRouteTests.session(gateway)
        return (gateway, receiver, id)
    }

    static func message(_ session: String, chat: String, number: Int) -> GatewayEvent {
        GatewayEvent(
            name: "message.received", sessionID: session,
            data: .object([
                ("id", .string("MSG\(chat)\(number)")), ("chatId", .string(chat)), ("from", .string(chat)),
                ("body", .string("hello \(number)")), ("type", "text"), ("isGroup", .bool(false)),
            ]))
    }

    @Test func envelopeHeadersAndSignatureAsTheReferenceSays() async throws {
        let (gateway, receiver, session) = try await Self.world()
        let created = try await gateway.request(
            "POST", "/api/sessions/\(session)/webhooks",
            body: #"{"url":"\#(receiver.url)","events":["*"],"secret":"\#(Self.secret)","headers":{"X-Tenant":"t1","X-OpenWA-Event":"spoof"}}"#)
        let hookID = try #require(created.object["id"] as? String, "\(created.text)")
        gateway.events.publish(Self.message(session, chat: "1555@c.us", number: 1))
        let delivery = try #require(try await receiver.wait("one delivery") { $0.count == 1 }.first)
        let json = delivery.json
        #expect(json.keys.sorted() == ["data", "deliveryId", "event", "idempotencyKey", "sessionId", "timestamp"])
        #expect(json["event"] as? String == "message.received" && json["sessionId"] as? String == session)
        #expect(json["idempotencyKey"] as? String == "msg_\(session)_MSG1555@c.us1_\(hookID)")
        #expect((json["deliveryId"] as? String)?.hasPrefix("dlv_") == true)
        #expect(delivery.header("X-OpenWA-Event") == "message.received", "reserved names are not overridden")
        #expect(delivery.header("X-OpenWA-Idempotency-Key") == json["idempotencyKey"] as? String)
        #expect(delivery.header("X-OpenWA-Delivery-Id") == json["deliveryId"] as? String)
        #expect(delivery.header("X-OpenWA-Retry-Count") == "0")
        #expect(delivery.header("User-Agent") == "OpenWA-Webhook/1.0.0" && delivery.header("X-Tenant") == "t1")
        // The receiver side, written from the reference alone: HMAC-SHA256(secret, raw body), in Python.
        let signature = try #require(delivery.header("X-OpenWA-Signature"))
        #expect(try await blocking { try Self.pythonSignature(body: delivery.body, secret: Self.secret) } == signature)

        let tested = try await gateway.request("POST", "/api/sessions/\(session)/webhooks/\(hookID)/test")
        #expect(tested.object["success"] as? Bool == true && tested.object["statusCode"] as? Int == 200, "\(tested.text)")
        #expect(try await receiver.wait("the test event") { $0.count == 2 }.last?.event == "test")
        await gateway.stop()
        await receiver.stop()
    }

    @Test func receiverDownThenUpGetsEverythingInOrderPerChatWithStableKeys() async throws {
        let (gateway, receiver, session) = try await Self.world(retryDelay: 30)
        _ = try await gateway.request(
            "POST", "/api/sessions/\(session)/webhooks", body: #"{"url":"\#(receiver.url)","retryCount":5}"#)
        receiver.behave(.status(503))
        let chats = ["111@c.us", "222@c.us", "333@c.us"]
        for number in 0..<10 { for chat in chats { gateway.events.publish(Self.message(session, chat: chat, number: number)) } }
        try await receiver.wait("retries under way") { $0.count >= 6 }
        receiver.behave(.status(200))
        let all = try await receiver.wait("all 30 delivered") { deliveries in
            Set(deliveries.filter { $0.header("X-OpenWA-Retry-Count") != nil }.map { $0.json["idempotencyKey"] as? String ?? "" }).count == 30
                && deliveries.count >= 30
        }
        // What the receiver accepted (answered 200) is the tail after the outage: per chat, in order.
        let accepted = Array(all.dropFirst(all.count - 30))
        for chat in chats {
            let numbers = accepted.filter { $0.data["chatId"] as? String == chat }.map { $0.data["body"] as? String ?? "" }
            #expect(numbers == (0..<10).map { "hello \($0)" }, "\(chat): \(numbers)")
        }
        // Retries of one delivery: same idempotency key and delivery id, increasing retry count.
        let firstKey = try #require(all.first?.json["idempotencyKey"] as? String)
        let attempts = all.filter { $0.json["idempotencyKey"] as? String == firstKey }
        #expect(attempts.count >= 2)
        #expect(Set(attempts.map { $0.header("X-OpenWA-Delivery-Id") ?? "" }).count == 1)
        #expect(attempts.map { $0.header("X-OpenWA-Retry-Count") ?? "" } == (0..<attempts.count).map(String.init))
        await gateway.stop()
        await receiver.stop()
    }

    @Test func exhaustedDeliveriesAreDeadLetteredListedAndRedriven() async throws {
        let (gateway, receiver, session) = try await Self.world(retryDelay: 10, timeout: 300)
        _ = try await gateway.request(
            "POST", "/api/sessions/\(session)/webhooks", body: #"{"url":"\#(receiver.url)","retryCount":2}"#)
        receiver.behave(.status(500))
        gateway.events.publish(Self.message(session, chat: "1@c.us", number: 1))
        try await receiver.wait("both attempts answered 500") { $0.count == 2 }
        receiver.behave(.silent)
        gateway.events.publish(Self.message(session, chat: "2@c.us", number: 2))
        var failures: [[String: Any]] = []
        for _ in 0..<500 {
            failures = try await gateway.request("GET", "/api/webhooks/delivery-failures").array
            if failures.count == 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(failures.count == 2, "\(failures)")
        let byChat = Dictionary(grouping: failures) { ($0["idempotencyKey"] as? String ?? "").contains("MSG1@c.us") ? "500" : "timeout" }
        #expect(byChat["500"]?.first?["lastStatusCode"] as? Int == 500)
        #expect(byChat["500"]?.first?["attempts"] as? Int == 2)
        #expect(byChat["timeout"]?.first?["lastStatusCode"] is NSNull)
        let oldDelivery = try #require(failures.first?["deliveryId"] as? String)
        let oldKey = try #require(failures.first?["idempotencyKey"] as? String)

        receiver.behave(.status(200))
        let before = receiver.deliveries.count
        let redrive = try await gateway.request("POST", "/api/webhooks/delivery-failures/redrive", body: "{}")
        #expect(redrive.object["redriven"] as? Int == 2, "\(redrive.text)")
        let redelivered = try await receiver.wait("redriven deliveries") { $0.count >= before + 2 }.dropFirst(before)
        let again = try #require(redelivered.first { $0.json["idempotencyKey"] as? String == oldKey })
        #expect(again.header("X-OpenWA-Delivery-Id") != oldDelivery, "a redrive is a new delivery of the same event")
        for _ in 0..<200 where !(try await gateway.request("GET", "/api/webhooks/delivery-failures").array.isEmpty) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await gateway.request("GET", "/api/webhooks/delivery-failures").array.isEmpty)
        await gateway.stop()
        await receiver.stop()
    }

    @Test func filtersAndEventSubscriptionsSelectWhatIsSent() async throws {
        let (gateway, receiver, session) = try await Self.world()
        _ = try await gateway.request(
            "POST", "/api/sessions/\(session)/webhooks",
            body: #"{"url":"\#(receiver.url)","events":["message.received"],"filters":{"conditions":[{"field":"sender","operator":"is","value":"15550001"}]}}"#)
        gateway.events.publish(Self.message(session, chat: "15550001@c.us", number: 1))
        gateway.events.publish(Self.message(session, chat: "15550002@c.us", number: 2))
        gateway.events.publish(GatewayEvent(name: "session.status", sessionID: session, data: ["sessionId": .string(session), "status": "ready"]))
        gateway.events.publish(Self.message(session, chat: "15550001@c.us", number: 3))
        let seen = try await receiver.wait("two messages") { $0.count == 2 }
        #expect(seen.map { $0.data["body"] as? String ?? "" } == ["hello 1", "hello 3"])
        try await Task.sleep(for: .milliseconds(100))
        #expect(receiver.deliveries.count == 2)
        await gateway.stop()
        await receiver.stop()
    }

    /// HMAC-SHA256 of `body` under `secret` as Python's standard library computes it.
    static func pythonSignature(body: [UInt8], secret: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-body-\(UUID().uuidString)")
        try Data(body).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c", "import hmac,hashlib,sys; print('sha256=' + hmac.new(sys.argv[1].encode(), open(sys.argv[2],'rb').read(), hashlib.sha256).hexdigest())",
            secret, file.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try ProcessLaunch.run(process)
        // Reading to the end waits for the exit without Foundation's `waitUntilExit`, which can spin.
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
