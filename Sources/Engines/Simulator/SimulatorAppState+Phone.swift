import Foundation
import Logging
import Reactor
import WAProtocol

/// A change the primary phone makes to its app state (admin `POST …/app-state`), written as an
/// encrypted, MAC'd patch exactly as a real device writes one.
package struct PhoneAppStateChange: Sendable, Equatable, Codable {
    /// `contact`, `mute`, `pin`, `archive`, `read` (`markChatAsRead`) or `pushName` (the account's own name).
    package var action: String
    /// The contact or chat: digits, `…@c.us`, `…@s.whatsapp.net` or `…@g.us` (not read for `pushName`).
    package var jid: String
    package var pushName: String? = nil
    package var fullName: String?
    package var firstName: String?
    package var muted: Bool?
    /// Milliseconds since the epoch, -1 for ever.
    package var muteEndTimestamp: Int64?
    package var pinned: Bool?
    package var archived: Bool?
    /// For `read`: true marks the chat read, false unread.
    package var read: Bool? = nil
    /// Encrypt with a new key that no companion has been sent yet (they must ask for it).
    package var freshKey: Bool?
    /// Store the patch without telling the companions (so a companion's next upload meets a 409).
    package var silent: Bool?

    package init(
        action: String, jid: String, fullName: String? = nil, firstName: String? = nil, muted: Bool? = nil,
        muteEndTimestamp: Int64? = nil, pinned: Bool? = nil, archived: Bool? = nil, freshKey: Bool? = nil, silent: Bool? = nil,
        pushName: String? = nil
    ) {
        self.pushName = pushName
        self.action = action
        self.jid = jid
        self.fullName = fullName
        self.firstName = firstName
        self.muted = muted
        self.muteEndTimestamp = muteEndTimestamp
        self.pinned = pinned
        self.archived = archived
        self.freshKey = freshKey
        self.silent = silent
    }
}

/// One live record of the phone's app state, decoded (admin `GET …/app-state`).
package struct PhoneAppStateRecord: Sendable, Equatable, Codable {
    package let collection: String
    package let index: [String]
    /// The action's timestamp, milliseconds.
    package let timestamp: Int64
    package var fullName: String? = nil
    package var firstName: String? = nil
    package var muted: Bool? = nil
    package var muteEndTimestamp: Int64? = nil
    package var pinned: Bool? = nil
    package var archived: Bool? = nil
    package var pushName: String? = nil
    /// `markChatAsRead`: false for a chat marked unread.
    package var read: Bool? = nil
    package var starred: Bool? = nil
    /// For archive and markChatAsRead: the ids of the messages their `messageRange` names, and
    /// its last message time (seconds).
    package var rangeMessageIDs: [String]? = nil
    package var rangeLastTimestamp: Int64? = nil
}

extension SimulatorCore {
    /// The phone writes `change` as the next patch of its collection, then the server tells the
    /// account's companions.
    func writeAppState(phone: String, change: PhoneAppStateChange) throws(SimulatorError) {
        let account = try account(phone)
        let chat = Self.wireJID(change.jid)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var value = Waproto_SyncActionValue()
        value.timestamp = now
        var mutations: [AppStateMutation] = []
        let collection: String
        switch change.action {
        case "contact":
            guard change.fullName != nil || change.firstName != nil else { throw .badRequest("contact needs fullName or firstName") }
            collection = "critical_unblock_low"
            if let full = change.fullName { value.contactAction.fullName = full }
            if let first = change.firstName { value.contactAction.firstName = first }
            mutations = [AppStateMutation(index: ["contact", chat], value: value, version: 2)]
        case "mute":
            guard let muted = change.muted else { throw .badRequest("mute needs muted") }
            collection = "regular_high"
            value.muteAction.muted = muted
            if muted { value.muteAction.muteEndTimestamp = change.muteEndTimestamp ?? -1 }
            mutations = [AppStateMutation(index: ["mute", chat], value: value, version: 2)]
        case "pin":
            guard let pinned = change.pinned else { throw .badRequest("pin needs pinned") }
            collection = "regular_low"
            value.pinAction.pinned = pinned
            mutations = [AppStateMutation(index: ["pin_v1", chat], value: value, version: 5)]
        case "archive":
            guard let archived = change.archived else { throw .badRequest("archive needs archived") }
            collection = "regular_low"
            value.archiveChatAction.archived = archived
            mutations = [AppStateMutation(index: ["archive", chat], value: value, version: 3)]
        case "read":
            guard let read = change.read else { throw .badRequest("read needs read") }
            collection = "regular_low"
            value.markChatAsReadAction.read = read
            mutations = [AppStateMutation(index: ["markChatAsRead", chat], value: value, version: 3)]
        case "pushName":
            guard let name = change.pushName, !name.isEmpty else { throw .badRequest("pushName needs pushName") }
            collection = "critical_block"
            value.pushNameSetting.name = name
            mutations = [AppStateMutation(index: ["setting_pushName"], value: value, version: 1)]
            account.pushName = name
        default:
            throw .badRequest("action must be contact, mute, pin, archive, read or pushName")
        }
        let state = try replay(collection, of: account).state
        do {
            _ = try account.appState.ensureKeys()
            if change.freshKey == true { try account.appState.addKey() }
        } catch { throw SimulatorError(500, "app-state keys could not be made") }
        guard let key = account.appState.keys.last else { throw SimulatorError(500, "app-state keys could not be made") }
        let patch: Waproto_SyncdPatch
        do { patch = try AppStatePatchCodec.encode(mutations, collection: collection, state: state, key: key).patch } catch {
            throw SimulatorError(500, "app-state patch could not be made: \(error)")
        }
        let version = account.appState.append(patch, to: collection)
        logger.info("phone wrote app state", metadata: ["phone": "\(phone)", "collection": "\(collection)", "version": "\(version)"])
        if change.silent != true { notifyServerSync(account, collection: collection, version: version, except: nil) }
    }

