#!/usr/bin/env python3
"""`make bench-cluster`: what cluster mode costs against embedded mode on this machine (issue 21),
and the figures that bound a cluster at scale.

One run, the same load tool (`depot-load`, distinct bytes in every PUT) and the same workloads:
1. embedded Depot (LMDB + local segments), as `make bench` starts it;
2. one cluster node: the index in a private PostgreSQL (initdb here, fsync ON: the durable figure)
   and the chunks in pack objects on moto_server (RAM-backed, so the store itself is not the
   bound; a real RGW/MinIO adds its own cost per pack).
For every workload: MB/s, op/s, p99, and CPU seconds per GiB moved of Depot alone and of Depot +
PostgreSQL + moto (read from /proc/PID/stat of each process tree before and after the phase).
Beside them, read from PostgreSQL's own counters (pg_stat_database) during each cluster phase:
index transactions committed and rows written per object, which is how much the committer's
batching saves; and from the store: pack objects written per GiB ingested.

The bounds on paper: `pgbench` against the same PostgreSQL with a script shaped like one commit
batch of the index (n upserts of k/v rows into one table per transaction) gives commits/s and
rows/s at batch sizes 1, 16 and 64; objects/s of a whole cluster is at most rows/s divided by rows
per object (measured above). Pack objects per GiB = 1 GiB / pack size (32 MiB: 32 PUTs), and a
cold read costs one ranged GET per cache block.

Environment: BENCH_CLUSTER_SECONDS (phase length, default 10), DEPOT_BIN, DEPOT_LOAD_BIN, BENCH_DIR.
Writes the section "Cluster mode against embedded mode" of Benchmarks/RESULTS.md; raw figures in
Benchmarks/.build/bench-cluster.json.
"""
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
import run_bench  # noqa: E402 - load tool path, Depot start-up, limits
from cluster_support import PG_DATABASE, PG_USER, PostgresCluster  # noqa: E402
from peer_process import descendants  # noqa: E402

KiB, MiB, GiB = run_bench.KiB, run_bench.MiB, run_bench.GiB
DEPOT = os.environ.get("DEPOT_BIN", run_bench.DEPOT)
LOAD = os.environ.get("DEPOT_LOAD_BIN", run_bench.LOAD)
RAW = os.path.join(HERE, ".build", "bench-cluster.json")
RESULTS = os.path.join(HERE, "RESULTS.md")
SECONDS = float(os.environ.get("BENCH_CLUSTER_SECONDS", "10"))
# (op, size, streams, PUT count cap): moto keeps every pack in RAM, so large PUTs are capped.
WORKLOADS = [("put", 4 * KiB, 32, None), ("get", 4 * KiB, 32, None), ("put", MiB, 8, 1024), ("get", MiB, 8, None),
             ("put", 32 * MiB, 8, 64), ("get", 32 * MiB, 8, None)]
PACK_BYTES = 32 * MiB
log = run_bench.log


