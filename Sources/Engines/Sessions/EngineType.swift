/// Which engine drives WhatsApp sessions: the native protocol engine or a headless browser.
package enum EngineType: String, Sendable, CaseIterable {
    case native
    case browser

    /// Parses OpenWA's names as well as ours: `baileys` is the native engine's alias and
    /// `whatsapp-web.js` the browser engine's.
    package init?(configValue: String) {
        switch configValue.lowercased() {
        case "native", "baileys": self = .native
        case "browser", "whatsapp-web.js", "wwebjs": self = .browser
        default: return nil
        }
    }

    /// The name OpenWA reports for this engine (for example in `POST /api/auth/validate`).
    package var openWAName: String {
        switch self {
        case .native: return "baileys"
        case .browser: return "whatsapp-web.js"
        }
    }

    package static let allowedValues = "native, baileys, browser, whatsapp-web.js"
}
