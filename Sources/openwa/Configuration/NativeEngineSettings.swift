import Engines
import Foundation
import Reactor
import WAProtocol

/// The native engine's connection settings: WhatsApp by default, a simulator in tests.
struct NativeEngineSettings: Sendable, Equatable {
    /// `WA_SERVER_URL`: the chat WebSocket, `wss://` (or `ws://` for a local simulator).
    var serverURL = "wss://web.whatsapp.com/ws/chat"
    /// `WA_CA_FILE`: a PEM file of CAs to trust for `wss://` instead of the system store.
    var caFile: String?
    /// `WA_ROOT_PUBLIC_KEY`: the Noise certificate root, 64 hex digits (WhatsApp's by default).
    var rootPublicKey = NoiseCertificateChain.whatsAppRootPublicKey
    /// `BAILEYS_BROWSER_NAME`: the name the phone lists this device under.
    var browserName = "OpenWA"

    static func load(_ read: ConfigurationReader) throws -> NativeEngineSettings {
        var settings = NativeEngineSettings()
        settings.serverURL = read.string("WA_SERVER_URL", default: settings.serverURL)
        guard settings.serverURL.hasPrefix("wss://") || settings.serverURL.hasPrefix("ws://"),
            let url = URL(string: settings.serverURL), url.host != nil
        else {
            throw ConfigurationError(variable: "WA_SERVER_URL", problem: "must be a ws:// or wss:// URL (got \"\(settings.serverURL)\")")
        }
        if let file = read.optionalString("WA_CA_FILE") {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigurationError(variable: "WA_CA_FILE", problem: "must be a readable PEM file (got \"\(file)\")")
            }
            settings.caFile = file
        }
        if let hex = read.optionalString("WA_ROOT_PUBLIC_KEY") {
            guard let key = Self.bytes(hex: hex), key.count == 32 else {
                throw ConfigurationError(variable: "WA_ROOT_PUBLIC_KEY", problem: "must be 64 hexadecimal digits (a 32-byte key)")
            }
            settings.rootPublicKey = key
        }
        settings.browserName = read.string("BAILEYS_BROWSER_NAME", default: settings.browserName)
        return settings
    }

    /// The engine configuration, with the CA file loaded into a TLS context.
    func engineConfiguration() throws -> NativeEngineConfiguration {
        NativeEngineConfiguration(
            serverURL: serverURL, tls: try caFile.map { try TLSContext(clientTrusting: $0) }, rootPublicKey: rootPublicKey,
            browserName: browserName)
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.trimmingCharacters(in: .whitespaces).utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
