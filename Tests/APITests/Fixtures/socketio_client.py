"""A python-socketio client driven over stdin/stdout, for the real-time channel tests.

Usage: socketio_client.py URL [--key KEY] [--header-key KEY] [--transport websocket|default]

Connects to the /events namespace (the key in the CONNECT auth, or as an x-api-key header),
then prints one JSON line per thing that happens:
  {"kind":"connected"}, {"kind":"message","data":...}, {"kind":"ack","data":...},
  {"kind":"connect_error","data":...}, {"kind":"disconnected"}.
Each stdin line is a JSON object emitted as a `message` event, with an ack callback;
`{"cmd":"disconnect"}` or end of input disconnects.
"""
import argparse
import json
import sys
import threading

import socketio

lock = threading.Lock()


def report(kind, data=None):
    line = {"kind": kind}
    if data is not None:
        line["data"] = data
    with lock:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--key")
    parser.add_argument("--header-key")
    parser.add_argument("--transport", default="websocket")
    args = parser.parse_args()

    client = socketio.Client(reconnection=False)
    gone = threading.Event()

    @client.on("connect", namespace="/events")
    def on_connect():
        report("connected")

    @client.on("connect_error", namespace="/events")
    def on_connect_error(data):
        report("connect_error", data)

    @client.on("disconnect", namespace="/events")
    def on_disconnect(*_):
        report("disconnected")
        gone.set()

    @client.on("message", namespace="/events")
    def on_message(data):
        report("message", data)

    transports = ["websocket"] if args.transport == "websocket" else None
    headers = {"x-api-key": args.header_key} if args.header_key else {}
    auth = {"apiKey": args.key} if args.key else None
    try:
        client.connect(args.url, namespaces=["/events"], transports=transports, headers=headers, auth=auth,
                       wait_timeout=5)
    except socketio.exceptions.ConnectionError as error:
        report("connect_error", str(error))
        return

    for line in sys.stdin:
        if gone.is_set():
            break
        request = json.loads(line)
        if request.get("cmd") == "disconnect":
            break
        client.emit("message", request, namespace="/events", callback=lambda data: report("ack", data))
    if not gone.is_set():
        client.disconnect()
    gone.wait(5)


if __name__ == "__main__":
    main()
