#!/usr/bin/env python3
"""Replication throughput to a local moto_server S3 tier, as a ratio to moto's own PUT
throughput measured in the same run with the same object sizes and concurrency.

Depot ingests the objects first with the tier's time window closed, then a SIGHUP reload opens the
window: the clock runs from the reload to the last object landing on the tier, so the figure is
replication alone (reading segments, signing, sending, verifying), not ingest.

Usage: Benchmarks/replication_throughput.py [--objects 24] [--size-mib 8] [--concurrency 4]
Needs a release build (`swift build -c release --product depot`). Writes REPLICATION-RESULTS.md.
"""
import argparse
import concurrent.futures
import datetime
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
os.environ.setdefault("DEPOT_BIN", os.path.join(REPO, ".build", "release", "depot"))

from backends import Moto  # noqa: E402
from conftest import DepotServer  # noqa: E402


def window_config(path, endpoint, window, concurrency):
    with open(path, "w") as f:
        f.write(f"""
buckets: [rec]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{endpoint}", bucket: archive, prefix: depot/, accessKey: tier-key,
       secretKey: tier-secret, concurrency: {concurrency}, window: "{window}" }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [cloud] }} }}
""")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count(client, prefix):
    n = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="archive", Prefix=prefix):
        n += page.get("KeyCount", 0)
    return n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=24)
    parser.add_argument("--size-mib", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    size = args.size_mib << 20
    payloads = [os.urandom(size) for _ in range(args.objects)]
    total_mb = args.objects * size / 1e6
    moto = Moto()
    workdir = tempfile.mkdtemp(prefix="depot-repl-bench-")
    server = None
    try:
        # The peer: moto's own PUT throughput, same sizes, same concurrency.
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(lambda i: moto.client.put_object(Bucket="archive", Key=f"peer/{i}", Body=payloads[i]),
                          range(args.objects)))
        moto_seconds = time.perf_counter() - started
        moto_rate = total_mb / moto_seconds

        config = os.path.join(workdir, "depot.yaml")
        hour = (time.gmtime().tm_hour + 2) % 24
        window_config(config, moto.endpoint, f"{hour:02d}:00-{(hour + 1) % 24:02d}:00", args.concurrency)
        server = DepotServer(data_dir=os.path.join(workdir, "data"), config=config).start()
        s3 = server.client()
        for i, data in enumerate(payloads):
            s3.put_object(Bucket="rec", Key=f"clip-{i}.mp4", Body=data)
        assert count(moto.client, "depot/") == 0, "the closed window let copies through"
        window_config(config, moto.endpoint, "00:00-24:00", args.concurrency)
        started = time.perf_counter()
        cpu_before = cpu_seconds(server.pid), cpu_seconds(moto.process.pid)
        server.process.send_signal(signal.SIGHUP)
        while count(moto.client, "depot/") < args.objects:
            time.sleep(0.05)
        depot_seconds = time.perf_counter() - started
        depot_cpu = cpu_seconds(server.pid) - cpu_before[0]
        moto_cpu = cpu_seconds(moto.process.pid) - cpu_before[1]
        depot_rate = total_mb / depot_seconds
        for i in (0, args.objects - 1):
            assert moto.client.get_object(Bucket="archive", Key=f"depot/clip-{i}.mp4")["Body"].read() == payloads[i]
    finally:
        if server:
            server.cleanup()
        moto.stop()

    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0]
    report = f"""# Replication throughput to a local moto_server tier

Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} on {platform.node()} ({os.cpu_count()} cores,
load average {load:.2f} at the end), commit {commit}, by `Benchmarks/replication_throughput.py`.
{args.objects} objects of {args.size_mib} MiB, concurrency {args.concurrency} for both.

| Figure | MB/s | Ratio to moto's own PUT |
|---|---:|---:|
| moto_server PUT (boto3, {args.concurrency} threads): the peer and the limit | {moto_rate:.0f} | 1.00 |
| Depot replication to moto (reload opens the window → last object on the tier) | {depot_rate:.0f} | {depot_rate / moto_rate:.2f} |

During replication Depot used {depot_cpu:.1f} s of CPU and moto {moto_cpu:.1f} s, over {depot_seconds:.1f} s of
wall time ({depot_cpu / depot_seconds:.0%} and {moto_cpu / depot_seconds:.0%} of one core).

moto is a single Python process: it, not Depot, is the bottleneck of both figures, and the ratio
says how much of the tier's own speed replication gets (Depot reads from its segments, signs with
SigV4, sends Content-MD5 and checks the returned ETag). Client, Depot and moto share 2 cores.
"""
    with open(os.path.join(HERE, "REPLICATION-RESULTS.md"), "w") as f:
        f.write(report)
    print(report)


if __name__ == "__main__":
    main()