    /// The phone's view: every live record of every collection, decoded with its keys. A patch that
    /// does not verify (a companion uploaded something broken) is an error, not a silent skip.
    func appStateView(of phone: String) throws(SimulatorError) -> [PhoneAppStateRecord] {
        let account = try account(phone)
        var records: [PhoneAppStateRecord] = []
        for collection in AppStateCollectionState.names {
            let live = try replay(collection, of: account).live
            for index in live.keys.sorted(by: { $0.joined(separator: "\u{0}") < $1.joined(separator: "\u{0}") }) {
                guard let value = live[index] else { continue }
                var record = PhoneAppStateRecord(collection: collection, index: index, timestamp: value.timestamp)
                if value.hasContactAction {
                    record.fullName = value.contactAction.hasFullName ? value.contactAction.fullName : nil
                    record.firstName = value.contactAction.hasFirstName ? value.contactAction.firstName : nil
                }
                if value.hasMuteAction {
                    record.muted = value.muteAction.muted
                    record.muteEndTimestamp = value.muteAction.hasMuteEndTimestamp ? value.muteAction.muteEndTimestamp : nil
                }
                if value.hasPinAction { record.pinned = value.pinAction.pinned }
                if value.hasArchiveChatAction { record.archived = value.archiveChatAction.archived }
                let range =
                    value.archiveChatAction.hasMessageRange
                    ? value.archiveChatAction.messageRange
                    : value.markChatAsReadAction.hasMessageRange ? value.markChatAsReadAction.messageRange : nil
                if let range {
                    record.rangeMessageIDs = range.messages.map(\.key.id)
                    record.rangeLastTimestamp = range.lastMessageTimestamp
                }
                if value.hasPushNameSetting { record.pushName = value.pushNameSetting.name }
                if value.hasMarkChatAsReadAction { record.read = value.markChatAsReadAction.read }
                if value.hasStarAction { record.starred = value.starAction.starred }
                records.append(record)
            }
        }
        return records
    }

    /// The primary phone applies the account settings a companion wrote: its push name.
    func applyAccountSettings(of account: Account) {
        guard let live = try? replay("critical_block", of: account).live, let setting = live[["setting_pushName"]],
            setting.hasPushNameSetting, !setting.pushNameSetting.name.isEmpty
        else { return }
        account.pushName = setting.pushNameSetting.name
    }

    /// Arms the server to corrupt the patch MAC of the next `count` patch pages it serves (the
    /// stored patches stay intact, so a full resync recovers).
    func corruptAppStatePatches(phone: String, count: Int) throws(SimulatorError) {
        guard (1...100).contains(count) else { throw .badRequest("count must be 1 to 100") }
        try account(phone).appState.corruptServedPatches += count
    }

    /// Applies the collection's whole log with the phone's keys.
    private func replay(
        _ collection: String, of account: Account
    ) throws(SimulatorError) -> (state: AppStateCollectionState, live: [[String]: Waproto_SyncActionValue]) {
        let keys = Dictionary(account.appState.keys.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var state = AppStateCollectionState()
        var live: [[String]: Waproto_SyncActionValue] = [:]
        for patch in account.appState.logs[collection] ?? [] {
            do {
                let applied = try AppStatePatchCodec.apply(patch, collection: collection, to: state, keys: keys)
                state = applied.state
                for mutation in applied.mutations {
                    live[mutation.index] = mutation.operation == .set ? mutation.value : nil
                }
            } catch {
                throw SimulatorError(500, "\(collection) v\(patch.version.version) does not verify: \(error)")
            }
        }
        return (state, live)
    }

    /// A contact or chat id in the wire form the indexes use.
    static func wireJID(_ id: String) -> String {
        if id.allSatisfy(\.isNumber) { return "\(id)@\(JID.Server.user)" }
        if id.hasSuffix("@c.us") { return "\(id.dropLast(5))@\(JID.Server.user)" }
        return id
    }
}

extension Simulator {
    /// The phone names a contact, mutes, pins or archives a chat (an app-state patch).
    package func writeAppState(phone: String, _ change: PhoneAppStateChange) async throws {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.writeAppState(phone: phone, change: change) }) }
    }

    /// The phone's decoded view of its app state.
    package func appState(of phone: String) async throws -> [PhoneAppStateRecord] {
        try await call { core, done in done(Result { () throws(SimulatorError) in try core.appStateView(of: phone) }) }
    }

    /// The server corrupts the patch MAC of the next `count` patch pages it serves for the account.
    package func corruptAppStatePatches(phone: String, count: Int = 1) async throws {
        try await call { core, done in
            done(Result { () throws(SimulatorError) in try core.corruptAppStatePatches(phone: phone, count: count) })
        }
    }
}
