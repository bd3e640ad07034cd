import Engines
import Foundation
import Persistence
import Simulator
import Testing
import TestSupport

/// Bulk sends (reference 2.5) through the native engine to simulated phones: a batch is stored
/// before the 202, its messages go out one by one with the batch's pause, and its progress is
/// read back; cancel, stop-on-error, limits and the resume after a restart.
@Suite(.timeLimit(.minutes(3))) struct BulkRouteTests {
    static let alice = "15550200501"
    static let bob = "15550200502"
    static let carol = "15550200503"
    static let nobody = "15550200599"

    private func linked(_ backend: DataBackend, limits: TestLimits = TestLimits()) async throws -> (LinkWorld, String) {
        let world = try await LinkWorld.start(backend, phones: [Self.alice, Self.bob, Self.carol], limits: limits)
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: Self.alice)
        try await world.waitForPreKeys(of: Self.alice)
        return (world, id)
    }

    private func submit(_ world: LinkWorld, _ id: String, _ body: [String: Any]) async throws -> TestResponse {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        return try await world.gateway.request("POST", "/api/sessions/\(id)/messages/send-bulk", body: json)
    }

    /// The batch once `done` holds for it (or what it was after 30 s).
    private func batch(_ world: LinkWorld, _ id: String, _ batchId: String, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<300 {
            last = try await world.gateway.request("GET", "/api/sessions/\(id)/messages/batch/\(batchId)").object
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("batch \(batchId) never got there: \(last)")
        return last
    }

    private static func terminal(_ batch: [String: Any]) -> Bool {
        ["completed", "failed", "cancelled"].contains(batch["status"] as? String ?? "")
    }

    @Test(arguments: DataBackend.available)
    func aBatchSendsEachDistinctMessageOnce(_ backend: DataBackend) async throws {
        let (world, id) = try await linked(backend)
        let photo = Data((0..<2_000).map { UInt8($0 % 251) })
        let greeting: [String: Any] = [
            "chatId": Self.bob, "type": "text", "content": ["text": "Hi {{name}}, order {{order}}"],
            "variables": ["name": "Bob", "order": 17],
        ]
        let submitted = try await submit(
            world, id,
            [
                "batchId": "spring-sale",
                "messages": [
                    greeting,
                    [
                        "chatId": Self.bob, "type": "image",
                        "content": ["image": ["base64": photo.base64EncodedString(), "mimetype": "image/png"], "caption": "For {{name}}"],
                        "variables": ["name": "Bob"],
                    ],
                    greeting,
                    ["chatId": "\(Self.carol)@c.us", "type": "text", "content": ["text": "Hi Carol"]],
                ],
                "options": ["delayBetweenMessages": 1_000, "randomizeDelay": false],
            ])
        #expect(submitted.status == 202, "\(submitted.text)")
        #expect(submitted.object["batchId"] as? String == "spring-sale")
        #expect(submitted.object["status"] as? String == "pending")
        #expect(submitted.object["totalMessages"] as? Int == 3, "the repeated item is sent once")
        #expect(submitted.object["statusUrl"] as? String == "/api/sessions/\(id)/messages/batch/spring-sale")
        #expect((submitted.object["estimatedCompletionTime"] as? String)?.hasSuffix("Z") == true)

        let done = try await batch(world, id, "spring-sale", until: Self.terminal)
        #expect(done["status"] as? String == "completed", "\(done)")
        let progress = try #require(done["progress"] as? [String: Any])
        #expect(progress["total"] as? Int == 3 && progress["sent"] as? Int == 3, "\(progress)")
        #expect(progress["failed"] as? Int == 0 && progress["pending"] as? Int == 0 && progress["cancelled"] as? Int == 0)
        #expect(done["startedAt"] as? String != nil && done["completedAt"] as? String != nil)
        let results = try #require(done["results"] as? [[String: Any]])
        #expect(results.map { $0["chatId"] as? String } == ["\(Self.bob)@c.us", "\(Self.bob)@c.us", "\(Self.carol)@c.us"])
        #expect(results.allSatisfy { $0["status"] as? String == "sent" && $0["sentAt"] as? String != nil })
        let ids = results.compactMap { $0["messageId"] as? String }
        #expect(ids.count == 3)

        let bob = try await world.simulator.inbox(of: Self.bob)
        #expect(bob.first { $0.id == ids[0] }?.body == "Hi Bob, order 17")
        let image = bob.first { $0.id == ids[1] }
        #expect(image?.type == "image")
        #expect(image?.media?.size == 2_000, "Bob's phone decrypted the whole image")
        #expect(image?.body == "For Bob", "the caption got its variable")
        #expect(bob.filter { $0.body == "Hi Bob, order 17" }.count == 1)
        #expect(try await world.simulator.inbox(of: Self.carol).first { $0.id == ids[2] }?.body == "Hi Carol")

        let again = try await submit(world, id, ["batchId": "spring-sale", "messages": [greeting]])
        #expect(again.status == 400, "a batch id is used once per session: \(again.text)")
        await world.stop()
    }

    @Test func aFailureIsReportedAndStopOnErrorEndsTheBatch() async throws {
        let (world, id) = try await linked(.sqlite)
        let body: [String: Any] = [
            "batchId": "b1",
            "messages": [
                ["chatId": Self.nobody, "type": "text", "content": ["text": "lost?"]],
                ["chatId": Self.bob, "type": "text", "content": ["text": "after the failure"]],
            ],
            "options": ["delayBetweenMessages": 1_000, "randomizeDelay": false],
        ]
        _ = try await submit(world, id, body)
        let kept = try await batch(world, id, "b1", until: Self.terminal)
        #expect(kept["status"] as? String == "completed", "a failure does not stop the batch by default: \(kept)")
        let results = try #require(kept["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["failed", "sent"])
        let failure = try #require(results.first?["error"] as? [String: Any])
        #expect(failure["code"] as? String == "NOT_FOUND", "\(failure)")
        #expect(results.first?["messageId"] == nil)

        var stopping = body
        stopping["batchId"] = "b2"
        stopping["options"] = ["delayBetweenMessages": 1_000, "randomizeDelay": false, "stopOnError": true]
        _ = try await submit(world, id, stopping)
        let stopped = try await batch(world, id, "b2", until: Self.terminal)
        #expect(stopped["status"] as? String == "failed", "\(stopped)")
        let progress = try #require(stopped["progress"] as? [String: Any])
        #expect(progress["failed"] as? Int == 1 && progress["cancelled"] as? Int == 1 && progress["sent"] as? Int == 0, "\(progress)")
        #expect(try await world.simulator.inbox(of: Self.bob).filter { $0.body == "after the failure" }.count == 1)
        await world.stop()
    }

    @Test func aCancelledBatchSendsNothingMore() async throws {
        var limits = TestLimits()
        limits.bulk.maxConcurrentBatches = 1
        let (world, id) = try await linked(.sqlite, limits: limits)
        let messages = (1...5).map { ["chatId": Self.bob, "type": "text", "content": ["text": "slow \($0)"]] as [String: Any] }
        _ = try await submit(world, id, ["batchId": "slow", "messages": messages, "options": ["delayBetweenMessages": 60_000]])
        _ = try await batch(world, id, "slow") { ($0["progress"] as? [String: Any])?["sent"] as? Int == 1 }
        let second = try await submit(world, id, ["messages": messages])
        #expect(second.status == 429, "one batch at a time here: \(second.text)")

        let cancelled = try await world.gateway.request("POST", "/api/sessions/\(id)/messages/batch/slow/cancel")
        #expect(cancelled.status == 200, "\(cancelled.text)")
        #expect(cancelled.object["status"] as? String == "cancelled")
        let progress = try #require(cancelled.object["progress"] as? [String: Any])
        #expect(progress["sent"] as? Int == 1 && progress["cancelled"] as? Int == 4 && progress["pending"] as? Int == 0, "\(progress)")
        let again = try await world.gateway.request("POST", "/api/sessions/\(id)/messages/batch/slow/cancel")
        #expect(again.status == 400, "\(again.text)")
        #expect(try await world.simulator.inbox(of: Self.bob).filter { $0.body.hasPrefix("slow ") }.count == 1)
        let next = try await submit(world, id, ["messages": [messages[0]], "options": ["delayBetweenMessages": 1_000]])
        #expect(next.status == 202, "the cancelled batch freed its place: \(next.text)")
        await world.stop()
    }

    @Test func badBatchesAreRefusedWithEveryReason() async throws {
        var limits = TestLimits()
        limits.media.maxBytes = 1_000
        let world = try await LinkWorld.start(.sqlite, phones: [Self.alice], limits: limits)
        let id = try await world.createAndStart("alice")
        let cases: [([String: Any], String)] = [
            (["messages": []], "messages must contain at least 1 elements"),
            (["messages": Array(repeating: ["chatId": "1", "type": "text", "content": ["text": "x"]], count: 101)],
             "messages must contain no more than 100 elements"),
            (["messages": [["chatId": "1", "type": "sticker", "content": [:]]]],
             "messages.0.type must be one of the following values: text, image, video, audio, document"),
            (["messages": [["chatId": "1", "type": "text", "content": ["text": ""]]]], "messages.0.content.text should not be empty"),
            (["messages": [["chatId": "1", "type": "image", "content": ["image": ["base64": "AAAA"]]]]],
             "messages.0.content.image.mimetype should not be empty when base64 is given"),
            (["messages": [["chatId": "1", "type": "image", "content": ["image": ["url": "ftp://x"]]]]],
             "messages.0.content.image.url must be a URL address"),
            (["messages": [["type": "text", "content": ["text": "x"]]]], "messages.0.chatId should not be empty"),
            (["messages": [["chatId": "1", "type": "text", "content": ["text": "x"], "extra": 1]]],
             "messages.0.property extra should not exist"),
            (["messages": [["chatId": "1", "type": "text", "content": ["text": "x"]]], "options": ["delayBetweenMessages": 10]],
             "options.delayBetweenMessages must be an integer from 1000 to 60000"),
            (["batchId": "no spaces", "messages": [["chatId": "1", "type": "text", "content": ["text": "x"]]]],
             "batchId must be 1 to 128 letters, digits, '_', '-' or '.'"),
        ]
        for (body, message) in cases {
            let response = try await submit(world, id, body)
            #expect(response.status == 400, "\(message): \(response.text)")
            #expect((response.object["message"] as? [String])?.contains(message) == true, "\(message): \(response.text)")
        }
        let large = Data(count: 2_000).base64EncodedString()
        let tooLarge = try await submit(
            world, id, ["messages": [["chatId": "1", "type": "document", "content": ["document": ["base64": large, "mimetype": "text/plain"]]]]])
        #expect(tooLarge.status == 413, "\(tooLarge.text)")
        let unknown = try await world.gateway.request(
            "POST", "/api/sessions/nope/messages/send-bulk", body: #"{"messages":[{"chatId":"1","type":"text","content":{"text":"x"}}]}"#)
        #expect(unknown.status == 404, "\(unknown.text)")
        let missing = try await world.gateway.request("GET", "/api/sessions/\(id)/messages/batch/ghost")
        #expect(missing.status == 404)
        #expect(missing.object["message"] as? String == "Batch with id 'ghost' not found")
        #expect(try await world.gateway.request("POST", "/api/sessions/\(id)/messages/batch/ghost/cancel").status == 404)
        #expect(try await world.gateway.data.query("SELECT COUNT(*) AS n FROM message_batches", []).first?.int("n") == 0)
        await world.stop()
    }

    /// A batch a previous run left mid-send: the item it had claimed is reported with an unknown
    /// outcome (never sent twice), the rest go out.
    @Test(arguments: DataBackend.available)
    func anInterruptedBatchResumesWithoutSendingTwice(_ backend: DataBackend) async throws {
        let (world, id) = try await linked(backend)
        let items = [
            BulkItem(chatId: "\(Self.bob)@c.us", type: .text, text: "was in flight"),
            BulkItem(chatId: "\(Self.bob)@c.us", type: .text, text: "after the restart"),
        ]
        /// A row as a run that stopped while sending its first item leaves it: claimed, no result.
        func leftOver(_ batchId: String) async throws {
            let stamp = Date()
            try await SQLBatchStore(database: world.gateway.data).insert(
                BatchRecord(
                    id: UUID().uuidString.lowercased(), batchId: batchId, sessionId: id, status: "processing",
                    messages: String(decoding: try JSONEncoder().encode(items), as: UTF8.self),
                    options: #"{"delayBetweenMessages":1000,"randomizeDelay":false,"stopOnError":false}"#,
                    progress: #"{"total":2,"sent":0,"failed":0,"pending":2,"cancelled":0}"#, results: "[]", currentIndex: 1,
                    createdAt: stamp, updatedAt: stamp, startedAt: stamp))
        }
        try await leftOver("left-over")
        // Another left-over batch, cancelled before the resume: its interrupted item is reported,
        // the rest is cancelled, and the resume leaves it alone.
        try await leftOver("cancelled-first")
        let cancelled = try await world.gateway.request("POST", "/api/sessions/\(id)/messages/batch/cancelled-first/cancel")
        #expect(cancelled.status == 200, "\(cancelled.text)")
        let cancelledProgress = try #require(cancelled.object["progress"] as? [String: Any])
        #expect(cancelledProgress["failed"] as? Int == 1 && cancelledProgress["cancelled"] as? Int == 1, "\(cancelledProgress)")
        await world.gateway.bulk.resumeUnfinished()
        let done = try await batch(world, id, "left-over", until: Self.terminal)
        #expect(done["status"] as? String == "completed", "\(done)")
        let results = try #require(done["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["failed", "sent"])
        #expect((results.first?["error"] as? [String: Any])?["code"] as? String == "OUTCOME_UNKNOWN")
        let inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.map(\.body) == ["after the restart"], "the claimed item is not sent again, the cancelled batch not at all")

        _ = try await world.gateway.request("POST", "/api/sessions/\(id)/stop")
        #expect(try await world.gateway.request("DELETE", "/api/sessions/\(id)").status == 204)
        var left: Int64 = -1
        for _ in 0..<100 {
            left = try await world.gateway.data.query("SELECT COUNT(*) AS n FROM message_batches", []).first?.int("n") ?? -1
            if left == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(left == 0, "a deleted session's batches go with it")
        await world.stop()
    }
}
