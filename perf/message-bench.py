#!/usr/bin/env python3
"""Message latency and throughput through the native engine against the simulator on this host.

Run by perf/message-bench.sh, which builds the release binary. Steps:
  1. `openwa sim` and `openwa serve` (SQLite) in their own processes; session "alice" linked to
     Alice's phone. Bob's phone is the remote party.
  2. Anchor: the harness's own round trip, GET /api/health/live at each rate (the floor every
     figure below includes).
  3. Receive: Bob's phone sends to Alice at RATE messages/s (simulator admin API); latency = the
     admin call is made -> the gateway has committed the message and its event reaches a plain
     WebSocket client (/api/events/ws).
  4. Send: POST send-text to Bob at RATE/s; latency = the REST round trip, which ends after the
     server ack, and the simulated server acks only after Bob's phone has decrypted its copy.
  5. Throughput: SESSIONS linked sessions; Bob's phone sends to all of them round robin and every
     session sends to Bob (after one warm-up send each, which sets up the Signal sessions), as
     fast as WORKERS concurrent callers go, for SECONDS each way.
"""
import concurrent.futures
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import http.client

import websocket

spec = importlib.util.spec_from_file_location("density", os.path.join(os.path.dirname(__file__), "density-bench.py"))
density = importlib.util.module_from_spec(spec)
spec.loader.exec_module(density)

KEY = density.KEY
local = threading.local()


def keep_alive(port, method, path, body=None, key=KEY):
    """One request on this thread's persistent connection to `port`."""
    connections = getattr(local, "connections", None)
    if connections is None:
        connections = local.connections = {}
    for attempt in range(2):
        connection = connections.get(port)
        if connection is None:
            connection = connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"X-API-Key": key} if key else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, (json.loads(data) if data else None)
        except (http.client.HTTPException, OSError):
            connection.close()
            connections.pop(port, None)
            if attempt == 1:
                raise


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def summary(latencies_ms, wanted, seconds):
    return {"count": len(latencies_ms), "of": wanted, "p50_ms": round(percentile(latencies_ms, 0.50), 2),
            "p99_ms": round(percentile(latencies_ms, 0.99), 2), "max_ms": round(max(latencies_ms or [float("nan")]), 2),
            "achieved_per_s": round(len(latencies_ms) / seconds, 1)}


def paced(rate, seconds, call, workers=64):
    """Calls `call(index)` at `rate` per second for `seconds`; returns its results."""
    total = int(rate * seconds)
    results = []
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        started = time.perf_counter()
        futures = []
        for index in range(total):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(call, index))
        for future in futures:
            results.append(future.result())
    return results


class EventListener:
    """The plain WebSocket event stream: when each message.received arrived, by message id."""

    def __init__(self, port):
        self.arrived = {}
        self.socket = websocket.create_connection(f"ws://127.0.0.1:{port}/api/events/ws", header=[f"X-API-Key: {KEY}"])
        self.socket.send(json.dumps({"type": "subscribe", "sessionId": "*", "events": ["message.received"]}))
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                frame = self.socket.recv()
            except Exception:
                return
            now = time.perf_counter()
            if not frame:
                return
            event = json.loads(frame)
            if event.get("type") == "event":
                self.arrived[event["payload"]["data"]["id"]] = now

    def close(self):
        self.socket.close()


def receive_latency(admin, listener, rate, seconds, to="15550009001", sender="15550009000"):
    sent = {}

    def call(index):
        message_id = f"BENCH{rate}R{index:07d}"
        sent[message_id] = time.perf_counter()
        status, _ = keep_alive(admin, "POST", f"/admin/phones/{sender}/messages",
                               {"to": to, "text": f"bench {index}", "id": message_id}, key=None)
        assert status == 201, status

    paced(rate, seconds, call)
    deadline = time.time() + 30
    while time.time() < deadline and not all(m in listener.arrived for m in sent):
        time.sleep(0.05)
    return summary([(listener.arrived[m] - t) * 1000 for m, t in sent.items() if m in listener.arrived], len(sent), seconds)


def send_latency(port, session, rate, seconds, to="15550009000"):
    def call(index):
        began = time.perf_counter()
        status, body = keep_alive(port, "POST", f"/api/sessions/{session}/messages/send-text",
                                  {"chatId": f"{to}@c.us", "text": f"bench {index}"})
        assert status == 201, (status, body)
        return (time.perf_counter() - began) * 1000

    return summary(paced(rate, seconds, call), int(rate * seconds), seconds)


def anchor(port, rate, seconds):
    def call(_):
        began = time.perf_counter()
        status, _ = keep_alive(port, "GET", "/api/health/live", key=None)
        assert status == 200
        return (time.perf_counter() - began) * 1000

    return summary(paced(rate, seconds, call), int(rate * seconds), seconds)


