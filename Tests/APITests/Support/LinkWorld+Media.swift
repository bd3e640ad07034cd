import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Media helpers shared by the media route and forward tests.
extension LinkWorld {
    /// A world with `phones`, session "alice" linked to the first phone and its prekeys uploaded.
    static func linkedForMedia(
        _ backend: DataBackend, storage: MediaStorageConfiguration?, phones: [String],
        inboundMedia: MediaArchive.Settings = MediaArchive.Settings(), limits: TestLimits = TestLimits()
    ) async throws -> (LinkWorld, String) {
        let world = try await LinkWorld.start(backend, phones: phones, limits: limits, inboundMedia: inboundMedia, storage: storage)
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: phones[0])
        try await world.waitForPreKeys(of: phones[0])
        return (world, id)
    }

    func postJSON(_ id: String, _ route: String, _ body: [String: Any]) async throws -> TestResponse {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        return try await gateway.request("POST", "/api/sessions/\(id)/messages/\(route)", body: json)
    }

    /// The phone's inbox entry for `messageID`, once it is there.
    func inboxEntry(_ phone: String, _ messageID: String) async throws -> PhoneMessage {
        for _ in 0..<1_000 {
            if let entry = try await simulator.inbox(of: phone).first(where: { $0.id == messageID }) { return entry }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("\(phone) never received \(messageID)")
        throw LinkWorldError.timedOut("inbox")
    }

    /// The stored row's media columns and metadata once `done` holds for them.
    func mediaRow(_ id: String, _ messageID: String, until done: (SQLMessageStore.MediaRow) -> Bool) async throws -> SQLMessageStore.MediaRow {
        var last: SQLMessageStore.MediaRow?
        for _ in 0..<1_000 {
            last = try await gateway.archive.row(sessionID: id, messageID: messageID)
            if let last, done(last) { return last }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("row of \(messageID) never got there; last: \(String(describing: last))")
        throw LinkWorldError.timedOut("media row")
    }

    func mediaRoute(_ id: String, chat: String, _ messageID: String) async throws -> TestResponse {
        try await gateway.request("GET", "/api/sessions/\(id)/messages/\(chat)/\(messageID)/media")
    }
}
