"""A rolling restart of a three-node cluster behind HAProxy loses no request (issue 21 item 4).

Three `depot serve` nodes (a private PostgreSQL as the shared index, moto_server as the chunk
store) behind a real HAProxy running Config/haproxy-cluster.cfg, the README's configuration,
with only its addresses swapped for loopback ports. Client threads (boto3 with its standard
retries) PUT, GET, HEAD and LIST their own objects through HAProxy, checking every body's
sha256, while each node in turn gets SIGTERM, exits, starts again and is back in HAProxy's
rotation before the next one goes. Half the client threads go through nginx running
Config/nginx-cluster.conf instead (passive checks only), when nginx is installed. No client request may fail, and every acknowledged object
must read back byte-identical at the end. What makes this work: a stopping node fails its
readiness probe first (server.drainDelay) and HAProxy's health check takes it out of rotation
before its listener closes; requests in flight finish (server.drainTimeout)."""
import concurrent.futures
import csv
import hashlib
import io
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

import boto3
import requests
import pytest
from botocore.config import Config

from backends import Moto
from cluster_support import chunks_section, cluster_config, free_port, postgres  # noqa: F401 (fixture)
from conftest import REPO, ROOT_PASSWORD, ROOT_USER, DepotServer
from waiting import stop_process

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed (Debian's haproxy package; make deps installs it)")

NODE_NAMES = ["gw-1", "gw-2", "gw-3"]


def loopback_config(name, node_ports, replacements):
    """The README's Config/<name> with the nodes (10.0.0.11:9000, ...) at their loopback ports and
    `replacements` made; each text replaced must still be in the file, so the test follows it."""
    text = open(os.path.join(REPO, "Config", name)).read()
    nodes = [(f"10.0.0.1{index + 1}:9000", f"127.0.0.1:{port}") for index, port in enumerate(node_ports)]
    for old, new in [*replacements, *nodes]:
        assert old in text, f"Config/{name} no longer has {old!r}: update this test"
        text = text.replace(old, new)
    return text


def haproxy_config(lb_port, stats_port, node_ports):
    """Config/haproxy-cluster.cfg, logging to stdout."""
    return loopback_config("haproxy-cluster.cfg", node_ports, [
        ("log /dev/log local0", "log stdout format raw local0"),
        ("bind :9000", f"bind 127.0.0.1:{lb_port}"),
        ("bind 127.0.0.1:8404", f"bind 127.0.0.1:{stats_port}")])


def nginx_config(directory, port, node_ports):
    """Config/nginx-cluster.conf with its pid and log files in `directory`."""
    return loopback_config("nginx-cluster.conf", node_ports, [
        ("listen 9000;", f"listen 127.0.0.1:{port};"),
        ("pid /run/nginx-depot.pid;", f"pid {directory}/nginx.pid;"),
        ("/var/log/nginx/", f"{directory}/")])


def stop_in_the_foreground(process, directory):
    """Stops a balancer run in the foreground and removes its files."""
    stop_process(process)
    shutil.rmtree(directory, ignore_errors=True)


class Nginx:
    """nginx in the foreground on the README's configuration."""

    def __init__(self, port, node_ports):
        self.directory = tempfile.mkdtemp(prefix="depot-nginx-")
        os.chmod(self.directory, 0o755)
        self.config = os.path.join(self.directory, "nginx.conf")
        with open(self.config, "w") as f:
            f.write(nginx_config(self.directory, port, node_ports))
        self.endpoint = f"http://127.0.0.1:{port}"
        check = subprocess.run([NGINX, "-t", "-q", "-c", self.config, "-p", self.directory], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        self.process = subprocess.Popen([NGINX, "-c", self.config, "-p", self.directory, "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/health/live", timeout=2).read()
                return
            except OSError:
                assert self.process.poll() is None and time.time() < deadline, f"nginx did not start: {self.logs()}"
                time.sleep(0.1)

    def logs(self):
        try:
            with open(os.path.join(self.directory, "depot-error.log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        stop_in_the_foreground(self.process, self.directory)


class Balancer:
    """HAProxy in the foreground on `config`; `states()` reads its stats page."""

    def __init__(self, config_text, lb_port, stats_port):
        self.directory = tempfile.mkdtemp(prefix="depot-haproxy-")
        self.config = os.path.join(self.directory, "haproxy.cfg")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(self.directory, "haproxy.log")
        self.endpoint = f"http://127.0.0.1:{lb_port}"
        self.stats = f"http://127.0.0.1:{stats_port}/;csv"
        check = subprocess.run([HAPROXY, "-c", "-q", "-f", self.config], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen([HAPROXY, "-db", "-f", self.config], stdout=self.log, stderr=self.log)

    def stats_rows(self):
        """The stats CSV, a dict per proxy and server."""
        with urllib.request.urlopen(self.stats, timeout=5) as answer:
            text = answer.read().decode()
        return list(csv.DictReader(io.StringIO(text.lstrip("# "))))

    def states(self):
        """{(backend, server): status}."""
        return {(row["pxname"], row["svname"]): row["status"] for row in self.stats_rows()}

    def counters(self, proxy, server):
        for row in self.stats_rows():
            if row["pxname"] == proxy and row["svname"] == server:
                return row
        raise KeyError((proxy, server))

    def wait_up(self, name, timeout=30):
        deadline = time.time() + timeout
        while True:
            assert self.process.poll() is None, f"haproxy exited: {self.logs()}"
            try:
                states = self.states()
                if all(states.get((backend, name), "").startswith("UP") for backend in ("depot_nodes", "depot_console")):
                    return
            except OSError:
                pass
            assert time.time() < deadline, f"HAProxy did not put {name} back in rotation: {self.logs()}"
            time.sleep(0.2)

    def logs(self, tail=6000):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-tail:] if tail else f.read()

    def stop(self):
        stop_in_the_foreground(self.process, self.directory)
        self.log.close()


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    database = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {database}")
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/" + database
    moto = Moto()
    nodes, balancer, nginx = [], None, None
    try:
        moto.client.create_bucket(Bucket="depot-chunks")
        ports = [free_port() for _ in NODE_NAMES]
        for name, port in zip(NODE_NAMES, ports):
            directory = tmp_path_factory.mktemp(name)
            # The default drain settings (drainDelay 5s, drainTimeout 10s): what the README promises;
            # the balancers are trusted proxies, as the README sets them up.
            config = cluster_config(directory / "depot.yaml", dsn, name, chunks_section(moto, directory / "cache"))
            with open(config, "a") as f:
                f.write("server:\n  trustedProxies: [127.0.0.1]\n")
            nodes.append(DepotServer(config=config, address=f"127.0.0.1:{port}").start())
        lb_port, stats_port = free_port(), free_port()
        balancer = Balancer(haproxy_config(lb_port, stats_port, ports), lb_port, stats_port)
        for name in NODE_NAMES:
            balancer.wait_up(name)
        if NGINX:
            nginx = Nginx(free_port(), ports)
        yield nodes, balancer, nginx
    finally:
        if balancer:
            balancer.stop()
        if nginx:
            nginx.stop()
        for node in nodes:
            node.cleanup()
        moto.stop()


class Clients:
    """Client threads through the balancers (worker i through endpoints[i % len]). Each writes
    its own keys; every request's failure (after boto3's standard retries) and every wrong body
    is recorded."""

    def __init__(self, endpoints, bucket, threads=4):
        self.endpoints = endpoints
        self.bucket = bucket
        self.threads = threads
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged = {}  # key -> sha256 of the body the PUT was acknowledged for
        self.failures = []
        self.operations = 0
        self.retried_attempts = {endpoint: 0 for endpoint in endpoints}
        self.retry_reasons = []

    def client(self, endpoint):
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ROOT_USER,
            aws_secret_access_key=ROOT_PASSWORD,
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"},
                          connect_timeout=5, read_timeout=60))

        def count_retry(**kwargs):
            # Seen before the retry handler decides: an attempt that failed (and is retried).
            response, caught = kwargs.get("response"), kwargs.get("caught_exception")
            if caught is not None or (response and response[0].status_code >= 500):
                reason = repr(caught) if caught is not None else (
                    f"{response[0].status_code} {response[1].get('Error', {}).get('Code')}")
                with self.lock:
                    self.retried_attempts[endpoint] += 1
                    self.retry_reasons.append(f"{endpoint} {kwargs.get('operation').name if kwargs.get('operation') else ''}: {reason}")

        s3.meta.events.register_first("needs-retry.s3", count_retry)
        return s3

    def failed(self, what, error):
        with self.lock:
            self.failures.append(f"{what}: {error!r}")

    def run(self, worker):
        endpoint = self.endpoints[worker % len(self.endpoints)]
        s3 = self.client(endpoint)
        rng = random.Random(worker)
        mine = {}
        n = 0
        while not self.stop.is_set():
            n += 1
            key = f"w{worker}/clip-{n:05d}.mp4"
            body = os.urandom(rng.choice([3_000, 40_000, 300_000, 1_500_000]))
            digest = hashlib.sha256(body).hexdigest()
            try:
                s3.put_object(Bucket=self.bucket, Key=key, Body=body)
                mine[key] = digest
                with self.lock:
                    self.acknowledged[key] = digest
                head = s3.head_object(Bucket=self.bucket, Key=key)
                if head["ContentLength"] != len(body):
                    self.failed(f"HEAD {key}", f"length {head['ContentLength']} != {len(body)}")
                earlier = rng.choice(list(mine))
                read = s3.get_object(Bucket=self.bucket, Key=earlier)["Body"].read()
                if hashlib.sha256(read).hexdigest() != mine[earlier]:
                    self.failed(f"GET {earlier}", f"{len(read)} bytes that differ")
                if n % 4 == 0:
                    listed = set()
                    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"w{worker}/"):
                        listed |= {item["Key"] for item in page.get("Contents", [])}
                    missing = set(mine) - listed
                    if missing:
                        self.failed(f"LIST w{worker}/", f"acknowledged keys missing: {sorted(missing)[:5]}")
            except Exception as error:  # noqa: BLE001 (every failure is the finding)
                self.failed(f"worker {worker} through {endpoint} step {n}", error)
            with self.lock:
                self.operations += 1


def test_each_node_restarted_in_turn_behind_haproxy_fails_no_client_request(cluster):
    nodes, balancer, nginx = cluster
    setup = boto3.client(
        "s3", endpoint_url=balancer.endpoint, region_name="us-east-1", aws_access_key_id=ROOT_USER,
        aws_secret_access_key=ROOT_PASSWORD, config=Config(s3={"addressing_style": "path"}))
    setup.create_bucket(Bucket="rolling")
    clients = Clients([balancer.endpoint] + ([nginx.endpoint] if nginx else []), "rolling")
    restarts = []
    with concurrent.futures.ThreadPoolExecutor(clients.threads) as pool:
        workers = [pool.submit(clients.run, worker) for worker in range(clients.threads)]
        try:
            time.sleep(2)
            for name, node in zip(NODE_NAMES, nodes):
                began = time.time()
                code = node.stop(timeout=40)  # SIGTERM, then wait for the exit
                stopped = time.time()
                assert code == 0, f"{name} exited with {code}: {node.logs()[-3000:]}"
                node.start()
                balancer.wait_up(name)
                restarts.append((name, round(stopped - began, 1), round(time.time() - stopped, 1)))
                time.sleep(1)
        finally:
            clients.stop.set()
            for worker in workers:
                worker.result(timeout=120)
    backend = balancer.counters("depot_nodes", "BACKEND")
    summary = (f"{clients.operations} steps, {len(clients.acknowledged)} objects, "
               f"attempts retried by boto3 per balancer {clients.retried_attempts}, HAProxy retries {backend['wretr']} "
               f"redispatches {backend['wredis']}, restarts (name, stop s, back s): {restarts}, "
               f"retried: {clients.retry_reasons[:6]}")
    print(summary)
    assert clients.failures == [], (
        f"{summary}\nfailures: {clients.failures[:10]}\n{balancer.logs()}\n{nginx.logs() if nginx else ''}")
    assert len(restarts) == 3 and clients.operations >= 30, summary
    for name, node in zip(NODE_NAMES, nodes):
        # Each stop drained: HAProxy probes readiness, so the delay was spent.
        assert "readiness now fails; serving 5 s more" in node.logs(), name
    # HAProxy took each node out of rotation because its readiness probe answered 503 while it
    # was still serving (Layer7), not because connections were refused after it closed (Layer4).
    log = balancer.logs(tail=None)
    changes = [line for line in log.splitlines() if "Server depot_" in line]
    for name in NODE_NAMES:
        down = [line for line in changes if f"Server depot_nodes/{name} is DOWN" in line]
        assert down and all("Layer7 wrong status, code: 503" in line for line in down), changes
    # Every acknowledged object, read back through the balancer, is byte-identical.
    reader = clients.client(balancer.endpoint)
    for key, digest in sorted(clients.acknowledged.items()):
        body = reader.get_object(Bucket="rolling", Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest, key
    listed = set()
    for page in reader.get_paginator("list_objects_v2").paginate(Bucket="rolling"):
        listed |= {item["Key"] for item in page.get("Contents", [])}
    assert listed == set(clients.acknowledged) or set(clients.acknowledged) <= listed


def test_a_console_browser_sticks_to_one_node(cluster):
    _, balancer, _ = cluster
    first = requests.get(balancer.endpoint + "/console/signin", allow_redirects=False, timeout=10)
    node = first.cookies.get("depot-node")
    assert node in NODE_NAMES, first.headers
    for _ in range(6):
        again = requests.get(balancer.endpoint + "/console/signin", cookies={"depot-node": node},
                             allow_redirects=False, timeout=10)
        assert again.status_code == first.status_code
    served = [line for line in balancer.logs(tail=None).splitlines() if "/console/signin" in line]
    assert len(served) >= 7 and all(f"depot_console/{node} " in line for line in served[-6:]), served[-6:]