def flood(seconds, workers, call):
    """As many `call(index)` as `workers` threads manage in `seconds`; returns the count."""
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))
    lock = threading.Lock()

    def worker():
        done = 0
        while time.perf_counter() < stop:
            with lock:
                index = next(counter)
            call(index)
            done += 1
        return done

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(lambda _: worker(), range(workers)))


def main():
    rates = [int(r) for r in (sys.argv[1] if len(sys.argv) > 1 else "100,1000").split(",")]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    sessions = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    work = tempfile.mkdtemp(prefix="openwa-messages-")
    simulator = subprocess.Popen(
        [density.BINARY, "sim", "--port", "0", "--admin-port", "0", "--data-dir", f"{work}/sim", "--log-level", "error"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    processes = [simulator]
    results = {"rates": {}}
    try:
        web_socket = density.wait_for_line(simulator, r"WebSocket: (\S+)").group(1)
        admin = int(density.wait_for_line(simulator, r"admin API: http://127\.0\.0\.1:(\d+)/admin").group(1))
        ca_file = density.wait_for_line(simulator, r"CA:\s+(\S+)").group(1)
        root = density.wait_for_line(simulator, r"root key:\s+([0-9a-f]{64})").group(1)
        environment = {"API_MASTER_KEY": KEY, "WA_SERVER_URL": web_socket, "WA_CA_FILE": ca_file,
                       "WA_ROOT_PUBLIC_KEY": root, "RATE_LIMIT_SHORT_LIMIT": "100000000",
                       "RATE_LIMIT_MEDIUM_LIMIT": "100000000", "RATE_LIMIT_LONG_LIMIT": "1000000000"}
        gateway, port = density.start_gateway(environment, f"{work}/data")
        processes.append(gateway)
        density.request(admin, "POST", "/admin/phones", {"phone": "15550009000", "pushName": "Bob"}, key=None)
        alice = link_one(port, admin, "15550009001", "alice")
        listener = EventListener(port)
        time.sleep(1)
        for rate in rates:
            results["rates"][rate] = {
                "anchor_health_live": anchor(port, rate, seconds),
                "receive": receive_latency(admin, listener, rate, seconds),
                "send": send_latency(port, alice, rate, seconds),
            }
            print(json.dumps({rate: results["rates"][rate]}), flush=True)
        if sessions > 0:
            began = time.time()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                ids = list(pool.map(lambda i: link_one(port, admin, f"1555001{i:04d}", f"load-{i}"), range(sessions)))
            print(f"linked {sessions} sessions in {time.time() - began:.0f} s", flush=True)
            before = len(listener.arrived)
            received = flood(seconds, workers, lambda i: keep_alive(
                admin, "POST", "/admin/phones/15550009000/messages",
                {"to": f"1555001{i % sessions:04d}", "text": f"load {i}"}, key=None))
            deadline = time.time() + 60
            while time.time() < deadline and len(listener.arrived) - before < received:
                time.sleep(0.1)
            committed = len(listener.arrived) - before
            # Warm-up: every session's first send fetches device lists and bundles and starts
            # Signal sessions; the measurement is of steady sending.
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda session: keep_alive(
                    port, "POST", f"/api/sessions/{session}/messages/send-text",
                    {"chatId": "15550009000@c.us", "text": "warm-up"}), ids))
            sent = flood(seconds, workers, lambda i: keep_alive(
                port, "POST", f"/api/sessions/{ids[i % sessions]}/messages/send-text",
                {"chatId": "15550009000@c.us", "text": f"load {i}"}))
            results["throughput"] = {"sessions": sessions, "workers": workers, "seconds": seconds,
                                     "receive_committed_per_s": round(committed / seconds, 1),
                                     "send_acknowledged_per_s": round(sent / seconds, 1)}
        listener.close()
        print(json.dumps(results, indent=2))
    finally:
        density.stop_all(processes, work)


def link_one(port, admin, phone, name):
    """A phone and a session linked to it, ready and with its prekeys on the server."""
    status, _ = density.request(admin, "POST", "/admin/phones", {"phone": phone, "pushName": name}, key=None)
    assert status in (201, 409), status
    status, session = density.request(port, "POST", "/api/sessions", {"name": name})
    assert status == 201, (status, session)
    session_id = session["id"]
    density.request(port, "POST", f"/api/sessions/{session_id}/start")
    for _ in range(600):
        status, body = density.request(port, "GET", f"/api/sessions/{session_id}/qr?format=raw")
        if status == 200:
            break
        time.sleep(0.1)
    status, body = density.request(admin, "POST", f"/admin/phones/{phone}/scan", {"qr": body["qr"]}, key=None)
    assert status == 200, (status, body)
    for _ in range(600):
        _, phone_state = density.request(admin, "GET", f"/admin/phones/{phone}", key=None)
        companions = phone_state["companions"]
        if companions and companions[0]["preKeyCount"] > 0:
            return session_id
        time.sleep(0.1)
    raise RuntimeError(f"{phone} never uploaded prekeys")


if __name__ == "__main__":
    main()
