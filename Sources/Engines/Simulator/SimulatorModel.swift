import Foundation
import Reactor
import WAProtocol

/// Why a simulator operation failed; `status` is the admin API's HTTP status for it.
package struct SimulatorError: Error, Sendable, CustomStringConvertible, Equatable {
    package let status: Int
    package let message: String

    package init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    package static func notFound(_ message: String) -> SimulatorError { SimulatorError(404, message) }
    package static func badRequest(_ message: String) -> SimulatorError { SimulatorError(400, message) }
    package static func conflict(_ message: String) -> SimulatorError { SimulatorError(409, message) }

    package var description: String { "\(status): \(message)" }
}

/// A fault injected into one live companion connection (admin `POST …/fault`).
package enum SimulatorFault: Sendable, Equatable {
    /// Close the TCP connection at once, without a WebSocket close frame.
    case drop
    /// Stop reading from the socket and stop answering or pinging.
    case stall
    /// `<stream:error><conflict type="replaced"/></stream:error>`, then close.
    case conflict
    /// Delay every later outbound frame by this many milliseconds.
    case latency(milliseconds: Int)
    /// Send one frame that is not valid Noise ciphertext.
    case malformed
    /// Send the header of a WebSocket message far over any client's size limit (1 GiB), and stop.
    case oversized
}

/// A fault armed for the next new connections' Noise handshakes (admin `POST /admin/handshake-faults`).
package enum HandshakeFault: String, Sendable, Equatable, Codable {
    /// The server certificate chain is signed by a root the client does not trust.
    case badCertificate = "bad-certificate"
    /// The server hello's encrypted static key is corrupted, so the client's AEAD check fails.
    case badNoise = "bad-noise"
}

/// A companion device as the admin API reports it.
package struct CompanionSnapshot: Sendable, Equatable, Codable {
    /// The `:N` of the companion's JID.
    package let device: UInt16
    /// `15551234567:N@s.whatsapp.net`.
    package let jid: String
    /// `<lid>:N@lid`.
    package let lid: String
    /// `online` while a logged-in connection of this device is open, else `offline`.
    package let status: String
    /// The platform id from the QR or the pairing-code request, when known.
    package let platform: String?
    /// Hex of the companion's Signal identity key.
    package let identityKey: String
    /// One-time prekeys the companion has uploaded and nobody has consumed.
    package let preKeyCount: Int
    /// Stanzas queued for the companion that it has not confirmed yet.
    package let pendingMessages: Int
    /// Unix seconds.
    package let pairedAt: UInt64
}

/// A simulated account (its primary phone and linked companions) as the admin API reports it.
package struct PhoneSnapshot: Sendable, Equatable, Codable {
    package let phone: String
    package let pushName: String
    /// The about text a companion set (`<iq xmlns="status">`); nil until one did.
    package var about: String? = nil
    /// `15551234567@s.whatsapp.net`.
    package let jid: String
    /// `<lid>@lid`.
    package let lid: String
    /// Hex of the primary phone's identity key (the account signature key of its companions).
    package let identityKey: String
    package let companions: [CompanionSnapshot]
}

/// What a completed pairing produced (admin `scan` and `pairing-code` answers).
package struct PairingResult: Sendable, Equatable, Codable {
    package let phone: String
    package let device: UInt16
    package let jid: String
    package let lid: String
}

/// A companion's Signal key bundle as uploaded with `<iq xmlns="encrypt" type="set">`.
struct KeyBundle {
    var registrationID: [UInt8] = []
    var identity: [UInt8] = []
    var signedPreKey: (id: [UInt8], value: [UInt8], signature: [UInt8])?
    var preKeys: [(id: [UInt8], value: [UInt8])] = []
}

/// A linked companion device (reactor thread only).
final class Companion {
    let device: UInt16
    let identityKey: [UInt8]
    let noiseKey: [UInt8]
    let platform: String?
    let signedIdentity: AdvSignedDeviceIdentity
    let pairedAt: UInt64
    var keys = KeyBundle()
    /// Stanzas for this device not yet confirmed by a receipt, oldest first; sent again after
    /// every login until confirmed (the offline queue, and redelivery after a crash).
    var outbox: [QueuedStanza] = []
    /// The logged-in connection of this device, if any.
    weak var connection: SimulatorConnection?
    /// The primary shares its app-state keys once the companion's prekeys let it open a session.
    var awaitsAppStateKeys = true

