#!/usr/bin/env python3
"""Whether this host's cores run at a steady speed: the same fixed piece of work, timed over and
over on each core at once, for SECONDS (default 20).

Latency tails measured on a shared virtual machine include the host's own slowdowns: a vCPU
that the hypervisor time-slices finely, or whose physical core is busy elsewhere, runs
everything on it slower for a while without the guest seeing stolen time. This separates those
from the gateway's: for each core it prints one character per 100 ms window, `.` when the
window's median unit of work took at most 1.25 times the best window's, `+` up to 1.6 times and
`#` beyond, then the share of slow windows. Run it alone (nothing else busy) or beside a
benchmark, which then shows whether its slow stretches line up with the host's.

Usage: perf/cpu-steadiness.py [seconds=20] [cores=all]
"""
import multiprocessing
import os
import sys
import time

WORK = 20_000  # iterations per unit: about 1 ms of Python on the development machine


def spin(core, seconds, results):
    os.sched_setaffinity(0, {core})
    units = []
    end = time.perf_counter() + seconds
    while True:
        began = time.perf_counter()
        total = 0
        for value in range(WORK):
            total += value * value
        ended = time.perf_counter()
        units.append((began, ended - began))
        if ended > end:
            break
    results[core] = units


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    cores = [int(c) for c in sys.argv[2].split(",")] if len(sys.argv) > 2 else sorted(os.sched_getaffinity(0))
    with multiprocessing.Manager() as manager:
        results = manager.dict()
        workers = [multiprocessing.Process(target=spin, args=(core, seconds, results)) for core in cores]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        results = dict(results)
    for core in cores:
        units = results[core]
        start = units[0][0]
        windows = {}
        for began, took in units:
            windows.setdefault(int((began - start) * 10), []).append(took)
        medians = [sorted(v)[len(v) // 2] for _, v in sorted(windows.items())]
        best = min(medians)
        line = "".join("." if m <= 1.25 * best else "+" if m <= 1.6 * best else "#" for m in medians)
        slow = sum(m > 1.25 * best for m in medians) / len(medians)
        print(f"core {core}: best unit {best * 1000:.2f} ms, slow windows {slow:.0%}")
        for offset in range(0, len(line), 100):
            print(f"  {offset / 10:5.0f}s {line[offset:offset + 100]}")


if __name__ == "__main__":
    main()
