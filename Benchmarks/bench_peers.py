#!/usr/bin/env python3
"""`make bench-peers` (or `make bench PEERS=1`): Depot beside Ceph RGW, OpenStack Swift (s3api) and
moto_server, one server at a time, in one run, with the same load tool and the same workloads.

For every workload (4 KiB, 1 MiB, 32 MiB x PUT and GET, 8 streams, distinct bytes in every PUT):
throughput, p99, and the server's CPU seconds (user + system of all its processes, read from
/proc/PID/stat just before and after the timed part by `depot-load --cpu-pids`) per GiB moved.
Beside them, this machine's limits measured in the same run: the durable write probe, OpenSSL's
SHA-256 and MD5, and `dd iflag=direct` reads of the data directory's device (the GET limit).

Peers are installed when missing (apt-get; moto from PyPI) and run from a work folder outside
the repo (BENCH_DIR, default /tmp), stopped by PID at the end, also on error or Ctrl-C. A peer
that cannot start is reported as such; the run still finishes. The table replaces its own section
of Benchmarks/RESULTS.md (the rest of the file stays as `make bench` wrote it).

Environment: BENCH_PEER_SECONDS (phase length, default 20), BENCH_PEERS (servers and order,
default depot,rgw,swift,moto), DEPOT_BIN (default .build/release/depot), DEPOT_LOAD_BIN (default
Benchmarks/.build/release/depot-load), DEPOT_LABEL (Depot's column head; default the commit), BENCH_DIR.
`bench_peers.py --rewrite` redoes the section from the last run's figures.
"""
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_bench  # noqa: E402 - the main bench's limits, Depot start-up and load tool paths
from peer_process import PeerUnavailable, stop_on_signals  # noqa: E402
from peers import PEERS  # noqa: E402
from peers_report import write_section  # noqa: E402

KiB, MiB, GiB = run_bench.KiB, run_bench.MiB, run_bench.GiB
DEPOT = os.environ.get("DEPOT_BIN", run_bench.DEPOT)
LOAD = os.environ.get("DEPOT_LOAD_BIN", run_bench.LOAD)
RAW = os.path.join(HERE, ".build", "bench-peers.json")
SECONDS = float(os.environ.get("BENCH_PEER_SECONDS", "20"))
SERVERS = os.environ.get("BENCH_PEERS", "depot,rgw,swift,moto").split(",")
STREAMS = 8
WORKLOADS = [(op, size) for size in (4 * KiB, MiB, 32 * MiB) for op in ("put", "get")]
# moto keeps every object in RAM: cap what its PUT phases store (the rate stays a rate).
MOTO_PUT_COUNTS = {MiB: 2048, 32 * MiB: 96}
# Disk peers: cap 32 MiB PUTs at 8 GiB so that RGW's 40 GiB sparse OSD file never fills up.
PUT_COUNTS = {32 * MiB: 256}
# After the PUT phase of this size, a GET phase reads what it wrote from the disk (page cache dropped).
COLD_GET_SIZE = 32 * MiB
# The run's direct-read probe (DirectReadProbe), once main has made it.
PROBE = None
log = run_bench.log


def phase(endpoint, keys, op, size, cpu_pids, count=None, existing=None):
    """One timed workload through depot-load; the result dict, or {"failed": reason}. With
    `existing`, a GET reads each of the objects the PUT phase of that size wrote, once."""
    args = [LOAD, "--endpoint", endpoint, "--access-key", keys[0], "--secret-key", keys[1],
            "--bucket", "bench", "--op", op, "--size", str(size), "--concurrency", str(STREAMS),
            "--seconds", str(SECONDS), "--cpu-pids", ",".join(map(str, cpu_pids))]
    if count:
        args += ["--count", str(count)]
    if existing:
        args += ["--existing", str(existing), "--count", str(existing), "--prefix", f"load/put-{size}-{STREAMS}/"]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=SECONDS * 10 + 600)
    except subprocess.TimeoutExpired:
        return {"failed": "depot-load timed out"}
    if out.returncode != 0:
        return {"failed": out.stderr.strip().splitlines()[-1][-200:] if out.stderr.strip() else f"exit {out.returncode}"}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    cpu = result.get("serverCPUSeconds") or 0
    moved = result["bytes"] / GiB
    result["cpuSecondsPerGiB"] = cpu / moved if moved else None
    log(f"  {op:4} {run_bench.human(size):>7} x{STREAMS}: {result['megabytesPerSecond']:8.1f} MB/s "
        f"{result['operationsPerSecond']:8.1f} op/s  p99 {result['p99Milliseconds']:7.1f} ms  "
        f"CPU {cpu:6.1f} s ({result['cpuSecondsPerGiB'] or 0:.1f} s/GiB)  errors {result['errors']}")
    return result