class DurablePostgres(PostgresCluster):
    """The tests' private PostgreSQL, but durable (fsync and synchronous commit on), as a
    production index would run."""

    def start(self):
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c shared_buffers=128MB "
                   "-c max_connections=60")
        self._run("pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "30", "-o", options, "start")

    def postmaster_pid(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def stats(self):
        # Durable index commits: PostgreSQL's WAL flushes (a commit that wrote waits for one;
        # commits that land together share one). pg_stat_database's xact_commit also counts every
        # statement run on its own, such as the index's one-row reads (IndexStore.readOne), and
        # transaction ids count each request's savepoint too.
        out = self.psql("SELECT (SELECT wal_sync FROM pg_stat_wal), "
                        "tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
                        f"WHERE datname = '{PG_DATABASE}'")
        commits, rows = out.split("|")
        return int(commits), int(rows)


def cpu_seconds(pids):
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return total


def phase(endpoint, op, size, streams, count, groups):
    """One timed workload; `groups` maps a name to a function giving that group's current PIDs."""
    args = [LOAD, "--endpoint", endpoint, "--access-key", run_bench.ROOT[0], "--secret-key", run_bench.ROOT[1],
            "--bucket", "bench", "--op", op, "--size", str(size), "--concurrency", str(streams),
            "--seconds", str(SECONDS)]
    if count and op == "put":
        args += ["--count", str(count)]
    pids = {name: pids() for name, pids in groups.items()}
    before = {name: cpu_seconds(p) for name, p in pids.items()}
    out = subprocess.run(args, capture_output=True, text=True, timeout=SECONDS * 10 + 600)
    after = {name: cpu_seconds(set(p) | set(groups[name]())) for name, p in pids.items()}
    if out.returncode != 0:
        return {"failed": (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1][-200:]}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    moved = result["bytes"] / GiB
    result["cpu"] = {name: after[name] - before[name] for name in pids}
    result["cpuPerGiB"] = {name: (cpu / moved if moved else None) for name, cpu in result["cpu"].items()}
    log(f"  {op:4} {run_bench.human(size):>7} x{streams:<2}: {result['megabytesPerSecond']:8.1f} MB/s "
        f"{result['operationsPerSecond']:8.1f} op/s  p99 {result['p99Milliseconds']:7.1f} ms  "
        f"CPU {result['cpu']}  errors {result['errors']}")
    return result


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def bench_embedded(workdir):
    run_bench.DEPOT = DEPOT
    process, endpoint = run_bench.start_depot(workdir)
    try:
        groups = {"depot": lambda: [process.pid]}
        return {f"{op} {size}": phase(endpoint, op, size, streams, count, groups)
                for op, size, streams, count in WORKLOADS}
    finally:
        stop(process)
        shutil.rmtree(os.path.join(workdir, "data"), ignore_errors=True)


def start_moto():
    port = run_bench.free_port()
    process = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    run_bench.wait_for_port(port)
    import boto3
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="k", aws_secret_access_key="s")
    client.create_bucket(Bucket="depot-chunks")
    return process, port, client


def pack_objects(client):
    count, size = 0, 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="depot-chunks"):
        for item in page.get("Contents", []):
            count += 1
            size += item["Size"]
    return count, size


def bench_cluster(workdir, postgres):
    moto, moto_port, store = start_moto()
    config = os.path.join(workdir, "cluster.yaml")
    # cluster.keyFile: the key every node of a cluster shares (README "Cluster mode").
    key_file = os.path.join(workdir, "cluster.key")
    with open(key_file, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    with open(config, "w") as f:
        f.write(f"""buckets: [bench]
storage: {{ gcIntervalSeconds: 0 }}
cluster:
  index: "{postgres.dsn}"
  node: bench-1
  chunks: {{ endpoint: "http://127.0.0.1:{moto_port}", bucket: depot-chunks, accessKey: k, secretKey: s, prefix: bench/ }}
  cache: {{ path: "{os.path.join(workdir, 'cache')}", size: 4GiB }}
  keyFile: "{key_file}"
""")
    port = run_bench.free_port()
    env = dict(os.environ, DEPOT_ROOT_USER=run_bench.ROOT[0], DEPOT_ROOT_PASSWORD=run_bench.ROOT[1])
    process = subprocess.Popen([DEPOT, "serve", "--config", config, "--address", f"127.0.0.1:{port}", "--data",
                                os.path.join(workdir, "cluster-data")], env=env, stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(workdir, "cluster.log"), "wb"))
    try:
        run_bench.wait_for_port(port)
        endpoint = f"http://127.0.0.1:{port}"
        postmaster = postgres.postmaster_pid()
        groups = {"depot": lambda: [process.pid], "postgres": lambda: descendants([postmaster]),
                  "moto": lambda: descendants([moto.pid])}
        groups["all"] = lambda: groups["depot"]() + groups["postgres"]() + groups["moto"]()
        figures = {}
        for op, size, streams, count in WORKLOADS:
            commits, rows = postgres.stats()
            packs, stored = pack_objects(store)
            result = phase(endpoint, op, size, streams, count, groups)
            time.sleep(0.6)  # pg_stat_database is updated by backends at most every 500 ms
            commits_after, rows_after = postgres.stats()
            packs_after, stored_after = pack_objects(store)
            operations = result.get("operations") or 0
            # Only PUT phases: a GET writes no index row, and what PostgreSQL counts during one is
            # its own autoanalyze after the PUTs (pg_statistic rows) and the heartbeat.
            if operations and op == "put":
                result["indexCommitsPerObject"] = (commits_after - commits) / operations
                result["indexRowsPerObject"] = (rows_after - rows) / operations
            if op == "put" and result.get("bytes"):
                result["packsPerGiB"] = (packs_after - packs) / (result["bytes"] / GiB)
                result["storedBytesPerByte"] = (stored_after - stored) / result["bytes"]
            figures[f"{op} {size}"] = result
        return figures
    finally:
        stop(process)
        os.killpg(moto.pid, signal.SIGTERM)
        moto.wait(timeout=30)


