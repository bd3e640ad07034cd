import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Text messages through REST, the native engine and simulated phones, stored in SQLite or
/// PostgreSQL and delivered to a real webhook receiver.
@Suite(.timeLimit(.minutes(2))) struct MessagingRouteTests {
    static let alice = "15550100001"
    static let bob = "15550100002"

    private func linked(_ backend: DataBackend) async throws -> (LinkWorld, String, WebhookReceiver) {
        try await LinkWorld.linkedWithWebhooks(
            backend, phones: [Self.alice, Self.bob], linking: Self.alice,
            events: ["message.received", "message.sent", "message.ack"])
    }

    private func messages(_ world: LinkWorld, _ id: String, _ query: String = "") async throws -> (list: [[String: Any]], total: Int) {
        let response = try await world.gateway.request("GET", "/api/sessions/\(id)/messages\(query)")
        #expect(response.status == 200, "\(response.text)")
        return (response.object["messages"] as? [[String: Any]] ?? [], response.object["total"] as? Int ?? -1)
    }

    @Test(arguments: DataBackend.available)
    func receivedMessagesAreStoredListedAndDelivered(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        var ids: [String] = []
        for index in 1...3 {
            ids.append(try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "from Bob \(index)").id)
        }
        let deliveries = try await receiver.wait("three message.received") { $0.filter { $0.event == "message.received" }.count == 3 }
        let received = deliveries.filter { $0.event == "message.received" }
        #expect(received.map { $0.data["id"] as? String } == ids)
        #expect(received.first?.data["body"] as? String == "from Bob 1")
        #expect(received.first?.data["chatId"] as? String == "\(Self.bob)@c.us")
        #expect(received.first?.data["fromMe"] as? Bool == false)
        let (list, total) = try await messages(world, id, "?chatId=\(Self.bob)@c.us")
        #expect(total == 3)
        #expect(Set(list.compactMap { $0["waMessageId"] as? String }) == Set(ids))
        #expect(list.allSatisfy { $0["direction"] as? String == "incoming" && $0["sessionId"] as? String == id })
        // A phone that sends the same message again (a redelivery) does not store it twice.
        _ = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "from Bob 1", id: ids[0])
        _ = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "marker")
        _ = try await receiver.wait("the marker") { $0.contains { $0.data["body"] as? String == "marker" } }
        #expect(try await messages(world, id).total == 4)
        #expect(receiver.deliveries.filter { $0.data["id"] as? String == ids[0] }.count == 1)
        await receiver.stop()
        await world.stop()
    }

    /// `message.received` carries OpenWA's optional parts: a media message's bytes (base64, under
    /// `WEBHOOK_MEDIA_INLINE_MAX_BYTES`), a location, a poll's question and options; the chat's
    /// later events wait for the media's download, so they arrive in order.
    @Test func receivedEventsCarryMediaLocationAndPoll() async throws {
        let (world, _, receiver) = try await linked(.sqlite)
        func phoneSends(_ body: [String: Any]) async throws -> String {
            let json = try JSONSerialization.data(withJSONObject: body.merging(["to": Self.alice]) { old, _ in old })
            return try await world.simulator.sendMessage(from: Self.bob, json: Array(json)).id
        }
        let picture = [UInt8](repeating: 7, count: 3_000)
        let image = try await phoneSends(["kind": "document", "data": Data(picture).base64EncodedString(),
                                          "mimetype": "application/pdf", "fileName": "report.pdf"])
        let place = try await phoneSends(["kind": "location", "latitude": 52.5, "longitude": 13.4, "name": "Office"])
        let poll = try await phoneSends(["kind": "poll", "name": "Lunch?", "options": ["Yes", "No"]])
        let text = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "plain").id
        let events = try await receiver.wait("four message.received") { $0.filter { $0.event == "message.received" }.count == 4 }
        func payload(_ id: String) -> [String: Any] {
            events.first { $0.event == "message.received" && $0.data["id"] as? String == id }?.data ?? [:]
        }
        let media = payload(image)["media"] as? [String: Any]
        #expect(media?["mimetype"] as? String == "application/pdf")
        #expect(media?["filename"] as? String == "report.pdf")
        #expect(media?["sizeBytes"] as? Int == picture.count)
        #expect(media?["omitted"] == nil)
        #expect((media?["data"] as? String).flatMap { Data(base64Encoded: $0) } == Data(picture))
        #expect(events.filter { $0.event == "message.received" }.compactMap { $0.data["id"] as? String } == [image, place, poll, text])
        let location = payload(place)["location"] as? [String: Any]
        #expect(location?["latitude"] as? Double == 52.5)
        #expect(location?["longitude"] as? Double == 13.4)
        let question = payload(poll)["poll"] as? [String: Any]
        #expect(question?["name"] as? String == "Lunch?")
        #expect(question?["options"] as? [String] == ["Yes", "No"])
        #expect(question?["allowMultipleAnswers"] as? Bool == true)
        let plain = payload(text)
        #expect(plain["body"] as? String == "plain")
        #expect(plain["media"] == nil && plain["location"] == nil && plain["poll"] == nil)
        await receiver.stop()
        await world.stop()
    }

    /// Media over `WEBHOOK_MEDIA_INLINE_MAX_BYTES`, or any media while downloads are off, goes out
    /// as OpenWA's omitted marker; the bytes stay with the media route.
    @Test(arguments: [(2_000, true), (1_048_576, false)])
    func mediaOverTheInlineLimitOrNotDownloadedStaysOmitted(limit: Int, downloads: Bool) async throws {
        var inbound = MediaArchive.Settings()
        inbound.downloadEnabled = downloads
        let (world, id, receiver) = try await LinkWorld.linkedWithWebhooks(
            .sqlite, phones: [Self.alice, Self.bob], linking: Self.alice, events: ["message.received"], inboundMedia: inbound
        ) { $0.mediaInlineMaxBytes = limit }
        func phoneSends(_ bytes: [UInt8], _ name: String) async throws -> String {
            let body: [String: Any] = ["to": Self.alice, "kind": "document", "data": Data(bytes).base64EncodedString(),
                                       "mimetype": "application/pdf", "fileName": name]
            return try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body))).id
        }
        let small = [UInt8](repeating: 3, count: 1_000)
        let large = [UInt8](repeating: 4, count: 3_000)
        let first = try await phoneSends(small, "small.pdf")
        let second = try await phoneSends(large, "large.pdf")
        let events = try await receiver.wait("two message.received") { $0.filter { $0.event == "message.received" }.count == 2 }
        func media(_ messageID: String) -> [String: Any]? {
            events.first { $0.data["id"] as? String == messageID }?.data["media"] as? [String: Any]
        }
        // Under the limit with downloads on, the small one goes in; everything else is the marker.
        #expect((media(first)?["data"] as? String).flatMap { Data(base64Encoded: $0) } == (downloads ? Data(small) : nil))
        #expect(media(first)?["omitted"] as? Bool == (downloads ? nil : true))
        #expect(media(second)?["omitted"] as? Bool == true && media(second)?["data"] == nil)
        #expect(media(second)?["sizeBytes"] as? Int == large.count)
        // The media route still serves both.
        for (messageID, bytes) in [(first, small), (second, large)] {
            let served = try await world.gateway.request("GET", "/api/sessions/\(id)/messages/\(Self.bob)@c.us/\(messageID)/media")
            #expect(served.status == 200 && served.body == bytes)
        }
        await receiver.stop()
        await world.stop()
    }

    /// The message list puts stored media inline, newest first, until the response's budget is
    /// spent; the rest, and everything with `inlineMedia=false`, is marked omitted.
    @Test func theMessageListInlinesStoredMediaWithinItsBudget() async throws {
        var inbound = MediaArchive.Settings()
        inbound.listInlineBudgetBytes = 2_500
        let (world, id, receiver) = try await LinkWorld.linkedWithWebhooks(
            .sqlite, phones: [Self.alice, Self.bob], linking: Self.alice, events: ["message.received"], inboundMedia: inbound)
        func phoneSends(_ bytes: [UInt8]) async throws -> String {
            let body: [String: Any] = ["to": Self.alice, "kind": "document", "data": Data(bytes).base64EncodedString(),
                                       "mimetype": "application/pdf", "fileName": "f.pdf"]
            let id = try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body))).id
            return id
        }
        let older = [UInt8](repeating: 1, count: 1_000)
        let newer = [UInt8](repeating: 2, count: 2_000)
        let olderID = try await phoneSends(older)
        let newerID = try await phoneSends(newer)
        for messageID in [olderID, newerID] { _ = try await world.mediaRow(id, messageID) { $0.mediaPath != nil } }
        func media(_ query: String) async throws -> (status: Int, byID: [String: [String: Any]]) {
            let response = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?chatId=\(Self.bob)@c.us\(query)")
            #expect(response.header("content-type") == "application/json; charset=utf-8")
            let rows = response.object["messages"] as? [[String: Any]] ?? []
            var byID: [String: [String: Any]] = [:]
            for row in rows {
                if let key = row["waMessageId"] as? String { byID[key] = (row["metadata"] as? [String: Any])?["media"] as? [String: Any] }
            }
            return (response.status, byID)
        }
        // The newer one fits the 2,500 bytes and is inline; the older one would pass it.
        let listed = try await media("")
        #expect(listed.status == 200)
        #expect((listed.byID[newerID]?["data"] as? String).flatMap { Data(base64Encoded: $0) } == Data(newer))
        #expect(listed.byID[olderID]?["omitted"] as? Bool == true && listed.byID[olderID]?["data"] == nil)
        #expect(listed.byID[olderID]?["sizeBytes"] as? Int == older.count)
        let plain = try await media("&inlineMedia=false")
        #expect(plain.byID.values.allSatisfy { $0["omitted"] as? Bool == true && $0["data"] == nil })
        #expect(plain.byID.count == 2)
        #expect(try await media("&inlineMedia=maybe").status == 400)
        await receiver.stop()
        await world.stop()
    }

    /// The real-time channel sends OpenWA's omitted marker for media (the bytes come from the
    /// media route), and the session's events in order.
    @Test func theEventStreamSendsTheMediaMarkerInOrder() async throws {
        let (world, id, receiver) = try await linked(.sqlite)
        let client = try await EventStreamClient.connect(world.gateway, headers: [("X-API-Key", TestGateway.adminKey)])
        try await client.send(["type": "subscribe", "sessionId": .string(id), "events": ["message.received"]])
        #expect(try await client.next()["type"] == "subscribed")
        let bytes = [UInt8](repeating: 5, count: 4_000)
        let body: [String: Any] = ["to": Self.alice, "kind": "image", "data": Data(bytes).base64EncodedString(), "mimetype": "image/jpeg"]
        let image = try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body))).id
        let text = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "after the picture").id
        let first = try await client.next()["payload"]?["data"]
        let second = try await client.next()["payload"]?["data"]
        #expect(first?["id"]?.stringValue == image && second?["id"]?.stringValue == text)
        #expect(first?["media"]?["omitted"] == true && first?["media"]?["data"] == nil)
        #expect(first?["media"]?["mimetype"] == "image/jpeg" && first?["media"]?["sizeBytes"]?.intValue == bytes.count)
        try await client.close()
        await receiver.stop()
        await world.stop()
    }

    /// A message's reactions are kept on its row, anyone's latest emoji (ours once WhatsApp took
    /// it), and listed grouped by emoji; an empty emoji takes a reaction back.
    @Test func reactionsAreKeptAndListedByEmoji() async throws {
        let (world, id, receiver) = try await linked(.sqlite)
        let messageID = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "react to me").id
        _ = try await receiver.wait("the text") { $0.contains { $0.data["id"] as? String == messageID } }
        let path = "/api/sessions/\(id)/messages/\(Self.bob)@c.us/\(messageID)/reactions"
        func bobReacts(_ emoji: String) async throws {
            let body: [String: Any] = ["to": Self.alice, "kind": "reaction", "targetId": messageID, "targetFromMe": true, "emoji": emoji]
            _ = try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body)))
        }
        func listed(until done: @escaping ([[String: Any]]) -> Bool) async throws -> [[String: Any]] {
            var last: [[String: Any]] = []
            for _ in 0..<500 {
                let response = try await world.gateway.request("GET", path)
                #expect(response.status == 200, "\(response.text)")
                last = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [[String: Any]] ?? []
                if done(last) { return last }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("the reactions never settled: \(last)")
            return last
        }
        try await bobReacts("👍")
        let reacted = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/react", body: #"{"chatId":"\#(Self.bob)@c.us","messageId":"\#(messageID)","emoji":"❤️"}"#)
        #expect(reacted.status == 200, "\(reacted.text)")
        let both = try await listed { $0.count == 2 }
        #expect(both.map { $0["emoji"] as? String } == ["👍", "❤️"])
        #expect(((both.first?["senders"] as? [[String: Any]])?.first?["senderId"] as? String) == "\(Self.bob)@c.us")
        #expect(((both.last?["senders"] as? [[String: Any]])?.first?["senderId"] as? String) == "\(Self.alice)@c.us")
        // Bob changes his mind twice: the last emoji stands, then none.
        try await bobReacts("😮")
        _ = try await listed { $0.map { $0["emoji"] as? String } == ["❤️", "😮"] }
        try await bobReacts("")
        _ = try await listed { $0.map { $0["emoji"] as? String } == ["❤️"] }
        let unknown = try await world.gateway.request("GET", "/api/sessions/\(id)/messages/\(Self.bob)@c.us/nope/reactions")
        #expect(unknown.status == 404, "\(unknown.text)")
        await receiver.stop()
        await world.stop()
    }

    /// Our own media sends carry their bytes in `message.sent` too.
    @Test func sentMediaGoesIntoMessageSent() async throws {
        let (world, id, receiver) = try await linked(.sqlite)
        let bytes = [UInt8](repeating: 9, count: 2_500)
        let sent = try await world.postJSON(id, "send-document", [
            "chatId": "\(Self.bob)@c.us", "base64": Data(bytes).base64EncodedString(), "mimetype": "application/pdf",
            "filename": "ours.pdf",
        ])
        #expect(sent.status == 201, "\(sent.text)")
        let events = try await receiver.wait("message.sent") { $0.contains { $0.event == "message.sent" } }
        let media = events.first { $0.event == "message.sent" }?.data["media"] as? [String: Any]
        #expect(media?["filename"] as? String == "ours.pdf")
        #expect((media?["data"] as? String).flatMap { Data(base64Encoded: $0) } == Data(bytes))
        await receiver.stop()
        await world.stop()
    }

    /// Media whose base64 would push the body past `WEBHOOK_MAX_PAYLOAD_BYTES` keeps the marker
    /// (the body still goes out), while smaller media in the same chat goes in.
    @Test func mediaThatWouldOverflowThePayloadStaysOmitted() async throws {
        let (world, _, receiver) = try await LinkWorld.linkedWithWebhooks(
            .sqlite, phones: [Self.alice, Self.bob], linking: Self.alice, events: ["message.received"]
        ) { $0.maxPayloadBytes = 4_096 }
        func phoneSends(_ bytes: [UInt8]) async throws -> String {
            let body: [String: Any] = ["to": Self.alice, "kind": "document", "data": Data(bytes).base64EncodedString(),
                                       "mimetype": "application/pdf", "fileName": "p.pdf"]
            return try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body))).id
        }
        let large = try await phoneSends([UInt8](repeating: 6, count: 3_500))
        let small = try await phoneSends([UInt8](repeating: 7, count: 500))
        let events = try await receiver.wait("two message.received") { $0.filter { $0.event == "message.received" }.count == 2 }
        let media = { (id: String) in events.first { $0.data["id"] as? String == id }?.data["media"] as? [String: Any] }
        #expect(media(large)?["omitted"] as? Bool == true && media(large)?["data"] == nil)
        #expect((media(small)?["data"] as? String).flatMap { Data(base64Encoded: $0) } == Data(repeating: 7, count: 500))
        await receiver.stop()
        await world.stop()
    }

    /// The simulator's paced stream (what the message benchmark drives) arrives whole, in order,
    /// and no faster than asked; each text carries the monotonic instant its send began.
    @Test func aPacedPhoneStreamArrivesCompleteAndInOrder() async throws {
        let (world, _, receiver) = try await linked(.sqlite)
        let port = world.simulator.adminPort
        func stream(_ body: String) async throws -> TestResponse? {
            try await LoopbackClient.oneShot(port: port, "POST", "/admin/phones/\(Self.bob)/messages/stream", body: body)
        }
        #expect(try await stream(#"{"to":"\#(Self.alice)","count":0,"perSecond":10}"#)?.status == 400)
        #expect(try await stream(#"{"to":"\#(Self.alice)","count":5,"perSecond":10,"idPrefix":"a b"}"#)?.status == 400)
        #expect(try await stream(#"{"to":"1999","count":5,"perSecond":10}"#)?.status == 404)
        #expect(try await stream("{").map(\.status) == 400)
        let count = 120
        let started = try await stream(#"{"to":"\#(Self.alice)","count":\#(count),"perSecond":400,"idPrefix":"LOAD"}"#)
        #expect(started?.status == 202, "\(started.map { String(decoding: $0.body, as: UTF8.self) } ?? "")")
        let received = try await receiver.wait("the streamed messages") {
            $0.filter { $0.event == "message.received" }.count == count
        }.filter { $0.event == "message.received" }
        #expect(received.map { $0.data["id"] as? String } == (0..<count).map { "LOAD\($0)" })
        let stamps = received.compactMap { ($0.data["body"] as? String)?.split(separator: "=").last.flatMap { UInt64($0) } }
        #expect(stamps.count == count && stamps == stamps.sorted())
        // 120 messages at 400/s span at least 297.5 ms: the pacing holds (it may only be slower).
        #expect((stamps.last ?? 0) - (stamps.first ?? 0) >= 297_000_000)
        await receiver.stop()
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func sendTextReachesThePhoneAndItsStatusAdvances(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        let response = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"\#(Self.bob)@c.us","text":"hello Bob"}"#)
        #expect(response.status == 201, "\(response.text)")
        let messageID = try #require(response.object["messageId"] as? String)
        #expect(response.object["timestamp"] is Int)
        let inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.map(\.body) == ["hello Bob"])
        #expect(inbox.first?.id == messageID)
        let events = try await receiver.wait("sent, then acknowledged by the server and the phone") { deliveries in
            deliveries.contains { $0.event == "message.sent" }
                && deliveries.contains { $0.event == "message.ack" && $0.data["status"] as? String == "delivered" }
        }
        #expect(events.first { $0.event == "message.sent" }?.data["fromMe"] as? Bool == true)
        let acks = events.filter { $0.event == "message.ack" && $0.data["messageId"] as? String == messageID }
        // pending -> sent (server ack) -> delivered (the phone's receipt); the status never goes back.
        #expect(acks.compactMap { $0.data["status"] as? String }.last == "delivered")
        #expect(Set(acks.compactMap { $0.data["status"] as? String }).isSubset(of: ["sent", "delivered"]))
        let (list, _) = try await messages(world, id, "?direction=outgoing")
        #expect(list.count == 1)
        #expect(list.first?["status"] as? String == "delivered")
        #expect(list.first?["body"] as? String == "hello Bob")
        await receiver.stop()
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func revokesAndEditsChangeTheStoredRowAndAreDelivered(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        let hook = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/webhooks",
            body: #"{"url":"\#(receiver.url)","events":["message.revoked","message.edited","message.reaction"]}"#)
        #expect(hook.status == 201, "\(hook.text)")
        let edited = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "typo")
        let revoked = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "oops")
        for body in [
            #"{"to":"\#(Self.alice)","kind":"edit","targetId":"\#(edited.id)","text":"fixed"}"#,
            #"{"to":"\#(Self.alice)","kind":"revoke","targetId":"\#(revoked.id)"}"#,
            #"{"to":"\#(Self.alice)","kind":"reaction","targetId":"\#(edited.id)","emoji":"👍"}"#,
        ] {
            _ = try await world.simulator.sendMessage(from: Self.bob, json: Array(body.utf8))
        }
        let events = try await receiver.wait("edit, revoke and reaction") { deliveries in
            Set(deliveries.map(\.event)).isSuperset(of: ["message.edited", "message.revoked", "message.reaction"])
        }
        #expect(events.first { $0.event == "message.edited" }?.data["body"] as? String == "fixed")
        #expect(events.first { $0.event == "message.revoked" }?.data["revokedId"] as? String == revoked.id)
        #expect(events.first { $0.event == "message.reaction" }?.data["reaction"] as? String == "👍")
        let rows = try await messages(world, id).list
        #expect(rows.first { $0["waMessageId"] as? String == edited.id }?["body"] as? String == "fixed")
        let gone = try #require(rows.first { $0["waMessageId"] as? String == revoked.id })
        #expect(gone["type"] as? String == "revoked")
        #expect(gone["body"] is NSNull)
        #expect(rows.count == 2, "changes are not messages of their own")
        await receiver.stop()
        await world.stop()
    }

    @Test func anIdempotencyKeyMakesARetriedSendReturnTheFirstResult() async throws {
        let (world, id, receiver) = try await linked(.sqlite)
        let path = "/api/sessions/\(id)/messages/send-text"
        let body = #"{"chatId":"\#(Self.bob)@c.us","text":"exactly once"}"#
        let first = try await world.gateway.request("POST", path, headers: [("Idempotency-Key", "order-42")], body: body)
        #expect(first.status == 201, "\(first.text)")
        #expect(first.header("idempotent-replayed") == nil)
        let retry = try await world.gateway.request("POST", path, headers: [("Idempotency-Key", "order-42")], body: body)
        #expect(retry.status == 201, "\(retry.text)")
        #expect(retry.header("idempotent-replayed") == "true")
        #expect(retry.object["messageId"] as? String == first.object["messageId"] as? String)
        #expect(try await world.simulator.inbox(of: Self.bob).count == 1, "sent once")
        let reused = try await world.gateway.request(
            "POST", path, headers: [("Idempotency-Key", "order-42")], body: #"{"chatId":"\#(Self.bob)@c.us","text":"other"}"#)
        #expect(reused.status == 422, "\(reused.text)")
        #expect(reused.object["code"] as? String == "IDEMPOTENCY_KEY_REUSED")
        let invalid = try await world.gateway.request("POST", path, headers: [("Idempotency-Key", "has space")], body: body)
        #expect(invalid.status == 400)
        #expect(invalid.object["code"] as? String == "IDEMPOTENCY_KEY_INVALID")
        // A send refused before anything went out frees its key.
        let refused = try await world.gateway.request(
            "POST", path, headers: [("Idempotency-Key", "k2")], body: #"{"chatId":"19990000009@c.us","text":"x"}"#)
        #expect(refused.status == 404)
        let again = try await world.gateway.request(
            "POST", path, headers: [("Idempotency-Key", "k2")], body: #"{"chatId":"19990000009@c.us","text":"x"}"#)
        #expect(again.status == 404, "not a replay: the key was released")
        #expect(again.header("idempotent-replayed") == nil)
        await receiver.stop()
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func chatsAreListedAndMarkedRead(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        var ids: [String] = []
        for index in 1...3 { ids.append(try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "unread \(index)").id) }
        _ = try await receiver.wait("three messages") { $0.filter { $0.event == "message.received" }.count == 3 }
        let sent = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"15550100003@c.us","text":"to nobody"}"#)
        #expect(sent.status == 404, "not on WhatsApp: no chat either")
        var chats = try await world.gateway.request("GET", "/api/sessions/\(id)/chats").text
        var list = try #require(try JSONSerialization.jsonObject(with: Data(chats.utf8)) as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["id"] as? String == "\(Self.bob)@c.us")
        #expect(list.first?["unreadCount"] as? Int == 3)
        #expect(list.first?["lastMessage"] as? String == "unread 3")
        #expect(list.first?["kind"] as? String == "individual")
        // Read the first one only, then the rest.
        let one = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/chats/read", body: #"{"chatId":"\#(Self.bob)@c.us","messageIds":["\#(ids[0])"]}"#)
        #expect(one.object["success"] as? Bool == true, "\(one.text)")
        let rest = try await world.gateway.request("POST", "/api/sessions/\(id)/chats/read", body: #"{"chatId":"\#(Self.bob)@c.us"}"#)
        #expect(rest.object["success"] as? Bool == true)
        let again = try await world.gateway.request("POST", "/api/sessions/\(id)/chats/read", body: #"{"chatId":"\#(Self.bob)@c.us"}"#)
        #expect(again.object["success"] as? Bool == false, "nothing left unread")
        // Bob's phone got read receipts for exactly its three messages.
        var receipts: [PhoneReceipt] = []
        for _ in 0..<200 {
            receipts = try await world.simulator.receipts(of: Self.bob)
            if receipts.flatMap(\.ids).count == 3 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(receipts.map(\.ids) == [[ids[0]], [ids[1], ids[2]]])
        #expect(receipts.allSatisfy { $0.type == "read" })
        chats = try await world.gateway.request("GET", "/api/sessions/\(id)/chats").text
        list = try #require(try JSONSerialization.jsonObject(with: Data(chats.utf8)) as? [[String: Any]])
        #expect(list.first?["unreadCount"] as? Int == 0)
        let bad = try await world.gateway.request("POST", "/api/sessions/\(id)/chats/read", body: #"{"chatId":"bob"}"#)
        #expect(bad.status == 400)
        // Typing, then recording, then paused, as Bob's phone sees it.
        for state in ["typing", "recording", "paused"] {
            let typing = try await world.gateway.request(
                "POST", "/api/sessions/\(id)/chats/typing", body: #"{"chatId":"\#(Self.bob)@c.us","state":"\#(state)"}"#)
            #expect(typing.object["success"] as? Bool == true, "\(typing.text)")
        }
        var states: [PhoneChatState] = []
        for _ in 0..<200 {
            states = try await world.simulator.chatStates(of: Self.bob)
            if states.count == 3 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(states.map(\.state) == ["composing", "recording", "paused"])
        let badState = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/chats/typing", body: #"{"chatId":"\#(Self.bob)@c.us","state":"dancing"}"#)
        #expect(badState.status == 400)
        // Time bounds in epoch milliseconds (since inclusive, until exclusive).
        let later = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        #expect(try await messages(world, id, "?since=\(later)").total == 0)
        #expect(try await messages(world, id, "?until=\(later)").total == 3)
        #expect(try await world.gateway.request("GET", "/api/sessions/\(id)/messages?since=soon").status == 400)
        // Clearing the chat's messages removes it from the list.
        let cleared = try await world.gateway.request("DELETE", "/api/sessions/\(id)/chats/\(Self.bob)@c.us/messages")
        #expect(cleared.object["success"] as? Bool == true, "\(cleared.text)")
        #expect(try await messages(world, id).total == 0)
        #expect(try await world.gateway.request("GET", "/api/sessions/\(id)/chats").text == "[]")
        await receiver.stop()
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func pollsAreSentAndTheirVotesKeptOnTheRow(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        let created = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-poll",
            body: #"{"chatId":"\#(Self.bob)@c.us","name":"Lunch?","options":["Pizza","Salad"],"allowMultipleAnswers":false}"#)
        #expect(created.status == 201, "\(created.text)")
        let pollID = try #require(created.object["messageId"] as? String)
        _ = try await world.simulator.sendMessage(
            from: Self.bob, json: Array(#"{"to":"\#(Self.alice)","kind":"vote","targetId":"\#(pollID)","options":["Salad"]}"#.utf8))
        var row: [String: Any] = [:]
        for _ in 0..<200 {
            row = try await messages(world, id, "?messageId=\(pollID)").list.first ?? [:]
            if (((row["metadata"] as? [String: Any])?["poll"] as? [String: Any])?["votes"]) != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let poll = try #require((row["metadata"] as? [String: Any])?["poll"] as? [String: Any], "\(row)")
        #expect(poll["options"] as? [String] == ["Pizza", "Salad"])
        #expect(poll["allowMultipleAnswers"] as? Bool == false)
        #expect((poll["votes"] as? [String: [String]])?["\(Self.bob)@c.us"] == ["Salad"])
        #expect(row["type"] as? String == "poll")
        let bad = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-poll", body: #"{"chatId":"\#(Self.bob)@c.us","name":"x","options":["only one"]}"#)
        #expect(bad.status == 400)
        await receiver.stop()
        await world.stop()
    }

    @Test func numbersAreCheckedAgainstWhatsApp() async throws {
        let (world, id, receiver) = try await linked(.sqlite)
        let known = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/check/+\(Self.bob)")
        #expect(known.status == 200, "\(known.text)")
        #expect(known.object["exists"] as? Bool == true)
        #expect(known.object["whatsappId"] as? String == "\(Self.bob)@c.us")
        #expect(known.object["number"] as? String == Self.bob)
        let unknown = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/check/19990000002")
        #expect(unknown.object["exists"] as? Bool == false)
        #expect(unknown.object["whatsappId"] is NSNull)
        #expect(try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/check/12ab").status == 400)
        #expect(try await world.gateway.request("GET", "/api/sessions/nope/contacts/check/15550100002").status == 404)
        await receiver.stop()
        await world.stop()
    }

    @Test func badRequestsGetClearErrors() async throws {
        let (world, id, receiver) = try await linked(.sqlite)
        let unknown = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"19990000001@c.us","text":"hello?"}"#)
        #expect(unknown.status == 404, "\(unknown.text)")
        let group = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"120363000000000001@g.us","text":"hi all"}"#)
        // A group that does not exist (or that the account is not in).
        #expect(group.status == 404, "\(group.text)")
        let badChat = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"abc@c.us","text":"x"}"#)
        #expect(badChat.status == 400, "\(badChat.text)")
        let noSession = try await world.gateway.request("GET", "/api/sessions/nope/messages")
        #expect(noSession.status == 404, "\(noSession.text)")
        let badQuery = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?direction=sideways")
        #expect(badQuery.status == 400, "\(badQuery.text)")
        // Still serving.
        let ok = try await world.gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-text", body: #"{"chatId":"\#(Self.bob)","text":"fine"}"#)
        #expect(ok.status == 201, "\(ok.text)")
        await receiver.stop()
        await world.stop()
    }
}
