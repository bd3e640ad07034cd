import Foundation
import Reactor
import WAProtocol

/// The account's own name and about text (reference 2.13).
///
/// The display name ("push name") is an account setting in the app state: a `setting_pushName`
/// action in the `critical_block` collection (part 2 §7.6), which the phone and every companion
/// apply. Once WhatsApp takes the patch the name is ours: it is kept with the credentials, goes
/// out with our next `available` presence (contacts see it in the `notify` of what we send) and
/// shows as the session's `pushName`. A name changed on the phone arrives the same way, as a
/// patch, and is adopted alike.
///
/// The about text is not app state: it is set with `<iq xmlns="status" type="set">` carrying
/// `<status>` with the text's UTF-8 bytes.
extension NativeEngine {
    /// WhatsApp's limits, in characters (the routes check them first).
    static let pushNameMaxLength = 25
    static let aboutMaxLength = 139

    package func setPushName(_ name: String) async throws {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= Self.pushNameMaxLength else {
            throw EngineError.invalid("name must be 1 to \(Self.pushNameMaxLength) characters")
        }
        var value = Waproto_SyncActionValue()
        value.timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        value.pushNameSetting.name = trimmed
        // Applied here too once taken (applyActions), which adopts the name.
        try await linkRef().uploadAppState(
            [AppStateMutation(index: ["setting_pushName"], value: value, version: 1)], collection: "critical_block")
    }

    package func setAbout(_ text: String) async throws {
        guard text.count <= Self.aboutMaxLength else { throw EngineError.invalid("status must be at most \(Self.aboutMaxLength) characters") }
        let query = BinaryNode(
            "iq", ["to": .jid(.whatsAppServer), "type": "set", "xmlns": "status"],
            children: [BinaryNode("status", bytes: Array(text.utf8))])
        _ = try await linkRef().request(query)
    }
}

extension LinkRef {
    /// Makes `name` the account's push name: stored with the credentials, announced with the next
    /// presence (at once when the account shows as available), reported to the session.
    func adoptPushName(_ name: String) async throws {
        guard !name.isEmpty else { return }
        try await withLink { (link: NativeLink, continuation: CheckedContinuation<Void, any Error>) in
            guard link.credentials?.pushName != name else { return continuation.resume() }
            link.credentials?.pushName = name
            // A failed write ends the link (persist's rule), so nothing waits on it here.
            link.persist([NativeCredentials.Key.pushName: Array(name.utf8)]) { link in
                if link.wantsAvailable == true { link.sendAvailability(true) }
                link.emit(.pushName(name))
            }
            continuation.resume()
        }
    }
}
