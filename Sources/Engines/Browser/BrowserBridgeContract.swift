/// Every WhatsApp Web module and member the bridge script touches, in one place. WA Web renames
/// these from time to time; the fixture page is checked against this list by the tests, and the
/// same list can be checked by hand against live WA Web (`window.require(module)[member]`).
package enum BrowserBridgeContract {
    package static let members: [(module: String, member: String)] = [
        ("WAWebSocketModel", "Socket"),
        ("WAWebConnModel", "Conn"),
        ("WAWebCollections", "Msg"),
        ("WAWebCollections", "Chat"),
        ("WAWebCompanionRegClientUtils", "DEVICE_PLATFORM"),
        ("WAWebAdvSignatureApi", "getADVSecretKey"),
        ("WAWebUserPrefsInfoStore", "waNoiseInfo"),
        ("WAWebSignalStoreApi", "waSignalStore"),
        ("WABase64", "encodeB64"),
        ("WAWebUserPrefsMeUser", "getMaybeMePnUser"),
        ("WAWebWidFactory", "createWid"),
        ("WAWebFindChatAction", "findOrCreateLatestChat"),
        ("WAWebMsgKey", "newId"),
        ("WAWebSendMsgChatAction", "addAndSendMsgToChat"),
        ("WAWebCmd", "Cmd"),
        ("WAWebGetEphemeralFieldsMsgActionsUtils", "getEphemeralFields"),
        ("WAWebMsgReply", "canReplyMsg"),
        ("WAWebSendReactionMsgAction", "sendReactionToMsg"),
        ("WAWebMediaOpaqueData", "createFromData"),
        ("WAWebPrepRawMedia", "prepRawMedia"),
        ("WAWebMediaStorage", "getOrCreateMediaObject"),
        ("WAWebMmsMediaTypes", "msgToMediaType"),
        ("WAWebMediaMmsV4Upload", "uploadMedia"),
    ]

    /// Members of the models the script calls: `Socket.state/hasSynced/on`, `Conn.ref/on/serialize`,
    /// `Msg.on/get/getMessagesById`, `Chat.get`. A quoted message must also answer `unsafe()` and
    /// `msgContextInfo(chat)`, and prepared media `toJSON()`, `set()` and `mediaBlob.url()`;
    /// those exist only once a message or a file is at hand, so the send tests cover them.
    package static let modelMembers: [(module: String, model: String, member: String)] = [
        ("WAWebSocketModel", "Socket", "state"), ("WAWebSocketModel", "Socket", "hasSynced"), ("WAWebSocketModel", "Socket", "on"),
        ("WAWebConnModel", "Conn", "ref"), ("WAWebConnModel", "Conn", "on"), ("WAWebConnModel", "Conn", "serialize"),
        ("WAWebCollections", "Msg", "on"), ("WAWebCollections", "Msg", "get"), ("WAWebCollections", "Msg", "getMessagesById"),
        ("WAWebCollections", "Chat", "get"),
    ]

    /// A page expression that returns the list of missing `module.member` names (empty when the
    /// page satisfies the contract).
    package static var checkExpression: String {
        let direct = members.map { "['\($0.module)', '\($0.member)']" }.joined(separator: ",")
        let models = modelMembers.map { "['\($0.module)', '\($0.model)', '\($0.member)']" }.joined(separator: ",")
        return """
            (() => { const missing = [];
              for (const [m, k] of [\(direct)]) { try { if (window.require(m)[k] === undefined) missing.push(m + '.' + k); } catch (e) { missing.push(m); } }
              for (const [m, o, k] of [\(models)]) { try { if (!(k in window.require(m)[o])) missing.push(m + '.' + o + '.' + k); } catch (e) { missing.push(m + '.' + o); } }
              return missing; })()
            """
    }
}
