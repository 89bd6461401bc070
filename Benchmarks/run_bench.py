#!/usr/bin/env python3
"""`make bench`: Depot's speed and memory against this machine's limits and a peer, in one run.

Measures, in this order and on this machine: the durable write limit (sequential 4 MiB writes
with fdatasync every 32 MiB on the data directory's file system, as Depot's committer does),
OpenSSL SHA-256 and MD5 on one core, loopback HTTP bandwidth to a server that discards bodies
(driven by the same load tool), moto_server (the peer) and Depot, with `depot-load`. Writes
Benchmarks/RESULTS.md. Expects release builds of depot and depot-load (the Makefile makes them).
"""
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
from backends import Moto, free_port, wait_for_port  # noqa: E402
import peers_report  # noqa: E402

DEPOT = os.path.join(REPO, ".build", "release", "depot")
LOAD = os.path.join(HERE, ".build", "release", "depot-load")
# The last run's raw figures (not committed), so that `run_bench.py --rewrite` can redo RESULTS.md.
RAW = os.path.join(HERE, ".build", "bench-results.json")
ROOT = ("bench-root", "bench-root-secret")
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
QUICK = os.environ.get("BENCH_QUICK") == "1"
SECONDS = 3 if QUICK else 5


def log(message):
    print(message, file=sys.stderr, flush=True)


def load(endpoint, op, size, concurrency, keys=ROOT, pid=None, count=None, seconds=SECONDS, bucket="bench"):
    args = [LOAD, "--endpoint", endpoint, "--access-key", keys[0], "--secret-key", keys[1], "--bucket", bucket,
            "--op", op, "--size", str(size), "--concurrency", str(concurrency), "--seconds", str(seconds)]
    if count:
        args += ["--count", str(count)]
    if pid:
        args += ["--server-pid", str(pid)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"depot-load {op} {size} c{concurrency} failed: {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"  {op:10} {human(size):>7} c{concurrency:<3} {result['megabytesPerSecond']:9.1f} MB/s "
        f"{result['operationsPerSecond']:9.1f} op/s  p50 {result['p50Milliseconds']:.1f} ms  errors {result['errors']}")
    return result


def human(size):
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor:
            return f"{size // factor} {unit}"
    return f"{size} B"


def durable_write_limit(directory, total=1 * GiB):
    path = os.path.join(directory, "fdatasync-probe")
    block = os.urandom(4 * MiB)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    started = time.perf_counter()
    written = 0
    while written < total:
        os.write(fd, block)
        written += len(block)
        if written % (32 * MiB) == 0:
            os.fdatasync(fd)
    os.fdatasync(fd)
    seconds = time.perf_counter() - started
    os.close(fd)
    os.unlink(path)
    return total / seconds / 1e6