PGBENCH_SCRIPT = """\\set id random(1, 1000000000)
BEGIN;
{statements}
COMMIT;
"""


def pgbench_bounds(postgres, workdir):
    """Commits/s and rows/s of index-shaped batches: each transaction upserts `batch` rows of a
    64-byte key and a 300-byte value (an object record's size) into one k/v table."""
    pgbench = os.path.join(postgres.bin, "pgbench")
    postgres.psql("CREATE TABLE IF NOT EXISTS bench_kv (k bytea PRIMARY KEY, v bytea NOT NULL)")
    bounds = {}
    for batch in (1, 16, 64):
        statements = "\n".join(
            f"INSERT INTO bench_kv VALUES (decode(md5(:id::text || '-{i}'), 'hex') || '\\x{'00' * 48}'::bytea, "
            f"decode(repeat('ab', 300), 'hex')) ON CONFLICT (k) DO UPDATE SET v = excluded.v;" for i in range(batch))
        path = os.path.join(workdir, f"batch-{batch}.sql")
        with open(path, "w") as f:
            f.write(PGBENCH_SCRIPT.format(statements=statements))
        if postgres.account:
            shutil.chown(path, postgres.account)
            os.chmod(workdir, 0o755)
        command = [pgbench, "-h", postgres.sockets, "-p", str(postgres.port), "-U", PG_USER, "-n", "-c", "8", "-j", "2",
                   "-T", str(int(max(5, SECONDS))), "-f", path, PG_DATABASE]
        if postgres.account:
            command = ["runuser", "-u", postgres.account, "--", *command]
        out = subprocess.run(command, capture_output=True, text=True, timeout=600)
        match = re.search(r"tps = ([0-9.]+)", out.stdout)
        if not match:
            bounds[batch] = {"failed": (out.stderr or out.stdout).strip()[-200:]}
            continue
        tps = float(match.group(1))
        bounds[batch] = {"commitsPerSecond": tps, "rowsPerSecond": tps * batch}
        log(f"  pgbench batch {batch:2}: {tps:9.0f} commits/s {tps * batch:9.0f} rows/s")
    return bounds


