extension BrowserBridgeScript {
    /// The send commands of the bridge, spliced into `source` (they use its `mod`, `wid`,
    /// `bridge` and `refusal`). They follow WhatsApp Web's own send path: the chat model, a new
    /// message key, the message fields, then `addAndSendMsgToChat`. Media is prepared and uploaded
    /// by WA Web's media modules before the message is added.
    ///
    /// Media bytes reach the page in pieces (`bridge.stage(token, base64)`), so no DevTools
    /// message carries megabytes and the gateway never serialises a whole file at once; `send`
    /// assembles them into a `File` and drops them whatever the outcome.
    ///
    /// The request: `{chatId, kind: 'text'|'media'|'location'|'contact', text?, media? {kind,
    /// token, mimetype, filename?, caption?}, location? {latitude, longitude, description?,
    /// address?}, contact? {name, vcard}, quotedMessageId?, mentions}`.
    static let sendCommands = #"""
      const staged = new Map();
      bridge.stage = (token, chunk) => {
        const chunks = staged.get(token) || [];
        chunks.push(chunk);
        staged.set(token, chunks);
        return chunks.length;
      };
      bridge.unstage = (token) => staged.delete(token);
      const decodeBase64 = (text) => {
        const binary = atob(text);
        const bytes = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
        return bytes;
      };
      const stagedFile = (media) => {
        const chunks = staged.get(media.token);
        staged.delete(media.token);
        if (!chunks) throw new Error('the media bytes were not staged');
        return new File(chunks.map(decodeBase64), media.filename || 'file', { type: media.mimetype });
      };
      const chatFor = async (chatId) => {
        const chatWid = mod('WAWebWidFactory').createWid(chatId);
        let chat = mod('WAWebCollections').Chat.get(chatWid);
        if (!chat) {
          const found = await mod('WAWebFindChatAction').findOrCreateLatestChat(chatWid);
          chat = found && found.chat;
        }
        if (!chat) throw refusal('notFound', 'Chat ' + chatId + ' not found');
        return chat;
      };
      // A message of another chat is refused, never quoted or reacted to across chats.
      const messageIn = async (chatId, messageId) => {
        const Msg = mod('WAWebCollections').Msg;
        let msg = Msg.get(messageId);
        if (!msg && Msg.getMessagesById) {
          const found = await Msg.getMessagesById([messageId]);
          msg = found && found.messages && found.messages[0];
        }
        if (!msg || wid(msg.id && msg.id.remote) !== chatId) {
          throw refusal('notFound', 'Message ' + messageId + ' not found in chat ' + chatId);
        }
        return msg;
      };
      const quoteFields = async (chat, messageId) => {
        const quoted = await messageIn(wid(chat.id), messageId);
        if (!mod('WAWebMsgReply').canReplyMsg(quoted.unsafe ? quoted.unsafe() : quoted)) {
          throw refusal('invalid', 'Message ' + messageId + ' cannot be replied to');
        }
        return quoted.msgContextInfo(chat);
      };
      // WA Web classifies media by mimetype; these kinds override its choice.
      const forcedType = { document: 'document', voice: 'ptt', sticker: 'sticker' };
      const mediaFields = async (media) => {
        const OpaqueData = mod('WAWebMediaOpaqueData');
        const file = stagedFile(media);
        const opaque = await OpaqueData.createFromData(file, file.type);
        const prepared = await mod('WAWebPrepRawMedia').prepRawMedia(opaque, {
          asDocument: media.kind === 'document', asSticker: media.kind === 'sticker', isPtt: media.kind === 'voice',
        }).waitForPrep();
        if (forcedType[media.kind]) prepared.type = forcedType[media.kind];
        const mediaObject = mod('WAWebMediaStorage').getOrCreateMediaObject(prepared.filehash);
        const waveform = mediaObject.contentInfo && mediaObject.contentInfo.waveform;
        if (media.kind === 'voice' && waveform) prepared.waveform = waveform;
        const mediaType = mod('WAWebMmsMediaTypes').msgToMediaType({ type: prepared.type, isGif: prepared.isGif });
        if (!(prepared.mediaBlob instanceof OpaqueData)) {
          prepared.mediaBlob = await OpaqueData.createFromData(prepared.mediaBlob, prepared.mediaBlob.type);
        }
        prepared.renderableUrl = prepared.mediaBlob.url();
        mediaObject.consolidate(prepared.toJSON());
        prepared.mediaBlob.autorelease();
        const upload = await mod('WAWebMediaMmsV4Upload').uploadMedia({ mimetype: prepared.mimetype, mediaObject, mediaType });
        const entry = upload && upload.mediaEntry;
        if (!entry) throw new Error('WhatsApp Web did not upload the media');
        prepared.set({
          clientUrl: entry.mmsUrl, deprecatedMms3Url: entry.deprecatedMms3Url, directPath: entry.directPath,
          mediaKey: entry.mediaKey, mediaKeyTimestamp: entry.mediaKeyTimestamp, filehash: mediaObject.filehash,
          encFilehash: entry.encFilehash, uploadhash: entry.uploadHash, size: mediaObject.size,
          streamingSidecar: entry.sidecar, firstFrameSidecar: entry.firstFrameSidecar,
        });
        const fields = Object.assign({}, prepared, prepared.toJSON());
        // The body of a media message is its preview; audio and stickers carry no caption.
        fields.body = media.kind === 'sticker' ? undefined : prepared.preview;
        const captioned = media.kind === 'image' || media.kind === 'video' || media.kind === 'document';
        if (captioned && media.caption) fields.caption = media.caption;
        if (media.kind === 'document') fields.filename = media.filename || 'file';
        return fields;
      };
      const contentFields = async (request) => {
        switch (request.kind) {
          case 'text':
            return { type: 'chat', body: request.text };
          case 'media':
            return mediaFields(request.media);
          case 'location': {
            const place = request.location;
            const label = [place.description, place.address].filter(Boolean).join('\n');
            return { type: 'location', body: '', lat: place.latitude, lng: place.longitude, loc: label || undefined };
          }
          case 'contact':
            return { type: 'vcard', body: request.contact.vcard, vcardFormattedName: request.contact.name };
          default:
            throw new Error('unknown content kind ' + request.kind);
        }
      };
      bridge.commands.send = async (request) => {
        try {
          const chat = await chatFor(request.chatId);
          // The quote is resolved before any upload: a bad id costs no media traffic.
          const quote = request.quotedMessageId ? await quoteFields(chat, request.quotedMessageId) : {};
          const content = await contentFields(request);
          const Wids = mod('WAWebWidFactory');
          const mentions = (request.mentions || []).map((m) => Wids.createWid(m));
          const me = mod('WAWebUserPrefsMeUser').getMaybeMePnUser();
          const MsgKey = mod('WAWebMsgKey');
          const key = new MsgKey({
            from: me, to: chat.id, id: await MsgKey.newId(), participant: chat.id.server === 'g.us' ? me : undefined, selfDir: 'out',
          });
          const t = Math.floor(Date.now() / 1000);
          const message = Object.assign(
            { id: key, ack: 0, from: me, to: chat.id, local: true, self: 'out', t, isNewMsg: true },
            mod('WAWebGetEphemeralFieldsMsgActionsUtils').getEphemeralFields(chat),
            content, quote, mentions.length ? { mentionedJidList: mentions } : {});
          const [added] = mod('WAWebSendMsgChatAction').addAndSendMsgToChat(chat, message);
          await added;
          return { id: key._serialized, timestamp: t };
        } finally {
          if (request.media) staged.delete(request.media.token);
        }
      };
      bridge.commands.react = async (chatId, messageId, emoji) => {
        const msg = await messageIn(chatId, messageId);
        await mod('WAWebSendReactionMsgAction').sendReactionToMsg(msg, emoji);
        return { id: wid(msg.id), timestamp: Math.floor(Date.now() / 1000) };
      };
    """#
}
