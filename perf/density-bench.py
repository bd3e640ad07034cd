#!/usr/bin/env python3
"""Session density: N linked sessions on one gateway against the simulator on this host.

Run by perf/density-bench.sh, which builds the release binary. Steps:
  1. `openwa sim` in its own process (its footprint is reported apart from the gateway's).
  2. `openwa serve` on SQLite; baseline RSS with no session.
  3. N phones on the simulator; N sessions created, started, and linked by QR scan through REST
     and the simulator's admin API, CONCURRENCY at a time.
  4. SIGTERM, then a new gateway on the same data with AUTO_START_SESSIONS=true: the time until
     all N are `ready` (stats/overview polled every 100 ms).
  5. IDLE seconds idle: gateway RSS per session ((RSS_N - RSS_0) / N), idle CPU (% of one core,
     from /proc/PID/stat), and the simulator's RSS.
"""
import concurrent.futures
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

BINARY = os.environ.get("OPENWA_BINARY", ".build/release/openwa")
KEY = "owa_k1_" + "ef" * 32
TICKS = os.sysconf("SC_CLK_TCK")


def request(port, method, path, body=None, key=KEY, timeout=60):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"X-API-Key": key} if key else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, (json.loads(data) if data else None)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def wait_for_line(process, pattern, seconds=60):
    deadline = time.time() + seconds
    lines = []
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    sys.exit(f"did not see {pattern!r}:\n{''.join(lines)}")


def start_gateway(environment, data_dir):
    # No typing simulation: the benchmarks measure the gateway, not OpenWA's deliberate pause.
    env = dict(os.environ, SIMULATE_TYPING="false", **environment, DATA_DIR=data_dir, PORT="0", LOG_LEVEL="error", NODE_ENV="test")
    process = subprocess.Popen([BINARY, "serve", "--env-file", "none"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    port = int(wait_for_line(process, r"listening on http://127\.0\.0\.1:(\d+)/api").group(1))
    return process, port


def link(gateway_port, admin_port, index):
    phone = f"1555{index:07d}"
    status, _ = request(admin_port, "POST", "/admin/phones", {"phone": phone, "pushName": f"P{index}"}, key=None)
    assert status == 201, status
    status, session = request(gateway_port, "POST", "/api/sessions", {"name": f"density-{index}"})
    assert status == 201, (status, session)
    session_id = session["id"]
    status, body = request(gateway_port, "POST", f"/api/sessions/{session_id}/start")
    assert status == 200, (status, body)
    for _ in range(600):
        status, body = request(gateway_port, "GET", f"/api/sessions/{session_id}/qr?format=raw")
        if status == 200:
            break
        time.sleep(0.1)
    else:
        raise RuntimeError(f"no QR for {session_id}: {body}")
    status, body = request(admin_port, "POST", f"/admin/phones/{phone}/scan", {"qr": body["qr"]}, key=None)
    assert status == 200, (status, body)


def stop_all(processes, work):
    """SIGTERM (then SIGKILL after 60 s) to every process, newest first, and remove `work`."""
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
    subprocess.run(["rm", "-rf", work])


def wait_ready(port, count, seconds):
    started = time.time()
    while time.time() - started < seconds:
        _, stats = request(port, "GET", "/api/sessions/stats/overview")
        if stats["ready"] >= count:
            return time.time() - started
        time.sleep(0.1)
    _, stats = request(port, "GET", "/api/sessions/stats/overview")
    sys.exit(f"only {stats['ready']} of {count} ready after {seconds} s: {stats['byStatus']}")


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    idle = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    work = tempfile.mkdtemp(prefix="openwa-density-")
    simulator = subprocess.Popen(
        [BINARY, "sim", "--port", "0", "--admin-port", "0", "--data-dir", f"{work}/sim", "--log-level", "error"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    processes = [simulator]
    try:
        web_socket = wait_for_line(simulator, r"WebSocket: (\S+)").group(1)
        admin_port = int(wait_for_line(simulator, r"admin API: http://127\.0\.0\.1:(\d+)/admin").group(1))
        ca_file = wait_for_line(simulator, r"CA:\s+(\S+)").group(1)
        root = wait_for_line(simulator, r"root key:\s+([0-9a-f]{64})").group(1)
        environment = {"API_MASTER_KEY": KEY, "WA_SERVER_URL": web_socket, "WA_CA_FILE": ca_file,
                       "WA_ROOT_PUBLIC_KEY": root, "AUTO_START_SESSIONS": "true", "SESSION_RESTORE_CONCURRENCY": "32",
                       "RATE_LIMIT_SHORT_LIMIT": "1000000", "RATE_LIMIT_MEDIUM_LIMIT": "1000000", "RATE_LIMIT_LONG_LIMIT": "100000000"}
        data_dir = f"{work}/data"

        gateway, port = start_gateway(environment, data_dir)
        processes.append(gateway)
        time.sleep(2)
        baseline = rss_kib(gateway.pid)
        began = time.time()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            for future in concurrent.futures.as_completed([pool.submit(link, port, admin_port, i) for i in range(count)]):
                future.result()
        linking = time.time() - began
        wait_ready(port, count, 600)
        print(f"linked {count} sessions in {linking:.1f} s ({count / linking:.0f}/s)", flush=True)
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(120)

        restarted_at = time.time()
        gateway, port = start_gateway(environment, data_dir)
        processes.append(gateway)
        boot = time.time() - restarted_at
        ready_after = boot + wait_ready(port, count, 600)
        print(f"restart: all {count} ready {ready_after:.1f} s after the process started", flush=True)

        time.sleep(idle / 2)  # settle: first keepalives, prekey checks, SQLite checkpoint
        cpu_before, wall_before = cpu_seconds(gateway.pid), time.time()
        time.sleep(idle / 2)
        idle_cpu = (cpu_seconds(gateway.pid) - cpu_before) / (time.time() - wall_before) * 100
        rss = rss_kib(gateway.pid)
        per_session = (rss - baseline) / count
        _, stats = request(port, "GET", "/api/sessions/stats/overview")
        assert stats["ready"] == count, stats
        print(json.dumps({
            "sessions": count, "gateway_rss_baseline_mib": round(baseline / 1024, 1),
            "gateway_rss_mib": round(rss / 1024, 1), "gateway_rss_per_idle_session_kib": round(per_session, 1),
            "gateway_idle_cpu_percent_of_one_core": round(idle_cpu, 2), "restart_to_all_ready_s": round(ready_after, 2),
            "link_rate_per_s": round(count / linking, 1), "simulator_rss_mib": round(rss_kib(simulator.pid) / 1024, 1),
        }, indent=2))
    finally:
        stop_all(processes, work)


if __name__ == "__main__":
    main()
