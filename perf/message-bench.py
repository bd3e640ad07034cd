#!/usr/bin/env python3
"""Message latency and throughput through the native engine against the simulator on this host.

Run by perf/message-bench.sh, which builds the release binary. Steps:
  1. `openwa sim` and `openwa serve` (SQLite) in their own processes; session "alice" linked to
     Alice's phone. Bob's phone is the remote party.
  2. Anchor: the harness's own round trip, GET /api/health/live at each rate (the floor the send
     figures include). Requests go out open-loop at fixed instants from one asyncio thread over
     persistent connections, so a slow answer never delays the next request.
  3. Receive: Bob's phone streams texts to Alice at RATE messages/s, paced by the simulator
     (POST /admin/phones/:p/messages/stream); each text carries the CLOCK_MONOTONIC instant its
     send began. Latency = that instant -> the gateway has committed the message and its event
     reaches a plain WebSocket client (/api/events/ws), read on the same clock.
  4. Send: POST send-text to Bob at RATE/s, open-loop as in 2; latency = the REST round trip,
     which ends after the server ack, and the simulated server acks only after Bob's phone has
     decrypted its copy.
  5. Throughput: SESSIONS linked sessions; Bob's phone sends to all of them round robin and every
     session sends to Bob (after one warm-up send each, which sets up the Signal sessions), as
     fast as WORKERS concurrent callers go, for SECONDS each way.
"""
import asyncio
import concurrent.futures
import gc
import importlib.util
import json
import os
import resource
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


