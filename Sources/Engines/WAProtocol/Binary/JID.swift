/// A WhatsApp address: `user[.agent][:device]@server` (protocol reference §4.6).
///
/// One struct covers every wire form: plain pairs (`JID_PAIR`), device JIDs (`AD_JID`),
/// Messenger JIDs (`FB_JID`, server `msgr`) and interop JIDs (`INTEROP_JID`, server `interop`).
/// Which form is used on the wire follows from the server and device, as in whatsmeow.
package struct JID: Sendable, Hashable, CustomStringConvertible {
    /// Phone number, LID, group id…; empty for a server JID such as `s.whatsapp.net`.
    package var user: String
    /// A legacy raw agent number; only meaningful on `s.whatsapp.net` (the AD_JID domain byte
    /// doubles as the agent, so other servers cannot carry one).
    package var agent: UInt8
    /// Device number: one byte on the wire for AD_JID, two for FB and interop JIDs. 0 = primary.
    package var device: UInt16
    /// Interop integrator id; only meaningful on `interop`.
    package var integrator: UInt16
    /// The domain: `s.whatsapp.net`, `g.us`, `lid`, `broadcast`, …
    package var server: String

    /// A JID from its parts; only `server` is required (a server JID has no user).
    package init(user: String = "", server: String, device: UInt16 = 0, agent: UInt8 = 0, integrator: UInt16 = 0) {
        self.user = user
        self.server = server
        self.device = device
        self.agent = agent
        self.integrator = integrator
    }

    /// Known server names (whatsmeow `types/jid.go`, Baileys `jid-utils.ts`).
    package enum Server {
        /// Phone-number users, and the server itself (whatsmeow `DefaultUserServer`).
        package static let user = "s.whatsapp.net"
        /// Groups.
        package static let group = "g.us"
        /// LID (hidden) identities.
        package static let lid = "lid"
        /// Broadcast lists and `status@broadcast`.
        package static let broadcast = "broadcast"
        /// Channels.
        package static let newsletter = "newsletter"
        /// The legacy user server.
        package static let legacyUser = "c.us"
        /// Calls.
        package static let call = "call"
        /// Bots such as Meta AI.
        package static let bot = "bot"
        /// Cloud-API hosted accounts (AD_JID domain 128).
        package static let hosted = "hosted"
        /// Hosted accounts' LIDs (AD_JID domain 129).
        package static let hostedLID = "hosted.lid"
        /// Messenger users (FB_JID).
        package static let messenger = "msgr"
        /// Interop users (INTEROP_JID).
        package static let interop = "interop"
    }

    /// The WhatsApp server itself, `s.whatsapp.net` with no user: the usual `to`/`from` of IQs.
    package static let whatsAppServer = JID(server: Server.user)

    /// The same account without agent and device: the JID of the user rather than of one device.
    package var bare: JID { JID(user: user, server: server, integrator: integrator) }

    /// True for `s.whatsapp.net`, `g.us`… with no user part.
    package var isServer: Bool { user.isEmpty }

    // MARK: - String form

    /// whatsmeow's string form, `user.agent:device@server`, extended with Baileys' interop
    /// prefix `integrator-user`; the server JID prints as just the server.
    ///
    /// Parses back to an equal JID whenever the server has no `@`: a user holding `.` or `:`
    /// is printed in the full `user.agent:device` form (the parser takes the last separator),
    /// and an interop user holding `-` always gets its integrator prefix (the parser takes the
    /// first dash).
    package var description: String {
        var head = user
        if server == Server.interop, integrator != 0 || user.contains("-") { head = "\(integrator)-\(user)" }
        if agent != 0 || user.contains(".") || user.contains(":") { return "\(head).\(agent):\(device)@\(server)" }
        if device != 0 { return "\(head):\(device)@\(server)" }
        return head.isEmpty ? server : "\(head)@\(server)"
    }

    /// Parses the string form of `description`; a string without `@` is a server JID.
    ///
    /// Separators are taken from the right (`@`, then `:` device, then `.` agent), except the
    /// interop integrator, which is everything before the first `-`.
    package init(parsing text: String) throws {
        guard !text.isEmpty else { throw ProtocolError.invalidJID("empty") }
        guard let at = text.lastIndex(of: "@") else {
            self.init(server: text)
            return
        }
        let server = String(text[text.index(after: at)...])
        guard !server.isEmpty else { throw ProtocolError.invalidJID("bad server in \(text)") }
        var user = text[..<at]
        var agent: UInt8 = 0
        var device: UInt16 = 0
        var integrator: UInt16 = 0
        if let colon = user.lastIndex(of: ":") {
            device = try Self.number(user[user.index(after: colon)...], in: text)
            user = user[..<colon]
        }
        if let dot = user.lastIndex(of: ".") {
            agent = try Self.number(user[user.index(after: dot)...], in: text)
            user = user[..<dot]
        }
        if server == Server.interop, let dash = user.firstIndex(of: "-") {
            integrator = try Self.number(user[..<dash], in: text)
            user = user[user.index(after: dash)...]
        }
        self.init(user: String(user), server: server, device: device, agent: agent, integrator: integrator)
    }

    private static func number<T: FixedWidthInteger>(_ digits: Substring, in text: String) throws -> T {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = T(digits)
        else { throw ProtocolError.invalidJID("bad number in \(text)") }
        return value
    }
}