def ingest_ceiling():
    """Depot's own per-byte PUT work on one core, no network or disk (`depot-load ingest-ceiling`)."""
    out = subprocess.run([LOAD, "ingest-ceiling", "--megabytes", "256"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def md5_ceiling():
    """The ETag's MD5 across concurrent streams: OpenSSL per thread against the multi-buffer service
    (`depot-load md5-ceiling`). None if the mode fails: the rest of the bench does not need it."""
    out = subprocess.run([LOAD, "md5-ceiling", "--megabytes", "64"], capture_output=True, text=True)
    if out.returncode != 0:
        log(f"  md5-ceiling failed: {out.stderr.strip()[-300:]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def openssl_speed(algorithm):
    out = subprocess.run(["openssl", "speed", "-bytes", str(MiB), "-seconds", "3", "-evp", algorithm],
                         capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith(algorithm))
    return float(line.split()[-1].rstrip("k")) * 1000 / 1e6


def loopback_limit():
    port = free_port()
    server = subprocess.Popen([LOAD, "discard-server", "--port", str(port)], stdout=subprocess.DEVNULL)
    wait_for_port(port)
    try:
        return load(f"http://127.0.0.1:{port}", "put", 32 * MiB, 8)["megabytesPerSecond"]
    finally:
        server.terminate()
        server.wait()


def start_depot(workdir):
    config = os.path.join(workdir, "depot.yaml")
    with open(config, "w") as f:
        f.write("""buckets: [bench]
accounts:
  - { name: agent, accessKey: AGENT, secretKey: agent-secret, allow: [{ bucket: bench, actions: [read, write] }],
      vault: { directory: "*", bucket: bench } }
storage: { gcIntervalSeconds: 0 }
""")
    port = free_port()
    env = dict(os.environ, DEPOT_ROOT_USER=ROOT[0], DEPOT_ROOT_PASSWORD=ROOT[1])
    process = subprocess.Popen([DEPOT, "serve", "--config", config, "--address", f"127.0.0.1:{port}",
                                "--data", os.path.join(workdir, "data")], env=env,
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "depot.log"), "wb"))
    wait_for_port(port)
    return process, f"http://127.0.0.1:{port}"


MATRIX = [(op, size, c) for size in (4 * KiB, 1 * MiB, 32 * MiB) for op in ("put", "get", "range") for c in (1, 8, 32)]
EXTRA = [("head", 4 * KiB, 32), ("delete", 4 * KiB, 32), ("list", 4 * KiB, 8)]
PEER = [("put", 4 * KiB, 32), ("get", 4 * KiB, 32), ("put", 1 * MiB, 8), ("get", 1 * MiB, 8),
        ("put", 32 * MiB, 8), ("get", 32 * MiB, 8), ("put", 32 * MiB, 1)]


def main():
    for binary in (DEPOT, LOAD):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: run `make bench`")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    workdir = tempfile.mkdtemp(prefix="depot-bench-", dir=os.environ.get("BENCH_DIR"))
    results = {"depot": {}, "peer": {}, "fresh": None}
    try:
        log("limits")
        # The durable write rate of this virtual disk swings run to run (seen: 315 to 2,084 MB/s in
        # consecutive 2 GiB probes): take the median of three here and probe again after Depot's runs.
        probes = sorted(durable_write_limit(workdir) for _ in range(3))
        limits = {"fdatasync": probes[1], "fdatasyncProbes": probes, "sha256": openssl_speed("sha256"),
                  "md5": openssl_speed("md5")}
        limits["loopback"] = loopback_limit()
        limits["ingest"] = ingest_ceiling()
        limits["md5Ceiling"] = md5_ceiling()
        log(f"  {limits}")

        log("peer: moto_server")
        moto = Moto()
        try:
            import boto3
            boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1", aws_access_key_id="k",
                         aws_secret_access_key="s").create_bucket(Bucket="bench")
            for op, size, c in PEER:
                results["peer"][(op, size, c)] = load(moto.endpoint, op, size, c, keys=("k", "s"),
                                                      count=64 if size >= 32 * MiB else None)
        finally:
            moto.stop()

        log("depot")
        process, endpoint = start_depot(workdir)
        try:
            for op, size, c in MATRIX + EXTRA:
                count = 200 if size >= 32 * MiB and op == "put" else 20_000 if op == "delete" else None
                results["depot"][(op, size, c)] = load(endpoint, op, size, c, pid=process.pid, count=count)
            results["depot"][("vault-post", MiB, 8)] = load(endpoint, "vault-post", MiB, 8, keys=("AGENT", "agent-secret"),
                                                            pid=process.pid)
            results["depot"][("tus", 32 * MiB, 4)] = load(endpoint, "tus", 32 * MiB, 4, keys=("AGENT", "agent-secret"),
                                                          pid=process.pid, count=64)
            results["depot"][("put", GiB, 1)] = load(endpoint, "put", GiB, 1, pid=process.pid, count=3, seconds=600)
            results["depot"][("get", GiB, 1)] = load(endpoint, "get", GiB, 1, pid=process.pid, count=3, seconds=600)
            big = 8 if QUICK else 32
            results["depot"][("put", GiB, big)] = load(endpoint, "put", GiB, big, pid=process.pid, count=big, seconds=1200)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        # The RSS target again on a server that has served nothing else: the figure above also
        # holds heap that glibc kept from the matrix's earlier workloads.
        log("depot, fresh server: 1 GiB uploads only")
        fresh_dir = os.path.join(workdir, "fresh")
        os.makedirs(fresh_dir)
        shutil.rmtree(os.path.join(workdir, "data"), ignore_errors=True)
        process, endpoint = start_depot(fresh_dir)
        try:
            results["fresh"] = load(endpoint, "put", GiB, big, pid=process.pid, count=big, seconds=1200)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        limits["fdatasyncAfter"] = durable_write_limit(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    raw = {"started": started.isoformat(), "loadBefore": load_before, "loadAfter": os.getloadavg(), "limits": limits,
           "results": {"fresh": results["fresh"],
                       **{side: [[list(key), r] for key, r in results[side].items()] for side in ("depot", "peer")}}}
    with open(RAW, "w") as f:
        json.dump(raw, f)
    write_results(started, load_before, raw["loadAfter"], limits, results)


def rewrite():
    """Writes RESULTS.md again from the last run's figures, e.g. after editing RESULTS-NOTES.md."""
    with open(RAW) as f:
        raw = json.load(f)
    results = {"fresh": raw["results"]["fresh"],
               **{side: {tuple(key): r for key, r in raw["results"][side]} for side in ("depot", "peer")}}
    write_results(datetime.datetime.fromisoformat(raw["started"]), raw["loadBefore"], raw["loadAfter"], raw["limits"],
                  results)


def md5_ceiling_rows(md5):
    """Limits rows for the ETag's MD5 of concurrent uploads (absent in runs before it existed)."""
    if not md5:
        return []
    return [f"| ETag MD5 of {row['streams']} concurrent stream(s), MB per CPU-second: the multi-buffer service "
            f"({md5['kernel']}); OpenSSL on one thread per stream does {row['openSSLMegabytesPerCPUSecond']:.0f} "
            f"| {row['multiBufferMegabytesPerCPUSecond']:.0f} |" for row in md5["rows"]]


def write_results(started, load_before, load_after, limits, results):
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    ceiling = 1 / (1 / limits["sha256"] + 1 / limits["md5"])
    ingest = limits["ingest"]
    lines = [
        "# Depot benchmark results", "",
        f"Measured {started:%Y-%m-%d %H:%M UTC} on {platform.node()}: {os.cpu_count()} cores ({cpu}), "
        f"commit {commit}, release builds, by `make bench` (`Benchmarks/run_bench.py`, load tool `depot-load`).",
        f"Load average at start {load_before[0]:.2f}, at end {load_after[0]:.2f}. Client, server and peer share the "
        "machine; every figure is compared with limits measured in the same run.", "",
        "## Limits (same run)", "",
        "| Limit | MB/s |", "|---|---:|",
        f"| Durable sequential write (4 MiB writes, fdatasync every 32 MiB), median of 3 before Depot's runs "
        f"({', '.join(f'{p:.0f}' for p in limits['fdatasyncProbes'])}) | {limits['fdatasync']:.0f} |",
        f"| The same, probed once after Depot's runs | {limits['fdatasyncAfter']:.0f} |",
        f"| OpenSSL SHA-256, one core | {limits['sha256']:.0f} |",
        f"| OpenSSL MD5, one core | {limits['md5']:.0f} |",
        f"| MD5 + SHA-256 of the same bytes on one core (the per-byte work of a PUT, before chunking) | {ceiling:.0f} |",
        f"| Loopback HTTP to a discarding server (32 MiB x 8, same client) | {limits['loopback']:.0f} |",
        f"| Depot's ingest thread on one core: FastCDC + SHA-256 of every chunk, from memory | {ingest['chunkingAndSHA256MegabytesPerSecond']:.0f} |",
        f"| Depot's ETag thread on one core: MD5 of every byte, from memory | {ingest['md5MegabytesPerSecond']:.0f} |",
        f"| CPU ceiling of one PUT stream (the slower of those two threads, which run side by side) | {ingest['oneStreamMegabytesPerSecond']:.0f} |",
        f"| CPU ceiling of many PUT streams on all {ingest['cores']} cores (both threads' work, no client, no kernel copies) | {ingest['allCoresMegabytesPerSecond']:.0f} |",
        *md5_ceiling_rows(limits.get("md5Ceiling")), "",
        "## Depot and the peer", "",
        "Ratios: PUT to the durable write limit, GET to loopback HTTP; `x CPU` is a PUT's figure over the CPU ceiling "
        "of PUT (one stream's at concurrency 1, all cores' above); `x peer` is Depot's figure over moto_server's "
        "for the same workload (MB/s, or op/s for 4 KiB).", "",
        "| Operation | Size | Conc. | MB/s | op/s | p50 ms | p99 ms | max ms | peak RSS MiB | ratio to limit | x CPU | x peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    # `make bench-peers` writes its own section (Depot beside RGW, Swift and moto): keep it as it is.
    kept = peers_report.kept_section()
    if kept:
        at = lines.index("## Depot and the peer")
        lines[at:at] = [kept, ""]
    for (op, size, c), r in results["depot"].items():
        limit = limits["fdatasync"] if op in ("put", "vault-post", "tus") else limits["loopback"] if op in ("get", "range") else None
        ratio = f"{r['megabytesPerSecond'] / limit:.2f}" if limit else ""
        cpu_limit = (ingest["oneStreamMegabytesPerSecond"] if c == 1 else ingest["allCoresMegabytesPerSecond"]) \
            if op in ("put", "vault-post", "tus") and size >= MiB else None
        cpu_ratio = f"{r['megabytesPerSecond'] / cpu_limit:.2f}" if cpu_limit else ""
        peer = results["peer"].get((op, size, c))
        metric = "operationsPerSecond" if size < MiB else "megabytesPerSecond"
        versus = f"{r[metric] / peer[metric]:.1f}" if peer and peer[metric] > 0 else ""
        lines.append(f"| {op} | {human(size)} | {c} | {r['megabytesPerSecond']:.0f} | {r['operationsPerSecond']:.0f} | "
                     f"{r['p50Milliseconds']:.1f} | {r['p99Milliseconds']:.1f} | {r['maxMilliseconds']:.0f} | "
                     f"{r['serverPeakRSSBytes'] / MiB:.0f} | {ratio} | {cpu_ratio} | {versus} |" + (f" errors: {r['errors']}" if r["errors"] else ""))
    lines += ["", "## moto_server (the peer), same tool", "",
              "| Operation | Size | Conc. | MB/s | op/s | p50 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for (op, size, c), r in results["peer"].items():
        lines.append(f"| {op} | {human(size)} | {c} | {r['megabytesPerSecond']:.0f} | {r['operationsPerSecond']:.0f} | "
                     f"{r['p50Milliseconds']:.1f} | {r['p99Milliseconds']:.1f} |")
    d = results["depot"]
    big = max(c for (op, size, c) in d if op == "put" and size == GiB)
    targets = [
        ("32 MiB x 8 PUT >= 80% of the durable write limit", d[("put", 32 * MiB, 8)]["megabytesPerSecond"] / limits["fdatasync"], 0.8, "x limit"),
        ("32 MiB x 8 GET >= 1.5 GB/s", d[("get", 32 * MiB, 8)]["megabytesPerSecond"] / 1000, 1.5, "GB/s"),
        ("one stream 1 GiB PUT >= 300 MB/s", d[("put", GiB, 1)]["megabytesPerSecond"], 300, "MB/s"),
        ("4 KiB c32 durable PUT >= 3,000/s", d[("put", 4 * KiB, 32)]["operationsPerSecond"], 3000, "op/s"),
        ("4 KiB c32 GET >= 10,000/s", d[("get", 4 * KiB, 32)]["operationsPerSecond"], 10000, "op/s"),
        (f"peak RSS <= 256 MiB during {big} concurrent 1 GiB uploads, after the whole matrix", d[("put", GiB, big)]["serverPeakRSSBytes"] / MiB, 256, "MiB"),
        (f"peak RSS <= 256 MiB during {big} concurrent 1 GiB uploads, fresh server ({results['fresh']['megabytesPerSecond']:.0f} MB/s)",
         results["fresh"]["serverPeakRSSBytes"] / MiB, 256, "MiB"),
    ]
    versus_peer = []
    for key, peer in results["peer"].items():
        metric = "operationsPerSecond" if key[1] < MiB else "megabytesPerSecond"
        if key in d and peer[metric] > 0:
            versus_peer.append(d[key][metric] / peer[metric])
    if versus_peer:
        targets.append(("every figure >= 2x the peer's (the lowest ratio)", min(versus_peer), 2, "x peer"))
    lines += ["", "## Targets", "", "| Target | Measured | Met |", "|---|---:|---|"]
    for name, value, goal, unit in targets:
        met = value <= goal if "RSS" in name else value >= goal
        lines.append(f"| {name} | {value:.2f} {unit} | {'yes' if met else 'no'} |")
    one_stream = d[("put", GiB, 1)]["megabytesPerSecond"]
    eight = d[("put", 32 * MiB, 8)]["megabytesPerSecond"]
    lines += ["", f"One-stream 1 GiB PUT runs at {one_stream:.0f} MB/s: {one_stream / ingest['oneStreamMegabytesPerSecond']:.0%} "
              f"of its CPU ceiling ({ingest['oneStreamMegabytesPerSecond']:.0f} MB/s, MD5 on one core; the ingest thread does "
              f"FastCDC + SHA-256 at {ingest['chunkingAndSHA256MegabytesPerSecond']:.0f} MB/s beside it) and "
              f"{one_stream / ceiling:.0%} of OpenSSL's MD5 + SHA-256 on one core ({ceiling:.0f} MB/s). "
              f"32 MiB x 8 PUT runs at {eight:.0f} MB/s: {eight / ingest['allCoresMegabytesPerSecond']:.0%} of what "
              f"{ingest['cores']} cores can chunk and hash ({ingest['allCoresMegabytesPerSecond']:.0f} MB/s) with the client "
              "and the kernel's copies left out, and the durable write limit above it is "
              f"{limits['fdatasync'] / ingest['allCoresMegabytesPerSecond']:.1f}x that CPU ceiling.", ""]
    # What the numbers mean and where the time goes: written by hand after profiling, kept beside
    # the script so that a new run keeps it.
    notes = os.path.join(HERE, "RESULTS-NOTES.md")
    if os.path.exists(notes):
        lines += [open(notes).read()]
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines))
    log("\n".join(lines))


if __name__ == "__main__":
    rewrite() if sys.argv[1:] == ["--rewrite"] else main()