def drop_page_cache():
    """Writes back and drops the page cache, so that the next reads come from the disk; the
    reason it could not, or None."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
    except OSError as error:
        return f"dropping the page cache needs root ({error.strerror})"
    return None


def run_workloads(name, endpoint, keys, cpu_pids):
    figures = {}
    for op, size in WORKLOADS:
        counts = MOTO_PUT_COUNTS if name == "moto" else PUT_COUNTS
        figures[f"{op} {size}"] = phase(endpoint, keys, op, size, cpu_pids, counts.get(size) if op == "put" else None)
        written = figures[f"{op} {size}"].get("operations")
        if op == "put" and size == COLD_GET_SIZE and written:
            # The GET phases below re-read 16 objects the page cache holds; this one reads every
            # object the PUT phase wrote, once, after dropping the cache: the disk-rate GET.
            problem = drop_page_cache()
            figures[f"get-cold {size}"] = {"failed": problem} if problem else phase(
                endpoint, keys, "get", size, cpu_pids, existing=written)
            if PROBE and not problem:
                figures[f"get-cold {size}"]["directRead"] = direct_read(PROBE.readings(3), PROBE.device)
    return figures


def depot_commit():
    """The commit measured, marked when the server's sources differ from it (a shared work tree)."""
    git = ["git", "-C", run_bench.REPO]
    commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    changed = subprocess.run(git + ["status", "--porcelain", "--", "Sources", "Package.swift"], capture_output=True,
                             text=True).stdout.strip()
    return commit + (" + uncommitted changes" if changed else "")


def bench_depot(workdir):
    run_bench.DEPOT = DEPOT
    process, endpoint = run_bench.start_depot(workdir)
    try:
        version = os.environ.get("DEPOT_LABEL") or depot_commit()
        return {"version": version, "figures": run_workloads("depot", endpoint, run_bench.ROOT, [process.pid])}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(os.path.join(workdir, "data"), ignore_errors=True)


def bench_peer(name, workdir):
    began = time.monotonic()
    peer = PEERS[name](workdir)
    try:
        with peer:
            log(f"  {name} {peer.version} up in {time.monotonic() - began:.0f} s at {peer.endpoint}")
            return {"version": peer.version, "figures": run_workloads(name, peer.endpoint, peer.keys, peer.pids())}
    except Exception as error:  # noqa: BLE001 - any failure to start is reported in the table, and the run goes on
        reason = str(error) if isinstance(error, PeerUnavailable) else f"{type(error).__name__}: {error}"
        log(f"  {name} unavailable: {reason}")
        return {"version": peer.version, "unavailable": reason[:300]}
    finally:
        shutil.rmtree(peer.workdir, ignore_errors=True)


def block_device(directory):
    """/dev/NAME of the block device holding `directory`, or None (overlay, tmpfs)."""
    st = os.stat(directory)
    try:
        with open(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}/uevent") as f:
            name = next(line.split("=", 1)[1].strip() for line in f if line.startswith("DEVNAME="))
    except (OSError, StopIteration):
        return None
    return f"/dev/{name}" if os.path.exists(f"/dev/{name}") else None