    init(
        device: UInt16, identityKey: [UInt8], noiseKey: [UInt8], platform: String?,
        signedIdentity: AdvSignedDeviceIdentity, pairedAt: UInt64
    ) {
        self.device = device
        self.identityKey = identityKey
        self.noiseKey = noiseKey
        self.platform = platform
        self.signedIdentity = signedIdentity
        self.pairedAt = pairedAt
    }
}

/// A simulated account: phone number, LID, push name, the primary phone's identity key and its
/// companions (reactor thread only).
final class Account {
    let phone: String
    let lidUser: String
    var pushName: String
    let identity: Crypto.X25519KeyPair
    var companions: [UInt16: Companion] = [:]
    /// Device ids are never reused, as on WhatsApp.
    var nextDevice: UInt16 = 1
    let createdAt: UInt64
    /// What companions sent this phone, decrypted, oldest first.
    var inbox: [PhoneMessage] = []
    /// Read and played receipts for what this phone sent, oldest first.
    var receipts: [PhoneReceipt] = []
    /// Polls this phone received or sent, by message id.
    var polls: [String: PhonePoll] = [:]
    /// The URL the `w:profile:picture` iq answers for this account (nil: no picture).
    var pictureURL: String?
    /// The about text (`<iq xmlns="status" type="set">`).
    var about: String?
    /// Phones this account blocked, in the order it blocked them: their messages to it are
    /// accepted from them but never delivered.
    var blocked: [String] = []
    /// Typing states contacts' devices showed this phone, oldest first.
    var chatStates: [PhoneChatState] = []
    /// Sender keys of the groups this phone is in.
    let groupKeys = PhoneGroupKeys()
    /// Phones this one exchanged messages with (they hear of its device changes).
    var contacts: Set<String> = []
    /// Shown online (a companion or the admin API said so), and since when offline.
    var available = false
    var lastSeen: UInt64?
    /// Companions (`phone:device`) subscribed to this account's presence.
    var presenceSubscribers: Set<String> = []
    /// The account's app-state keys and the server's patch log of each collection.
    let appState = PhoneAppState()
    /// The phone's Signal participant, made on first use (10,000 idle phones need none).
    private var signalState: PhoneSignal?

    init(phone: String, lidUser: String, pushName: String, identity: Crypto.X25519KeyPair, createdAt: UInt64) {
        self.phone = phone
        self.lidUser = lidUser
        self.pushName = pushName
        self.identity = identity
        self.createdAt = createdAt
    }

    func signal() throws -> PhoneSignal {
        if let signalState { return signalState }
        let made = try PhoneSignal(identityPrivateKey: identity.privateKey)
        signalState = made
        return made
    }

    var jid: JID { JID(user: phone, server: JID.Server.user) }
    var lid: JID { JID(user: lidUser, server: JID.Server.lid) }
    func jid(device: UInt16) -> JID { JID(user: phone, server: JID.Server.user, device: device) }
    func lid(device: UInt16) -> JID { JID(user: lidUser, server: JID.Server.lid, device: device) }

    func snapshot() -> PhoneSnapshot {
        PhoneSnapshot(
            phone: phone, pushName: pushName, about: about, jid: jid.description, lid: lid.description,
            identityKey: Crypto.hex(identity.publicKey),
            companions: companions.values.sorted { $0.device < $1.device }.map(snapshot(of:)))
    }

    func snapshot(of companion: Companion) -> CompanionSnapshot {
        CompanionSnapshot(
            device: companion.device, jid: jid(device: companion.device).description,
            lid: lid(device: companion.device).description,
            status: companion.connection?.isOnline == true ? "online" : "offline", platform: companion.platform,
            identityKey: Crypto.hex(companion.identityKey), preKeyCount: companion.keys.preKeys.count,
            pendingMessages: companion.outbox.count,
            pairedAt: companion.pairedAt)
    }
}

/// Unix seconds now.
func unixNow() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }
