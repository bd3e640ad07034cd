#!/usr/bin/env python3
"""A python-axolotl peer ("Bob") for cross-checking our Signal implementation.

Driven by SignalAxolotlTests over stdin/stdout: one JSON object per line in, one per line out.
Bytes travel as lowercase hex. Every reply has "ok": true or "ok": false with "error".

Commands:
  {"cmd": "hello"}                               -> {"ok": true}   (import check)
  {"cmd": "bundle"}                              -> Bob's prekey bundle (raw 32-byte keys)
  {"cmd": "decrypt", "type": "pkmsg"|"msg", "data", "from": name, "device": n}  -> {"plaintext"}
  {"cmd": "encrypt", "plaintext", "to": name, "device": n}                       -> {"type", "data"}
  {"cmd": "group_process", "group", "sender", "device", "data"}   process a sender-key distribution
  {"cmd": "group_decrypt", "group", "sender", "device", "data"}   -> {"plaintext"}
  {"cmd": "group_create", "group"}               -> {"data"}  Bob's own distribution message
  {"cmd": "group_encrypt", "group", "plaintext"} -> {"data"}  an skmsg from Bob
"""
import json
import os
import sys

# python-axolotl ships protobuf code generated for protobuf 3.x; the pure-Python runtime of newer
# protobuf releases still accepts it, the C++ one does not.
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

IMPORT_ERROR = None
try:
    from axolotl.axolotladdress import AxolotlAddress
    from axolotl.groups.groupcipher import GroupCipher
    from axolotl.groups.groupsessionbuilder import GroupSessionBuilder
    from axolotl.groups.senderkeyname import SenderKeyName
    from axolotl.groups.state.senderkeyrecord import SenderKeyRecord
    from axolotl.protocol.ciphertextmessage import CiphertextMessage
    from axolotl.protocol.prekeywhispermessage import PreKeyWhisperMessage
    from axolotl.protocol.senderkeydistributionmessage import SenderKeyDistributionMessage
    from axolotl.protocol.whispermessage import WhisperMessage
    from axolotl.sessioncipher import SessionCipher
    from axolotl.tests.inmemoryaxolotlstore import InMemoryAxolotlStore
    from axolotl.util.keyhelper import KeyHelper
except Exception as error:
    # Answer every request with the import error (instead of exiting, which would break the test's
    # pipe); the Swift test turns it into "run pip install python-axolotl".
    IMPORT_ERROR = "import failed: %r" % (error,)
    for _ in sys.stdin:
        print(json.dumps({"ok": False, "error": IMPORT_ERROR}), flush=True)
    sys.exit(3)

BOB_NAME = "bob"
BOB_DEVICE = 1
SIGNED_PRE_KEY_ID = 1
PRE_KEY_ID = 7


class SenderKeyStore:
    """In-memory sender keys, kept serialized like a real store would."""

    def __init__(self):
        self.records = {}

    def loadSenderKey(self, name):
        serialized = self.records.get(name.serialize())
        return SenderKeyRecord(serialized=serialized) if serialized else SenderKeyRecord()

    def storeSenderKey(self, name, record):
        self.records[name.serialize()] = record.serialize()


store = InMemoryAxolotlStore()
sender_keys = SenderKeyStore()
signed_pre_key = KeyHelper.generateSignedPreKey(store.getIdentityKeyPair(), SIGNED_PRE_KEY_ID)
store.storeSignedPreKey(SIGNED_PRE_KEY_ID, signed_pre_key)
pre_key = KeyHelper.generatePreKeys(PRE_KEY_ID, 1)[0]
store.storePreKey(pre_key.getId(), pre_key)


def raw(public_key):
    return bytes(public_key.getPublicKey()).hex()


def cipher(name, device):
    return SessionCipher(store, store, store, store, name, device)


def handle(request):
    cmd = request["cmd"]
    if cmd == "hello":
        return {}
    if cmd == "bundle":
        return {
            "registration_id": store.getLocalRegistrationId(),
            "device_id": BOB_DEVICE,
            "pre_key_id": pre_key.getId(),
            "pre_key": raw(pre_key.getKeyPair().getPublicKey()),
            "signed_pre_key_id": SIGNED_PRE_KEY_ID,
            "signed_pre_key": raw(signed_pre_key.getKeyPair().getPublicKey()),
            "signature": bytes(signed_pre_key.getSignature()).hex(),
            "identity_key": raw(store.getIdentityKeyPair().getPublicKey().getPublicKey()),
        }
    if cmd == "decrypt":
        data = bytes.fromhex(request["data"])
        session = cipher(request["from"], request["device"])
        if request["type"] == "pkmsg":
            plaintext = session.decryptPkmsg(PreKeyWhisperMessage(serialized=data))
        else:
            plaintext = session.decryptMsg(WhisperMessage(serialized=data))
        return {"plaintext": bytes(plaintext).hex()}
    if cmd == "encrypt":
        message = cipher(request["to"], request["device"]).encrypt(bytes.fromhex(request["plaintext"]))
        kind = "pkmsg" if message.getType() == CiphertextMessage.PREKEY_TYPE else "msg"
        return {"type": kind, "data": bytes(message.serialize()).hex()}
    if cmd in ("group_process", "group_decrypt"):
        name = SenderKeyName(request["group"], AxolotlAddress(request["sender"], request["device"]))
        data = bytes.fromhex(request["data"])
        if cmd == "group_process":
            GroupSessionBuilder(sender_keys).process(name, SenderKeyDistributionMessage(serialized=data))
            return {}
        return {"plaintext": bytes(GroupCipher(sender_keys, name).decrypt(data)).hex()}
    if cmd in ("group_create", "group_encrypt"):
        name = SenderKeyName(request["group"], AxolotlAddress(BOB_NAME, BOB_DEVICE))
        if cmd == "group_create":
            return {"data": bytes(GroupSessionBuilder(sender_keys).create(name).serialize()).hex()}
        ciphertext = GroupCipher(sender_keys, name).encrypt(bytes.fromhex(request["plaintext"]))
        return {"data": bytes(ciphertext).hex()}
    raise ValueError("unknown command %r" % (cmd,))


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        reply = handle(json.loads(line))
        reply["ok"] = True
    except Exception as error:
        reply = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
    print(json.dumps(reply), flush=True)