class DirectReadProbe:
    """Sequential read rate with `dd iflag=direct` (no page cache): of the data directory's device,
    or, where that cannot be opened (a container without raw device access), of a 1 GiB file
    written and synced in the data directory, kept for the whole run. One reading swung between
    1,235 and 2,009 MB/s within an hour here, so every figure is the median of several, and the
    cold GET phase gets readings of its own taken right after it."""

    def __init__(self, directory):
        self.source, self.total, self.file = block_device(directory), 2 * GiB, None
        self.device = self.source
        if not self.source or not dd_direct(self.source, 4 * MiB):
            self.file = self.source = os.path.join(directory, "direct-read-probe")
            self.total = GiB
            block = os.urandom(4 * MiB)
            with open(self.file, "wb") as f:
                for _ in range(GiB // len(block)):
                    f.write(block)
                os.fsync(f.fileno())
            self.device = "a 1 GiB file in the data directory" + (
                f" ({self.device} itself cannot be opened here)" if self.device else "")

    def readings(self, count):
        found = [dd_direct(self.source, self.total) for _ in range(count)]
        return [r for r in found if r]

    def close(self):
        if self.file:
            os.unlink(self.file)


def direct_read(readings, device):
    """The limit from several readings: their median, with the readings kept for the report."""
    return {"device": device, "megabytesPerSecond": statistics.median(readings) if readings else None,
            "readings": readings}


def dd_direct(source, total):
    """MB/s of `dd iflag=direct` reading `total` bytes of `source` in 4 MiB blocks; None if it fails."""
    started = time.perf_counter()
    out = subprocess.run(["dd", f"if={source}", "of=/dev/null", "bs=4M", f"count={total // (4 * MiB)}", "iflag=direct"],
                         capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        log(f"  dd iflag=direct of {source}: {out.stderr.strip()[-200:]}")
        return None
    copied = int(out.stderr.split(" bytes", 1)[0].split()[-1]) if " bytes" in out.stderr else total
    return copied / seconds / 1e6


def limits(workdir, probe):
    log("limits")
    found = {"fdatasync": run_bench.durable_write_limit(workdir), "sha256": run_bench.openssl_speed("sha256"),
             "md5": run_bench.openssl_speed("md5"), "directRead": direct_read(probe.readings(5), probe.device)}
    log(f"  {found}")
    return found


def main():
    for binary in (DEPOT, LOAD):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: run `make bench-peers`")
    unknown = [s for s in SERVERS if s != "depot" and s not in PEERS]
    if unknown:
        sys.exit(f"BENCH_PEERS: unknown server {', '.join(unknown)} (known: depot, {', '.join(PEERS)})")
    stop_on_signals()
    started = datetime.datetime.now(datetime.timezone.utc)
    raw = {"started": started.isoformat(), "seconds": SECONDS, "streams": STREAMS, "loadBefore": os.getloadavg(),
           "servers": {}}
    workdir = tempfile.mkdtemp(prefix="depot-peers-", dir=os.environ.get("BENCH_DIR"))
    global PROBE
    try:
        PROBE = DirectReadProbe(workdir)
        raw["limits"] = limits(workdir, PROBE)
        for name in SERVERS:
            log(name)
            raw["servers"][name] = bench_depot(workdir) if name == "depot" else bench_peer(name, workdir)
        raw["limits"]["fdatasyncAfter"] = run_bench.durable_write_limit(workdir)
        raw["limits"]["directReadAfter"] = direct_read(PROBE.readings(3), PROBE.device)
    finally:
        if PROBE:
            PROBE.close()
        shutil.rmtree(workdir, ignore_errors=True)
    raw["loadAfter"] = os.getloadavg()
    os.makedirs(os.path.dirname(RAW), exist_ok=True)
    with open(RAW, "w") as f:
        json.dump(raw, f, indent=1)
    log(write_section(raw))


if __name__ == "__main__":
    if sys.argv[1:] == ["--rewrite"]:
        with open(RAW) as f:
            log(write_section(json.load(f)))
    else:
        main()
