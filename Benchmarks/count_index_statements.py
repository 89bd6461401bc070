#!/usr/bin/env python3
"""How many PostgreSQL statements (round trips, but for those queued without waiting) one S3
request costs a cluster node: PUT, GET and HEAD of a 4 KiB object, one at a time.

Starts a private PostgreSQL with `log_min_duration_statement=0` (every statement executed is
logged with its backend's PID), moto_server as the chunk store and one `depot serve` node, then
runs each operation `--count` times between two marker statements and counts the statements
Depot's backends executed in between, by kind (BEGIN, SELECT, INSERT, SAVEPOINT, ...). The
node's background work (heartbeat, configuration poll, claims) is counted over an idle window
of the same length and subtracted.

Usage: DEPOT_BIN=.build/release/depot python3 Benchmarks/count_index_statements.py [--count 50]
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
import bench_cluster  # noqa: E402 - moto start-up
import run_bench  # noqa: E402 - free ports, root account
from cluster_support import PostgresCluster, cluster_config  # noqa: E402

DEPOT = os.environ.get("DEPOT_BIN", os.path.join(REPO, ".build", "debug", "depot"))
EXECUTED = re.compile(r"^\[(\d+)\] .*duration: [\d.]+ ms  (?:statement|execute [^:]*): (.*)$")


class LoggedPostgres(PostgresCluster):
    def start(self):
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c shared_buffers=16MB -c max_connections=60 -c log_min_duration_statement=0 "
                   "-c log_line_prefix='[%p] '")
        self._run("pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "30", "-o", options, "start")


def statements_between(log_path, start_marker, end_marker, own_pid):
    kinds = collections.Counter()
    inside = False
    with open(log_path, errors="replace") as f:
        for line in f:
            match = EXECUTED.match(line.rstrip("\n"))
            if not match:
                continue
            pid, sql = int(match.group(1)), match.group(2)
            if start_marker in sql:
                inside = True
                continue
            if end_marker in sql:
                break
            if inside and pid != own_pid:
                words = sql.split()
                kind = words[0].upper() if words else "?"
                if kind in ("ROLLBACK", "RELEASE") and len(words) > 1 and words[1].upper() in ("TO", "SAVEPOINT"):
                    kind += " " + words[1].upper()
                table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", sql, re.IGNORECASE)
                if kind in ("SELECT", "INSERT", "DELETE", "UPDATE") and table:
                    kind += " " + table.group(1)
                kinds[kind] += 1
    return kinds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    import boto3
    postgres = LoggedPostgres().create()
    moto, moto_port, _ = bench_cluster.start_moto()
    workdir = tempfile.mkdtemp(prefix="depot-count-")
    node = None
    try:
        config = cluster_config(
            os.path.join(workdir, "node.yaml"), postgres.dsn, "count-1",
            extra=(f"  chunks: {{ endpoint: \"http://127.0.0.1:{moto_port}\", bucket: depot-chunks, accessKey: k, "
                   f"secretKey: s }}\n  cache: {{ path: \"{workdir}/cache\", size: 256MiB }}\nbuckets: [count]\n"))
        port = run_bench.free_port()
        env = dict(os.environ, DEPOT_ROOT_USER=run_bench.ROOT[0], DEPOT_ROOT_PASSWORD=run_bench.ROOT[1])
        node = subprocess.Popen([DEPOT, "serve", "--config", config, "--address", f"127.0.0.1:{port}", "--data",
                                 os.path.join(workdir, "data")], env=env, stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(workdir, "node.log"), "wb"))
        run_bench.wait_for_port(port)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id=run_bench.ROOT[0], aws_secret_access_key=run_bench.ROOT[1])
        body = os.urandom(4096)
        s3.put_object(Bucket="count", Key="warm", Body=body)  # first-use work (bucket caches) out of the count
        s3.get_object(Bucket="count", Key="warm")["Body"].read()
        own_pid = int(postgres.psql("SELECT pg_backend_pid()"))  # psql's backend differs per call; filtered by text

        def measure(name, action):
            started = time.monotonic()
            postgres.psql(f"SELECT 'mark-start-{name}'")
            for i in range(args.count):
                action(i)
            postgres.psql(f"SELECT 'mark-end-{name}'")
            time.sleep(0.2)
            return statements_between(postgres.log_path, f"mark-start-{name}", f"mark-end-{name}", own_pid), \
                time.monotonic() - started

        results = {}
        results["PUT"] = measure("put", lambda i: s3.put_object(Bucket="count", Key=f"o{i}", Body=os.urandom(4096)))
        results["GET"] = measure("get", lambda i: s3.get_object(Bucket="count", Key=f"o{i}")["Body"].read())
        results["HEAD"] = measure("head", lambda i: s3.head_object(Bucket="count", Key=f"o{i}"))
        longest = max(seconds for _, seconds in results.values())
        idle, idle_seconds = measure("idle", lambda i: time.sleep(longest / args.count))
        print(f"statements per request ({args.count} requests each, one at a time; {DEPOT}):")
        for name, (kinds, seconds) in results.items():
            background = sum(idle.values()) * seconds / idle_seconds
            total = (sum(kinds.values()) - background) / args.count
            detail = ", ".join(f"{k} {v / args.count:.2f}" for k, v in kinds.most_common())
            print(f"  {name:4}: {total:5.2f}  ({detail}; background {background / args.count:.2f} subtracted)")
    finally:
        if node:
            node.terminate()
            node.wait(timeout=30)
        moto.terminate()
        postgres.destroy()


if __name__ == "__main__":
    main()
