#!/usr/bin/env python3
"""Decrypts one captured `pkmsg` with python-axolotl, an implementation independent of ours.

Reads one JSON object on stdin: the receiving phone's Signal keys (as the simulator's admin
`GET /admin/phones/<phone>/signal` reports them, hex), the sender's name and device, and the
captured message (hex). Writes {"ok": true, "plaintext": hex} with the WhatsApp padding
(reference part 2, 1.10) still on, or {"ok": false, "error": ...}.
"""
import json
import os
import sys

# python-axolotl ships protobuf code generated for protobuf 3.x; the pure-Python runtime accepts it.
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")


def main():
    request = json.loads(sys.stdin.read())
    try:
        from axolotl.ecc.djbec import DjbECPrivateKey, DjbECPublicKey
        from axolotl.ecc.eckeypair import ECKeyPair
        from axolotl.identitykey import IdentityKey
        from axolotl.identitykeypair import IdentityKeyPair
        from axolotl.protocol.prekeywhispermessage import PreKeyWhisperMessage
        from axolotl.sessioncipher import SessionCipher
        from axolotl.state.prekeyrecord import PreKeyRecord
        from axolotl.state.signedprekeyrecord import SignedPreKeyRecord
        from axolotl.tests.inmemoryaxolotlstore import InMemoryAxolotlStore
    except Exception as error:
        return {"ok": False, "error": "python-axolotl is not importable: %r" % (error,)}

    keys = request["keys"]

    def pair(key):
        return ECKeyPair(DjbECPublicKey(bytes.fromhex(key["publicKey"])), DjbECPrivateKey(bytes.fromhex(key["privateKey"])))

    store = InMemoryAxolotlStore()
    identity = IdentityKeyPair(
        IdentityKey(DjbECPublicKey(bytes.fromhex(keys["identityPublicKey"]))),
        DjbECPrivateKey(bytes.fromhex(keys["identityPrivateKey"])))
    store.identityKeyStore.identityKeyPair = identity
    store.identityKeyStore.localRegistrationId = keys["registrationId"]
    signed = keys["signedPreKey"]
    store.storeSignedPreKey(
        signed["id"], SignedPreKeyRecord(signed["id"], 0, pair(signed), bytes.fromhex(keys["signedPreKeySignature"])))
    for key in keys["preKeys"]:
        store.storePreKey(key["id"], PreKeyRecord(key["id"], pair(key)))
    cipher = SessionCipher(store, store, store, store, request["sender"], request["device"])
    try:
        plaintext = cipher.decryptPkmsg(PreKeyWhisperMessage(serialized=bytes.fromhex(request["message"])), textMsg=False)
    except Exception as error:
        return {"ok": False, "error": "decryption failed: %r" % (error,)}
    return {"ok": True, "plaintext": bytes(plaintext).hex()}


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
