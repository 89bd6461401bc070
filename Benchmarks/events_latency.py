#!/usr/bin/env python3
"""Commit-to-delivery latency of events to a webhook sink on loopback (p50, p99), release build.

Each PUT is timed from the moment Depot acknowledged it (the commit is durable then) to the
moment the receiver in this script got its event; the target is p50 under 50 ms. Writes
Benchmarks/EVENTS-RESULTS.md.

Usage: Benchmarks/events_latency.py [--events 500]
"""
import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
os.environ.setdefault("DEPOT_BIN", os.path.join(REPO, ".build", "release", "depot"))

from conftest import DepotServer  # noqa: E402
from event_receiver import Receiver  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()
    arrived = {}
    receiver = Receiver().start()
    original = receiver.received

    class Recording(list):
        def append(self, item):
            path, headers, body = item
            key = urllib.parse.unquote_plus(__import__("json").loads(body)["Records"][0]["s3"]["object"]["key"])
            arrived[key] = time.perf_counter()
            super().append(item)

    receiver.received = Recording(original)
    workdir = tempfile.mkdtemp(prefix="depot-events-bench-")
    config = os.path.join(workdir, "depot.yaml")
    with open(config, "w") as f:
        f.write(f"""
buckets: [rec]
events:
  sinks:
    - {{ name: hook, type: webhook, url: "{receiver.url}/hook", secret: s3cret }}
""")
    server = DepotServer(data_dir=os.path.join(workdir, "data"), config=config).start()
    acknowledged = {}
    try:
        s3 = server.client()
        body = os.urandom(64 << 10)
        for i in range(args.events):
            key = f"cam/{i:05d}.mp4"
            s3.put_object(Bucket="rec", Key=key, Body=body)
            acknowledged[key] = time.perf_counter()
            time.sleep(0.01)  # one camera's pace, not a burst: the latency of each event alone
        deadline = time.time() + 60
        while len(arrived) < args.events and time.time() < deadline:
            time.sleep(0.05)
    finally:
        server.cleanup()
        receiver.stop()
    latencies = sorted((arrived[k] - acknowledged[k]) * 1000 for k in acknowledged if k in arrived)
    missing = args.events - len(latencies)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    report = f"""# Event delivery latency to a webhook on loopback

Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} on {platform.node()} ({os.cpu_count()} cores,
load average {os.getloadavg()[0]:.2f}), commit {commit}, release build, by `Benchmarks/events_latency.py`.
{args.events} PUTs of 64 KiB, one at a time; latency from Depot's 200 (the commit is durable) to the
receiver holding the signed event. Events lost: {missing}.

| Figure | ms | Target |
|---|---:|---:|
| p50 commit → delivery | {p50:.1f} | < 50 |
| p99 commit → delivery | {p99:.1f} | |
| max | {latencies[-1]:.1f} | |
| min | {latencies[0]:.1f} | |

A negative figure means the event reached the receiver before the client had read the 200: the
sink's task and the HTTP response race once the commit is durable.

The committer wakes the sink's task once the batch holding the event is durable, so delivery
waits for no poll: what remains is reading the outbox, formatting and signing, and the POST.
"""
    with open(os.path.join(HERE, "EVENTS-RESULTS.md"), "w") as f:
        f.write(report)
    print(report)


if __name__ == "__main__":
    main()