async def read_response(reader):
    """Status and body of one HTTP/1.1 response with a Content-Length."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("the server closed the connection")
    status = int(line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def open_loop(port, rate, seconds, method, path, body=None, key=KEY, connections=32, instants=None):
    """`method path` at `rate` per second for `seconds`, each request sent at its own instant
    whatever the earlier ones are doing (open loop), from one asyncio thread. Returns latencies (ms)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (f"X-API-Key: {key}\r\n" if key else "")
    instants = [] if instants is None else instants  # (start, end) of each request, perf_counter seconds

    async def run():
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
        latencies = []

        async def one(index):
            payload = json.dumps(body(index)).encode() if body else b""
            request = head + (f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n" if body else "\r\n")
            reader, writer = idle.pop(0) if idle else await asyncio.open_connection("127.0.0.1", port)
            if reader.at_eof() or writer.is_closing():
                # The server closed it while it sat idle (keep-alive timeout): a fresh one.
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            began = time.perf_counter()
            writer.write(request.encode() + payload)
            status, answer = await read_response(reader)
            ended = time.perf_counter()
            latencies.append((ended - began) * 1000)
            instants.append((began, ended))
            assert status in (200, 201), (status, answer[:200])
            idle.append((reader, writer))

        total = int(rate * seconds)
        tasks = []
        started = time.perf_counter()
        while len(tasks) < total:
            due = min(total, int((time.perf_counter() - started) * rate) + 1)
            while len(tasks) < due:
                tasks.append(asyncio.create_task(one(len(tasks))))
            await asyncio.sleep(max(0.0, started + len(tasks) / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
        for _, writer in idle:
            writer.close()
        return latencies

    return asyncio.run(run())


class EventListener:
    """The plain WebSocket event stream. Each frame is stamped (CLOCK_MONOTONIC ns) the moment its
    bytes are read from the socket and kept raw; JSON is parsed only when asked, so a burst of
    events is not stamped late behind the parsing of the ones before it (the harness would
    otherwise add its own queueing to the gateway's tail)."""

    def __init__(self, port):
        self.frames = []  # (arrival ns, payload bytes), appended by the reader thread only
        self.arrived = {}  # message id -> (arrival ns, body), filled by `parse`
        self.parsed = 0
        self.changed = threading.Condition()
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}/api/events/ws", header=[f"X-API-Key: {KEY}"], skip_utf8_validation=True)
        self.socket.send(json.dumps({"type": "subscribe", "sessionId": "*", "events": ["message.received"]}))
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        raw = self.socket.sock
        buffer = bytearray()
        fragments = bytearray()
        while True:
            try:
                chunk = raw.recv(1 << 16)
            except OSError:
                return
            now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            if not chunk:
                return
            buffer += chunk
            complete = []
            while len(buffer) >= 2:
                opcode, length, offset = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
                if length == 126:
                    if len(buffer) < 4:
                        break
                    length, offset = int.from_bytes(buffer[2:4], "big"), 4
                elif length == 127:
                    if len(buffer) < 10:
                        break
                    length, offset = int.from_bytes(buffer[2:10], "big"), 10
                if len(buffer) < offset + length:
                    break
                final, payload = buffer[0] & 0x80, bytes(buffer[offset:offset + length])
                del buffer[:offset + length]
                if opcode == 0x8:
                    return
                if opcode == 0x9:
                    self.socket.pong(payload)
                elif opcode in (0x0, 0x1, 0x2):
                    fragments += payload
                    if final:
                        complete.append((now, bytes(fragments)))
                        fragments.clear()
            if complete:
                with self.changed:
                    self.frames.extend(complete)
                    self.changed.notify_all()

    def parse(self):
        """Folds the frames read since the last call into `arrived`."""
        with self.changed:
            frames = self.frames[self.parsed:]
            self.parsed = len(self.frames)
        for now, frame in frames:
            event = json.loads(frame)
            if event.get("type") == "event":
                data = event["payload"]["data"]
                self.arrived[data["id"]] = (now, data.get("body", ""))
        return self.arrived

    def wait_for_frames(self, count, deadline):
        """Blocks (without polling) until `count` frames have arrived in all or `deadline` passes."""
        with self.changed:
            while len(self.frames) < count and time.time() < deadline:
                self.changed.wait(max(0.0, deadline - time.time()))
            return len(self.frames)

    def close(self):
        self.socket.close()


def receive_latency(admin, listener, rate, seconds, to="15550009001", sender="15550009000"):
    count = int(rate * seconds)
    prefix = f"BENCH{rate}R"
    frames_before = len(listener.frames)
    status, _ = density.request(admin, "POST", f"/admin/phones/{sender}/messages/stream",
                                {"to": to, "count": count, "perSecond": rate, "idPrefix": prefix}, key=None)
    assert status == 202, status
    ids = [f"{prefix}{index}" for index in range(count)]
    deadline = time.time() + seconds + 30
    # Frames other than these events (a subscription answer, say) may be counted too: look again
    # until every id is in or the deadline passes.
    wanted = frames_before + count
    while True:
        listener.wait_for_frames(wanted, deadline)
        arrived = listener.parse()
        if time.time() >= deadline or all(message_id in arrived for message_id in ids):
            break
        wanted = len(listener.frames) + 1
    latencies = []
    series = []
    for message_id in ids:
        if message_id in arrived:
            arrival, body = arrived[message_id]
            sent = int(body.rsplit("t=", 1)[1])
            latencies.append((arrival - sent) / 1e6)
            series.append((sent, arrival))
    # MESSAGE_BENCH_SERIES=DIR keeps each message's send and arrival instants (ns, monotonic), to
    # tell steady queueing from periodic stalls.
    if os.environ.get("MESSAGE_BENCH_SERIES"):
        with open(os.path.join(os.environ["MESSAGE_BENCH_SERIES"], f"receive-{rate}.csv"), "w") as out:
            out.writelines(f"{sent},{arrived}\n" for sent, arrived in series)
    return summary(latencies, count, seconds)


def cpu_seconds(pid):
    """User plus system CPU time of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_switches(pid):
    """Voluntary plus involuntary context switches of every thread of a process so far. Each one
    is a thread handing work to another (or being pushed off a core): per message, a count of
    the hops a message makes between the reactor, the workers and the database lane."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as status:
                for line in status:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[-1])
        except FileNotFoundError:
            pass  # the thread ended between the listing and the read
    return total


def with_cpu(pids, seconds, phase, label):
    """`phase()`'s summary plus each process's CPU use during it, in % of one core over `seconds`,
    and the gateway's context switches per message. The phase's start goes to stderr, so a
    profiler can attach to the gateway for that phase."""
    print(f"phase {label} started", file=sys.stderr, flush=True)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    switches = context_switches(pids["gateway"])
    own = resource.getrusage(resource.RUSAGE_SELF)
    result = phase()
    for name, pid in pids.items():
        result[f"{name}_cpu_percent"] = round((cpu_seconds(pid) - before[name]) / seconds * 100, 1)
    # The harness shares the host's cores with the gateway and the simulator: its own share
    # shows how much of the machine was left to them.
    after = resource.getrusage(resource.RUSAGE_SELF)
    result["harness_cpu_percent"] = round((after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime) / seconds * 100, 1)
    # A thread that ended during the phase takes its count with it: no figure rather than a low one.
    switched = context_switches(pids["gateway"]) - switches
    if result["count"] and switched >= 0:
        result["gateway_switches_per_message"] = round(switched / result["count"], 1)
    return result


METRICS_TOKEN = "message-bench-metrics"


def send_buckets(port):
    """The gateway's own histogram of send-text requests (request read -> response handed to the
    socket): cumulative counts by upper bound in seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/api/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = connection.getresponse().read().decode()
    connection.close()
    buckets = {}
    for line in text.splitlines():
        if line.startswith("http_request_duration_seconds_bucket") and "send-text" in line:
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[bound] = buckets.get(bound, 0) + int(float(line.rsplit(" ", 1)[1]))
    return buckets


def send_latency(port, session, rate, seconds, to="15550009000"):
    before = send_buckets(port)
    instants = []
    latencies = open_loop(port, rate, seconds, "POST", f"/api/sessions/{session}/messages/send-text",
                          body=lambda index: {"chatId": f"{to}@c.us", "text": f"bench {index}"}, instants=instants)
    if os.environ.get("MESSAGE_BENCH_SERIES"):
        with open(os.path.join(os.environ["MESSAGE_BENCH_SERIES"], f"send-{rate}.csv"), "w") as out:
            out.writelines(f"{int(began * 1e9)},{int(ended * 1e9)}\n" for began, ended in sorted(instants))
    result = summary(latencies, int(rate * seconds), seconds)
    # Beside the harness's round trip, the share the gateway itself answered within 10 and 25 ms:
    # a tail that the gateway's own clock does not see is outside it (the harness, the network stack).
    after = send_buckets(port)
    total = after.get("+Inf", 0) - before.get("+Inf", 0)
    for bound in ("0.01", "0.025"):
        if total:
            share = (after.get(bound, 0) - before.get(bound, 0)) / total
            result[f"gateway_within_{int(float(bound) * 1000)}ms"] = round(share, 4)
    return result


def anchor(port, rate, seconds):
    return summary(open_loop(port, rate, seconds, "GET", "/api/health/live", key=None), int(rate * seconds), seconds)


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
                       "RATE_LIMIT_MEDIUM_LIMIT": "100000000", "RATE_LIMIT_LONG_LIMIT": "1000000000",
                       "METRICS_TOKEN": METRICS_TOKEN}
        gateway, port = density.start_gateway(environment, f"{work}/data")
        processes.append(gateway)
        density.request(admin, "POST", "/admin/phones", {"phone": "15550009000", "pushName": "Bob"}, key=None)
        alice = link_one(port, admin, "15550009001", "alice")
        listener = EventListener(port)
        time.sleep(1)
        pids = {"gateway": gateway.pid, "simulator": simulator.pid}
        for rate in rates:
            # The collector's full passes stall every thread of the harness for tens of ms once
            # the listener holds thousands of entries: they would show up as the gateway's tail.
            gc.collect()
            gc.disable()
            results["rates"][rate] = {
                "anchor_health_live": with_cpu(pids, seconds, lambda: anchor(port, rate, seconds), f"anchor {rate}"),
                "receive": with_cpu(pids, seconds, lambda: receive_latency(admin, listener, rate, seconds), f"receive {rate}"),
                "send": with_cpu(pids, seconds, lambda: send_latency(port, alice, rate, seconds), f"send {rate}"),
            }
            gc.enable()
            print(json.dumps({rate: results["rates"][rate]}), flush=True)
        if sessions > 0:
            began = time.time()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                ids = list(pool.map(lambda i: link_one(port, admin, f"1555001{i:04d}", f"load-{i}"), range(sessions)))
            print(f"linked {sessions} sessions in {time.time() - began:.0f} s", flush=True)
            before = len(listener.frames)
            received = flood(seconds, workers, lambda i: keep_alive(
                admin, "POST", "/admin/phones/15550009000/messages",
                {"to": f"1555001{i % sessions:04d}", "text": f"load {i}"}, key=None))
            committed = listener.wait_for_frames(before + received, time.time() + 60) - before
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
