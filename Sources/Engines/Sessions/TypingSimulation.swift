import Foundation

/// OpenWA's typing simulation (reference 2.5, `SIMULATE_TYPING`, `SIMULATE_TYPING_MAX_MS`): before
/// a text goes out the chat shows "typing…" for about as long as a person would take to type it,
/// 500 ms and 45 ms a character, at most the configured maximum, with ±15 % of jitter. On by
/// default, as in OpenWA; a deployment that wants its texts at once turns it off.
package struct TypingSimulation: Sendable {
    package var enabled: Bool
    package var maxMilliseconds: Int

    package init(enabled: Bool = true, maxMilliseconds: Int = 5_000) {
        self.enabled = enabled
        self.maxMilliseconds = maxMilliseconds
    }

    /// How long "typing…" shows before `text`, with `jitter` in -0.15...0.15.
    package func milliseconds(for text: String, jitter: Double = .random(in: -0.15...0.15)) -> Int {
        let typed = Double(500 + 45 * text.count) * (1 + jitter)
        return max(0, min(maxMilliseconds, Int(typed.rounded())))
    }

    /// Shows "typing…" in `chatID` and waits. A chat state that cannot be shown does not hold
    /// the send up: the text goes either way.
    package func type(_ text: String, chatID: String, sessionID: String, sessions: SessionManager) async {
        guard enabled, maxMilliseconds > 0 else { return }
        guard (try? await sessions.sendChatState(id: sessionID, chatID: chatID, state: "typing")) != nil else { return }
        try? await Task.sleep(for: .milliseconds(milliseconds(for: text)))
    }
}
