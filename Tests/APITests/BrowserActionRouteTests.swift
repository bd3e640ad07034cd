import Engines
import Foundation
import Reactor
import Testing
import TestSupport

/// The browser engine does not have message actions, chat state, contacts, blocking, pictures or membership
/// requests yet: a ready session answers 501 to each, after the body is validated, and nothing
/// reaches the page.
@Suite(.timeLimit(.minutes(2)), .enabled(if: BrowserRESTWorld.enabled))
struct BrowserActionRouteTests {
    @Test func actionsAndContactsAnswer501() async throws {
        let world = try await BrowserRESTWorld.start()
        let (id, _) = try await world.readySession()
        let chat = "15550001111@c.us"
        let actions: [(String, String)] = [
            ("forward", #"{"fromChatId":"\#(chat)","toChatId":"15550002222@c.us","messageId":"ABC"}"#),
            ("delete", #"{"chatId":"\#(chat)","messageId":"ABC"}"#),
            ("edit", #"{"chatId":"\#(chat)","messageId":"ABC","body":"new"}"#),
            ("vote-poll", #"{"chatId":"\#(chat)","pollMessageId":"ABC","options":["Yes"]}"#),
        ]
        for (action, body) in actions {
            let response = try await world.gateway.request("POST", "/api/sessions/\(id)/messages/\(action)", body: body)
            #expect(response.status == 501, "\(action): \(response.text)")
        }
        for (route, body) in [
            ("archive", #"{"chatId":"\#(chat)","archive":true}"#), ("mute", #"{"chatId":"\#(chat)","muteUntil":null}"#),
            ("pin", #"{"chatId":"\#(chat)","pin":false}"#),
        ] {
            let response = try await world.gateway.request("POST", "/api/sessions/\(id)/chats/\(route)", body: body)
            #expect(response.status == 501, "chats/\(route): \(response.text)")
        }
        for path in ["contacts", "contacts/\(chat)", "contacts/\(chat)/profile-picture", "contacts/blocked"] {
            let response = try await world.gateway.request("GET", "/api/sessions/\(id)/\(path)")
            #expect(response.status == 501, "\(path): \(response.text)")
        }
        for (method, path) in [
            ("POST", "contacts/\(chat)/block"), ("DELETE", "contacts/\(chat)/block"), ("GET", "groups/120363000000000001@g.us/picture"),
            ("DELETE", "groups/120363000000000001@g.us/picture"), ("DELETE", "profile/picture"),
            ("GET", "groups/120363000000000001@g.us/membership-requests"),
            ("POST", "groups/120363000000000001@g.us/membership-requests/reject"),
        ] {
            let response = try await world.gateway.request(method, "/api/sessions/\(id)/\(path)")
            #expect(response.status == 501, "\(method) \(path): \(response.text)")
        }
        let malformed = try await world.gateway.request("POST", "/api/sessions/\(id)/messages/edit", body: #"{"chatId":"\#(chat)"}"#)
        #expect(malformed.status == 400, "validation comes first")
        await world.stop()
    }
}
