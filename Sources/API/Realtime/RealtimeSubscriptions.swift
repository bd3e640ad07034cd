/// One client's subscriptions: for each session selector (a session id or `"*"`), the event
/// names it wants, or every event. Matching answers "deliver or not" once per event, so
/// overlapping subscriptions never deliver an event twice.
struct RealtimeSubscriptions {
    private enum Selection: Equatable {
        case all
        case only(Set<String>)

        var count: Int {
            switch self {
            case .all: return 1
            case .only(let names): return names.count
            }
        }
    }

    private var bySession: [String: Selection] = [:]

    /// Subscriptions held, counted as (session, event) pairs with `"*"` counting once; the
    /// per-connection cap applies to this number.
    private(set) var count = 0

    /// Whether anything is subscribed for this session id or `"*"`.
    func holds(_ sessionSelector: String) -> Bool { bySession[sessionSelector] != nil }
    var isEmpty: Bool { bySession.isEmpty }

    /// The count after adding `events` for `sessionID`, without changing anything.
    func countAfterAdding(_ events: [String], for sessionID: String) -> Int {
        var copy = self
        copy.add(events, for: sessionID)
        return copy.count
    }

    mutating func add(_ events: [String], for sessionID: String) {
        let before = bySession[sessionID]
        let after: Selection
        if events.contains("*") {
            after = .all
        } else if case .only(let names) = before {
            after = .only(names.union(events))
        } else if before == .all {
            after = .all
        } else {
            after = .only(Set(events))
        }
        bySession[sessionID] = after
        count += after.count - (before?.count ?? 0)
    }

    /// Removes `events` (all of them when nil or `["*"]`) for `sessionID`.
    mutating func remove(_ events: [String]?, for sessionID: String) {
        guard let before = bySession[sessionID] else { return }
        var after: Selection?
        if let events, !events.contains("*"), case .only(let names) = before {
            let left = names.subtracting(events)
            after = left.isEmpty ? nil : .only(left)
        }
        bySession[sessionID] = after
        count += (after?.count ?? 0) - before.count
    }

    func matches(event: String, sessionID: String) -> Bool {
        selects(bySession[sessionID], event) || selects(bySession["*"], event)
    }

    private func selects(_ selection: Selection?, _ event: String) -> Bool {
        switch selection {
        case .none: return false
        case .all: return true
        case .only(let names): return names.contains(event)
        }
    }
}