def write_section(raw):
    def cell(result, key):
        if not result or "failed" in result:
            return "failed"
        return f"{result[key]:,.0f}" if key in result else "–"

    lines = ["## Cluster mode against embedded mode (`make bench-cluster`)", "",
             f"Run {raw['started']} at {raw['version']}; {SECONDS:.0f} s phases; load average before "
             f"{raw['loadBefore'][0]:.2f}. One cluster node: index in a private PostgreSQL with fsync on, packs on "
             "moto_server (RAM). CPU s/GiB: Depot alone, and Depot + PostgreSQL + moto.", "",
             "| workload | embedded MB/s | op/s | p99 ms | CPU s/GiB | cluster MB/s | op/s | p99 ms | CPU s/GiB depot / all "
             "| index commits (WAL flushes) per object | index rows per object | packs per GiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for op, size, streams, _ in WORKLOADS:
        name = f"{op} {size}"
        e, c = raw["embedded"].get(name), raw["cluster"].get(name)

        def per_gib(result, group):
            value = (result or {}).get("cpuPerGiB", {}).get(group)
            return f"{value:.1f}" if value is not None else "–"

        def ratio(result, key):
            value = (result or {}).get(key)
            return f"{value:.2f}" if value is not None else "–"

        lines.append(
            f"| {op.upper()} {run_bench.human(size)} ×{streams} | {cell(e, 'megabytesPerSecond')} | "
            f"{cell(e, 'operationsPerSecond')} | {cell(e, 'p99Milliseconds')} | {per_gib(e, 'depot')} | "
            f"{cell(c, 'megabytesPerSecond')} | {cell(c, 'operationsPerSecond')} | {cell(c, 'p99Milliseconds')} | "
            f"{per_gib(c, 'depot')} / {per_gib(c, 'all')} | {ratio(c, 'indexCommitsPerObject')} | "
            f"{ratio(c, 'indexRowsPerObject')} | {ratio(c, 'packsPerGiB')} |")
    lines += ["", "Bounds on paper, measured on the same PostgreSQL (pgbench, 8 clients, transactions shaped like "
              "the index's commit batches: n upserts of 64-byte keys and 300-byte values):", "",
              "| rows per transaction | commits/s | rows/s |", "|---:|---:|---:|"]
    for batch, figure in raw["pgbench"].items():
        if "failed" in figure:
            lines.append(f"| {batch} | failed: {figure['failed']} | |")
        else:
            lines.append(f"| {batch} | {figure['commitsPerSecond']:,.0f} | {figure['rowsPerSecond']:,.0f} |")
    lines += ["", "A cluster's small-object rate is bounded by rows/s ÷ index rows per object (the table above); "
              f"its object-store requests by packs: {GiB // PACK_BYTES} PUTs per GiB ingested at "
              f"{PACK_BYTES // MiB} MiB packs (plus one per sealed partial pack per sync), and one ranged GET per "
              "cache block on a cold read.", ""]
    section = "\n".join(lines)
    try:
        with open(RESULTS) as f:
            text = f.read()
    except OSError:
        text = ""
    head = "## Cluster mode against embedded mode"
    if head in text:
        start = text.index(head)
        following = text.find("\n## ", start + len(head))
        text = text[:start] + section + (text[following + 1:] if following >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(RESULTS, "w") as f:
        f.write(text)


def main():
    for binary in (DEPOT, LOAD):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: run `make bench-build`")
    started = datetime.datetime.now(datetime.timezone.utc)
    raw = {"started": started.isoformat(timespec="seconds"), "loadBefore": os.getloadavg(),
           "version": os.environ.get("DEPOT_LABEL") or subprocess.run(
               ["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()}
    workdir = tempfile.mkdtemp(prefix="depot-bench-cluster-", dir=os.environ.get("BENCH_DIR"))
    postgres = None
    try:
        log("embedded")
        raw["embedded"] = bench_embedded(workdir)
        log("cluster node (PostgreSQL with fsync on, packs on moto)")
        postgres = DurablePostgres()
        if postgres.account:
            os.chmod(workdir, 0o755)
        postgres.create()
        raw["cluster"] = bench_cluster(workdir, postgres)
        log("pgbench bounds")
        raw["pgbench"] = pgbench_bounds(postgres, workdir)
    finally:
        if postgres:
            postgres.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(os.path.dirname(RAW), exist_ok=True)
    with open(RAW, "w") as f:
        json.dump(raw, f, indent=1)
    write_section(raw)
    log(f"wrote the cluster section of {RESULTS}")


if __name__ == "__main__":
    main()
