/// The preload script (`Page.addScriptToEvaluateOnNewDocument`): it runs in every new document
/// before WhatsApp Web's own scripts, waits for WA Web's module system (`window.Debug.VERSION`
/// and `window.require`), hooks the models it needs, and reports through the one binding
/// (`__openwaEmit`, one JSON string per event). Commands are `window.__openwa.call(name, args)`
/// (the send commands are in `BrowserBridgeScript+Send.swift`).
///
/// Every module and member used here is listed in `BrowserBridgeContract`, which the tests
/// check against the fixture page; keep the two in step.
enum BrowserBridgeScript {
    static let source = #"""
    (() => {
      'use strict';
      if (window.__openwa) return;
      const emit = (type, data) => {
        try { window.__openwaEmit(JSON.stringify({ type, data: data === undefined ? null : data })); } catch (e) {}
      };
      const mod = (name) => window.require(name);
      const bridge = { commands: {} };
      Object.defineProperty(window, '__openwa', { value: bridge, enumerable: false });
      // A refusal the gateway maps to a status (`notFound` -> 404): returned, not thrown, so its
      // code survives the trip through Runtime.evaluate.
      const refusal = (code, message) => Object.assign(new Error(message), { openwaCode: code });
      bridge.call = async (name, args) => {
        const command = bridge.commands[name];
        if (!command) throw new Error('unknown bridge command ' + name);
        try {
          return await command(...args);
        } catch (e) {
          if (e && e.openwaCode) return { error: { code: e.openwaCode, message: e.message } };
          throw e;
        }
      };
      const wid = (w) => (w ? (w._serialized || String(w)) : '');
      const registration = () => Object.assign({},
        mod('WAWebCompanionRegClientUtils'), mod('WAWebAdvSignatureApi'),
        mod('WAWebUserPrefsInfoStore'), mod('WAWebSignalStoreApi'));
      const qrString = async (ref) => {
        const reg = registration();
        const b64 = mod('WABase64');
        const info = await reg.waSignalStore.getRegistrationInfo();
        const noise = await reg.waNoiseInfo.get();
        const adv = await reg.getADVSecretKey();
        return [ref, b64.encodeB64(noise.staticKeyPair.pubKey), b64.encodeB64(info.identityKeyPair.pubKey),
          adv, reg.DEVICE_PLATFORM].join(',');
      };
      const serializeMessage = (msg) => ({
        id: wid(msg.id), chatId: wid(msg.id && msg.id.remote), from: wid(msg.from), to: wid(msg.to),
        body: msg.body || '', type: msg.type || 'chat', timestamp: msg.t || 0, fromMe: !!(msg.id && msg.id.fromMe),
      });
      const hook = () => {
        const Socket = mod('WAWebSocketModel').Socket;
        const Conn = mod('WAWebConnModel').Conn;
        const Msg = mod('WAWebCollections').Msg;
        emit('loaded', { version: String(window.Debug.VERSION) });
        let qrShown = false;
        let readySent = false;
        const showQR = async () => {
          if (!Conn.ref) return;
          try { emit('qr', { qr: await qrString(Conn.ref) }); } catch (e) { emit('error', { message: String(e) }); }
        };
        const onState = (state) => {
          emit('state', { state });
          if ((state === 'UNPAIRED' || state === 'UNPAIRED_IDLE') && !qrShown) { qrShown = true; showQR(); }
          if (state === 'UNPAIRED_IDLE') { try { mod('WAWebCmd').Cmd.refreshQR(); } catch (e) {} }
        };
        const onSynced = () => {
          if (readySent) return;
          readySent = true;
          const me = mod('WAWebUserPrefsMeUser').getMaybeMePnUser();
          const conn = Conn.serialize ? Conn.serialize() : {};
          emit('ready', { me: wid(me), pushName: conn.pushname || null });
        };
        Socket.on('change:state', (_, state) => onState(state));
        Socket.on('change:hasSynced', (_, synced) => { if (synced) onSynced(); });
        Conn.on('change:ref', () => { if (qrShown && !readySent) showQR(); });
        Msg.on('add', (msg) => { if (msg.isNewMsg) emit('message', serializeMessage(msg)); });
        Msg.on('change:ack', (msg, ack) => emit('message_ack', { id: wid(msg.id), chatId: wid(msg.id && msg.id.remote), ack }));
        onState(Socket.state);
        if (Socket.hasSynced) onSynced();
      };
    \#(sendCommands)
      const start = () => {
        if (window.Debug && window.Debug.VERSION && typeof window.require === 'function') {
          try { hook(); } catch (e) { emit('error', { message: String((e && e.stack) || e) }); }
        } else {
          setTimeout(start, 100);
        }
      };
      start();
    })();
    """#
}
