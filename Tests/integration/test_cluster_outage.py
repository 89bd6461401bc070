"""Cluster mode while PostgreSQL is stopped (issue 21: "PostgreSQL stopped for 30 s: writes get
503, cached reads continue, everything resumes without a restart").

One node over this module's own PostgreSQL (the `postgres` fixture is per module, so stopping it
touches no other test) and moto_server as the chunk store. Before the outage the node writes
some objects and reads some of them; then PostgreSQL is really stopped (`pg_ctl stop`) for 30 s.
During it: writes, deletes, listings and reads of objects this node never read get 503
SlowDown quickly (S3 XML with Retry-After; Vault's JSON 503), GET/HEAD of objects it read are
answered byte-identical from its outage cache of index rows (OutageReadCache) and the chunk
store, readiness fails while liveness holds, the node's CPU stays low and its log short. After
`pg_ctl start` writes succeed within seconds without restarting depot, and everything written
before is there, and nothing refused during the outage. A second test makes the database silent
(connects hang instead of being refused): one caller waits out each reconnect attempt, the
other requests are answered at once."""
import concurrent.futures
import contextlib
import os
import socket
import threading
import time

import boto3
import botocore.exceptions
import pytest
import requests
from botocore.config import Config

from admin_client import Admin
from backends import Moto
from cluster_support import chunks_section, cluster_config, cluster_nodes, postgres  # noqa: F401 (fixture, private to this module)
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer

OUTAGE_SECONDS = 30
VAULT_ACCOUNT = """accounts:
  - name: agents
    accessKey: AGENTKEY
    secretKey: agent-secret-1234
    allow: [{ bucket: outage, actions: [read, write] }]
    vault: { directory: "*", bucket: outage }
"""


