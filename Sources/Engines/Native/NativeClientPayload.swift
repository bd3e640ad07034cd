import Foundation
import Reactor
import SwiftProtobuf
import WAProtocol

/// The ClientPayload of ClientFinish (ref part 1 §3): registration while unpaired, login after.
enum NativeClientPayload {
    /// MD5("2.3000.1035194821"): the build hash of the default version. Other versions send their own.
    private static let defaultBuildHash: [UInt8] = [
        0xa2, 0xc9, 0x47, 0x1e, 0xff, 0x91, 0x0a, 0x9e, 0x1a, 0xe6, 0x59, 0x89, 0x0a, 0x28, 0x87, 0x2d,
    ]

    static func make(credentials: NativeCredentials, configuration: NativeEngineConfiguration) throws -> [UInt8] {
        var payload = Waproto_ClientPayload()
        payload.userAgent = userAgent(configuration)
        var web = Waproto_ClientPayload.WebInfo()
        web.webSubPlatform = .webBrowser
        payload.webInfo = web
        payload.connectType = .wifiUnknown
        payload.connectReason = .userActivated
        if let me = credentials.me, let username = UInt64(me.user) {
            payload.username = username
            payload.device = UInt32(me.device)
            payload.passive = true
            payload.pull = true
            payload.lidDbMigrated = true
            payload.lc = 1
        } else {
            payload.passive = false
            payload.pull = false
            payload.devicePairingData = try registration(credentials, configuration)
        }
        return try payload.serializedBytes()
    }

    private static func userAgent(_ configuration: NativeEngineConfiguration) -> Waproto_ClientPayload.UserAgent {
        var agent = Waproto_ClientPayload.UserAgent()
        agent.platform = .web
        var version = Waproto_ClientPayload.UserAgent.AppVersion()
        version.primary = configuration.appVersion.primary
        version.secondary = configuration.appVersion.secondary
        version.tertiary = configuration.appVersion.tertiary
        agent.appVersion = version
        agent.mcc = "000"
        agent.mnc = "000"
        agent.osVersion = "0.1"
        agent.device = "Desktop"
        agent.osBuildNumber = "0.1"
        agent.releaseChannel = .release
        agent.localeLanguageIso6391 = "en"
        agent.localeCountryIso31661Alpha2 = "US"
        return agent
    }

    private static func registration(
        _ credentials: NativeCredentials, _ configuration: NativeEngineConfiguration
    ) throws -> Waproto_ClientPayload.DevicePairingRegistrationData {
        var props = Waproto_DeviceProps()
        props.os = configuration.browserName
        var version = Waproto_DeviceProps.AppVersion()
        version.primary = 10
        version.secondary = 15
        version.tertiary = 7
        props.version = version
        props.platformType = .chrome
        props.requireFullSync = false
        var history = Waproto_DeviceProps.HistorySyncConfig()
        history.storageQuotaMb = 10_240
        history.inlineInitialPayloadInE2EeMsg = true
        props.historySyncConfig = history

        var data = Waproto_ClientPayload.DevicePairingRegistrationData()
        data.eRegid = Data(credentials.registrationID.bigEndianBytes)
        data.eKeytype = Data([DJBKey.type])
        data.eIdent = Data(credentials.identity.publicKey)
        data.eSkeyID = Data(credentials.signedPreKey.id.bigEndian3Bytes)
        data.eSkeyVal = Data(credentials.signedPreKey.keyPair.publicKey)
        data.eSkeySig = Data(credentials.signedPreKey.signature)
        data.buildHash = Data(configuration.versionString == "2.3000.1035194821" ? defaultBuildHash : buildHash(configuration.versionString))
        data.deviceProps = try props.serializedData()
        return data
    }

    /// A stand-in hash for non-default versions: the server only compares it for real builds,
    /// and we ship no MD5; the simulator ignores it.
    private static func buildHash(_ version: String) -> [UInt8] { Array(Crypto.sha256(Array(version.utf8)).prefix(16)) }
}