def cpu_seconds(pid):
    """User + system CPU seconds of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_lines(node):
    """The node's log lines, without the access log's (one per request by design)."""
    with open(node.log_path, "rb") as f:
        lines = f.read().decode(errors="replace").splitlines()
    return [line for line in lines if not line.endswith("[DepotServer] request")]


def refused_with_slowdown(call):
    """`call` fails with 503 SlowDown and Retry-After; returns how long it took."""
    started = time.time()
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call()
    elapsed = time.time() - started
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 503, response
    assert response["Error"]["Code"] == "SlowDown", response
    assert "retry-after" in response["ResponseMetadata"]["HTTPHeaders"], response
    return elapsed


@pytest.fixture(scope="module")
def node(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    database = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {database}")
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/" + database
    directory = tmp_path_factory.mktemp("outage-node")
    moto = Moto()
    server = None
    try:
        moto.client.create_bucket(Bucket="depot-chunks")
        config = cluster_config(directory / "depot.yaml", dsn, "node-outage", chunks_section(moto, directory / "cache"))
        with open(config, "a") as f:
            f.write(VAULT_ACCOUNT)
        server = DepotServer(config=config).start()
        yield server
    finally:
        if server:
            server.cleanup()
        moto.stop()


def test_postgresql_stopped_for_30_s_writes_get_503_cached_reads_continue_and_everything_resumes(
        node, postgres, tmp_path):  # noqa: F811
    s3 = node.client()
    # One attempt per call: botocore would otherwise retry 503s and hide them.
    once = boto3.client(
        "s3", endpoint_url=node.endpoint, region_name="us-east-1", aws_access_key_id=ROOT_USER,
        aws_secret_access_key=ROOT_PASSWORD,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, read_timeout=30))
    s3.create_bucket(Bucket="outage")
    nas = tmp_path / "nas"
    nas.mkdir()
    bodies = {
        "cam-1/read.mp4": os.urandom(900_000),
        "cam-1/small.jpg": os.urandom(3_000),
        "cam-2/headed.mp4": os.urandom(400_000),
        "cam-2/never-read.mp4": os.urandom(50_000),
    }
    for key, body in bodies.items():
        s3.put_object(Bucket="outage", Key=key, Body=body)
    # Read before the outage: two GETs (record, chunk locations and pack blocks cached) and a
    # HEAD (record and locations only: its bytes come from the chunk store during the outage).
    for key in ("cam-1/read.mp4", "cam-1/small.jpg"):
        assert s3.get_object(Bucket="outage", Key=key)["Body"].read() == bodies[key]
    assert s3.head_object(Bucket="outage", Key="cam-2/headed.mp4")["ContentLength"] == 400_000
    # Read, then replaced or deleted through this node without reading again: the cache must not
    # keep the old bytes (a write drops the rows it touched).
    for key in ("cam-1/replaced.jpg", "cam-1/deleted.jpg"):
        s3.put_object(Bucket="outage", Key=key, Body=b"old " + key.encode())
        assert s3.get_object(Bucket="outage", Key=key)["Body"].read() == b"old " + key.encode()
    s3.put_object(Bucket="outage", Key="cam-1/replaced.jpg", Body=b"new bytes")
    s3.delete_object(Bucket="outage", Key="cam-1/deleted.jpg")
    bodies["cam-1/replaced.jpg"] = b"new bytes"
    assert requests.get(node.endpoint + "/health/ready", timeout=10).status_code == 200

    postgres.stop()
    outage_started = time.time()
    lines_before = len(log_lines(node))
    try:
        # Writes: 503 SlowDown with Retry-After, within a few seconds (no hang).
        assert refused_with_slowdown(
            lambda: once.put_object(Bucket="outage", Key="cam-3/during.mp4", Body=os.urandom(20_000))) < 5
        assert refused_with_slowdown(lambda: once.delete_object(Bucket="outage", Key="cam-1/small.jpg")) < 5
        assert refused_with_slowdown(lambda: once.create_bucket(Bucket="during-outage")) < 5
        vault = requests.post(
            node.endpoint + "/api/storage", data=b"vault bytes", timeout=10,
            headers={"X-Kerberos-Storage-AccessKey": "AGENTKEY", "X-Kerberos-Storage-SecretAccessKey": "agent-secret-1234",
                     "X-Kerberos-Storage-Directory": "outage", "X-Kerberos-Storage-Filename": "vault.mp4",
                     "X-Kerberos-Storage-Provider": ""})
        assert vault.status_code == 503, (vault.status_code, vault.text)
        assert isinstance(vault.json()["data"], str), vault.text
        # An admin change is a write of the index too: 503 with the admin API's JSON, nothing made.
        started = time.time()
        status, answer = Admin(node.endpoint).put("/admin/v1/tiers/nas", {"type": "filesystem", "path": str(nas)})
        assert status == 503 and time.time() - started < 5, (status, answer)
        # Listings need a range of rows no cache can promise: 503.
        assert refused_with_slowdown(lambda: once.list_objects_v2(Bucket="outage")) < 5
        # An object this node never read: its record is not cached, 503 rather than a guess.
        assert refused_with_slowdown(lambda: once.get_object(Bucket="outage", Key="cam-2/never-read.mp4")) < 5
        # Written after it was read: never the old bytes.
        for key in ("cam-1/replaced.jpg", "cam-1/deleted.jpg"):
            refused_with_slowdown(lambda: once.get_object(Bucket="outage", Key=key))
        # Readiness fails (a balancer sends traffic elsewhere), liveness holds.
        ready = requests.get(node.endpoint + "/health/ready", timeout=10)
        assert ready.status_code == 503 and "index" in ready.json()["reason"], ready.text
        assert requests.get(node.endpoint + "/minio/health/ready", timeout=10).status_code == 503
        assert requests.get(node.endpoint + "/health/live", timeout=10).status_code == 200
        assert requests.get(node.endpoint + "/minio/health/live", timeout=10).status_code == 200

        # Cached reads go on, byte-identical, all through the outage; the node idles cheaply
        # between them (reconnect attempts back off: no spinning).
        cpu_start, clock_start = cpu_seconds(node.pid), time.time()
        rounds = 0
        while time.time() - outage_started < OUTAGE_SECONDS:
            assert once.get_object(Bucket="outage", Key="cam-1/read.mp4")["Body"].read() == bodies["cam-1/read.mp4"]
            ranged = once.get_object(Bucket="outage", Key="cam-1/read.mp4", Range="bytes=100000-299999")
            assert ranged["Body"].read() == bodies["cam-1/read.mp4"][100_000:300_000]
            assert once.get_object(Bucket="outage", Key="cam-1/small.jpg")["Body"].read() == bodies["cam-1/small.jpg"]
            assert once.head_object(Bucket="outage", Key="cam-2/headed.mp4")["ContentLength"] == 400_000
            # Only HEAD read it before: the record's chunk locations are cached, the bytes come
            # from the chunk store.
            assert once.get_object(Bucket="outage", Key="cam-2/headed.mp4")["Body"].read() == bodies["cam-2/headed.mp4"]
            # Vault's download of a cached object too.
            blob = requests.get(node.endpoint + "/api/storage/blob", timeout=10, headers={
                "X-Kerberos-Storage-AccessKey": "AGENTKEY", "X-Kerberos-Storage-SecretAccessKey": "agent-secret-1234",
                "X-Kerberos-Storage-Filename": "cam-1/small.jpg"})
            assert blob.status_code == 200 and blob.content == bodies["cam-1/small.jpg"], (blob.status_code, blob.text[:200])
            rounds += 1
            time.sleep(3)
        cpu_used = cpu_seconds(node.pid) - cpu_start
        idle_for = time.time() - clock_start
        assert rounds >= 5
        # Well under a tenth of a core, requests included.
        assert cpu_used < 0.1 * idle_for, f"{cpu_used:.2f} CPU seconds in {idle_for:.1f} s of outage"
        outage_lines = log_lines(node)[lines_before:]
        # Once when the outage starts (index, heartbeat, background passes), once per refused
        # write batch: not a line per retry or per second.
        assert len(outage_lines) < 20, "\n".join(outage_lines)
        print(f"outage: {cpu_used:.2f} CPU seconds in {idle_for:.1f} s, {len(outage_lines)} log lines besides the access log")
    finally:
        postgres.start()
    restarted = time.time()

    # Writes resume on their own, within seconds, without restarting depot.
    while True:
        try:
            once.put_object(Bucket="outage", Key="cam-3/after.mp4", Body=b"after the outage")
            break
        except botocore.exceptions.ClientError as error:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503, error.response
            assert time.time() - restarted < 20, "writes did not resume within 20 s of PostgreSQL's restart"
            time.sleep(0.5)
    assert requests.get(node.endpoint + "/health/ready", timeout=10).status_code == 200
    # Everything is as it was, plus the one write after; nothing refused during the outage was stored.
    listed = sorted(item["Key"] for item in s3.list_objects_v2(Bucket="outage")["Contents"])
    assert listed == sorted([*bodies, "cam-3/after.mp4"])
    for key, body in bodies.items():
        assert s3.get_object(Bucket="outage", Key=key)["Body"].read() == body, key
    assert "during-outage" not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    assert Admin(node.endpoint).get("/admin/v1/tiers/nas")[0] == 404
    # The node's own writes after the outage are read back, not an older cached row.
    s3.put_object(Bucket="outage", Key="cam-1/small.jpg", Body=b"replaced")
    assert s3.get_object(Bucket="outage", Key="cam-1/small.jpg")["Body"].read() == b"replaced"


class SilentListener:
    """Accepts TCP connections on `port` and never answers on them: a PostgreSQL whose packets
    are dropped (a firewall, a dead route) rather than one that refuses connections."""

    def __init__(self, port):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(64)
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for conn in self.held:
            conn.close()


def test_a_silent_database_costs_one_caller_per_reconnect_attempt_not_every_request(postgres, tmp_path_factory):  # noqa: F811
    """While connects hang (no refusal, no answer), one caller waits out each reconnect attempt
    (about 6 s) and every other request is answered at once: cached reads keep working."""
    with cluster_nodes(postgres, tmp_path_factory, ["node-silent"], index_through_proxy=True) as started, \
            contextlib.ExitStack() as closing:
        node, proxy = started.nodes[0], started.proxy
        s3 = node.client()
        s3.create_bucket(Bucket="silent")
        body = os.urandom(200_000)
        s3.put_object(Bucket="silent", Key="clip.mp4", Body=body)
        assert s3.get_object(Bucket="silent", Key="clip.mp4")["Body"].read() == body
        proxy.stop()
        closing.callback(SilentListener(proxy.port).close)  # before the node stops (the stack exits first)
        cut = time.time()
        durations = []
        lock = threading.Lock()

        def reader():
            client = boto3.client(
                "s3", endpoint_url=node.endpoint, region_name="us-east-1", aws_access_key_id=ROOT_USER,
                aws_secret_access_key=ROOT_PASSWORD,
                config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, read_timeout=30))
            until = time.time() + 12
            while time.time() < until:
                started = time.time()
                assert client.get_object(Bucket="silent", Key="clip.mp4")["Body"].read() == body
                with lock:
                    durations.append((started - cut, time.time() - started))
                time.sleep(0.2)

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for done in [pool.submit(reader) for _ in range(4)]:
                done.result()
        # The requests in flight when the outage starts each wait once (nothing has failed yet,
        # so each makes its own connection); after that first failure, reconnect attempts start
        # 0.5, 1, 2 s … after the previous one gave up, and each holds one caller (or a
        # background pass): one or two in the remaining time, not four readers each time.
        later_slow = [d for at, d in durations if at > 7 and d > 2]
        assert len(durations) > 50 and len(later_slow) <= 3, (len(durations), sorted(d for _, d in durations)[-8:])
        assert max(d for _, d in durations) < 9, sorted(d for _, d in durations)[-8:]

