"""Cluster mode's claims (issue 21 item 2): tier tasks and event outbox rows are claimed by one node
at a time with `FOR UPDATE SKIP LOCKED` and a lease (PostgresIndex+Claims.swift), so with three
`depot serve` nodes over one PostgreSQL index every copy to the tier is made once and every event
is delivered once; a node killed (SIGKILL) in the middle of a slow copy loses its claim when its
lease lapses, and another node makes the copy, once. Each node reaches the moto tier through its
own counting proxy, which records every PUT request line, so copies are counted where they arrive.
The claim SQL and the engine's finish-once rule run as Swift tests against the same PostgreSQL."""
import collections
import json
import os
import re
import subprocess
import time

import pytest

from backends import TcpProxy
from cluster_support import cluster_config, cluster_nodes, fresh_database, postgres, run_swift_suites  # noqa: F401 (fixtures)
from conftest import DEPOT_BIN, run_depot
from event_receiver import Receiver
from waiting import wait_for

LEASE_SECONDS = 3
PUT_LINE = re.compile(rb"PUT (/[^ ]*) HTTP/1\.1\r\n")


class CountingProxy(TcpProxy):
    """A TcpProxy that records the path of every PUT request sent through it (the tier's copies)
    and, while `throttle` is set, forwards the request side at about `throttle` bytes/s."""

    READ_SIZE = 16384  # small reads, so a throttled copy moves in small steps

    def __init__(self, target_port):
        super().__init__(target_port)
        self.puts = []
        self.throttle = None

    def _pump(self, source, target, upstream_bound):
        if not upstream_bound:
            return super()._pump(source, target, upstream_bound)
        tail = b""

        def record_puts_and_throttle(data):
            nonlocal tail
            # A request line may straddle two reads: look at the end of the last one too.
            window = tail + data
            for match in PUT_LINE.finditer(window):
                if match.end() > len(tail):
                    with self.lock:
                        self.puts.append(match.group(1).decode())
            tail = window[-300:]
            if self.throttle:
                time.sleep(len(data) / self.throttle)

        self._pipe(source, target, record_puts_and_throttle)


class Cluster:
    """The started cluster, each node's counting proxy to the tier, and the event receiver."""

    def __init__(self, started, proxies, receiver):
        self.nodes, self.moto, self.dsn, self.sql = started.nodes, started.moto, started.dsn, started.sql
        self.proxies = proxies
        self.receiver = receiver

    def tier_puts(self, key):
        """Per node, the PUTs of `key` that reached the tier through its proxy."""
        return [sum(1 for path in proxy.puts if path == f"/archive/site-a/{key}") for proxy in self.proxies]

    def created_events(self):
        return collections.Counter(
            record["s3"]["object"]["key"] for body in self.receiver.bodies("/s3") for record in body["Records"])


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    receiver = Receiver().start()
    proxies = []

    def node_extra(name, directory, moto):
        """Each node reaches the tier (moto) through a proxy of its own, which counts its copies."""
        proxy = CountingProxy(moto.port).start()
        proxies.append(proxy)
        return f"""  leaseSeconds: {LEASE_SECONDS}
tiers:
  - {{ name: cloud, type: s3, endpoint: "http://127.0.0.1:{proxy.port}", region: us-east-1, bucket: archive,
       prefix: site-a/, accessKey: tier-key, secretKey: tier-secret, concurrency: 4 }}
policies:
  - name: everything-to-cloud
    match: {{ bucket: rec }}
    replicate: {{ to: [cloud], mode: continuous }}
events:
  sinks:
    - {{ name: hook, type: webhook, url: "{receiver.url}/s3", format: s3, match: {{ events: [created] }} }}
"""

    try:
        with cluster_nodes(postgres, tmp_path_factory, ["node-a", "node-b", "node-c"], node_extra) as started:
            started.nodes[0].client().create_bucket(Bucket="rec")
            yield Cluster(started, proxies, receiver)
    finally:
        for proxy in proxies:
            proxy.stop()
        receiver.stop()


def archived(cluster, prefix):
    page = cluster.moto.client.list_objects_v2(Bucket="archive", Prefix=f"site-a/{prefix}")
    return {item["Key"][len("site-a/"):] for item in page.get("Contents", [])}


def test_the_claim_sql_and_finishing_once_hold_on_postgresql(fresh_database):
    """Tests/DepotStorageTests/PostgresClaimsTests.swift (claims, leases, SKIP LOCKED between two
    claimants) and Tests/DepotEngineTests/FinishedTaskTests.swift (a task finished twice changes
    nothing), run from the test bundle the same build made beside DEPOT_BIN."""
    output = run_swift_suites("PostgresClaimsTests|FinishedTaskTests", 120, DEPOT_TEST_POSTGRES_INDEX=fresh_database,
                              DEPOT_TEST_POSTGRES_ENGINE=fresh_database)
    assert "Suite PostgresClaimsTests passed" in output, output[-4000:]
    assert "Suite FinishedTaskTests passed" in output, output[-4000:]
    # Both finish-once cases ran, the PostgreSQL one included.
    assert re.search(r"Test cluster\(\) passed", output), output[-4000:]


def test_thirty_uploads_through_three_nodes_are_copied_once_and_announced_once(cluster):
    clients = [node.client() for node in cluster.nodes]
    keys = [f"cam-{i % 3}/clip-{i}.mp4" for i in range(30)]
    for index, key in enumerate(keys):
        clients[index % 3].put_object(Bucket="rec", Key=key, Body=os.urandom(10_000 + index))
    wait_for(lambda: archived(cluster, "cam-") == set(keys), 30, "every copy on the tier")
    wait_for(lambda: set(cluster.created_events()) >= set(keys), 30, "every event at the receiver")
    # Let any second copy or second delivery that was going to happen happen.
    time.sleep(2)
    for key in keys:
        assert sum(cluster.tier_puts(key)) == 1, (key, cluster.tier_puts(key))
    events = cluster.created_events()
    assert {key: events[key] for key in keys} == {key: 1 for key in keys}
    # The work was shared: more than one node made copies and the queues are empty.
    assert sum(1 for n in range(3) if any(cluster.tier_puts(key)[n] for key in keys)) >= 2
    wait_for(lambda: cluster.sql("SELECT count(*) FROM depot_tasks") == "0", 10, "an empty task queue")
    wait_for(lambda: cluster.sql("SELECT count(*) FROM depot_outbox") == "0", 10, "an empty outbox")
    head = clients[1].head_object(Bucket="rec", Key=keys[0])
    assert head.get("ReplicationStatus") in (None, "COMPLETED"), head


def test_a_node_killed_during_a_slow_copy_loses_its_claim_and_another_node_copies_once(cluster):
    for proxy in cluster.proxies:
        proxy.throttle = 400_000  # bytes/s: a 3 MB copy takes about 8 s
    key = "slow/recording.mp4"
    body = os.urandom(3_000_000)
    cluster.nodes[0].client().put_object(Bucket="rec", Key=key, Body=body)
    holder = wait_for(
        lambda: cluster.sql("SELECT claimed_by FROM depot_tasks WHERE lease_until > now()"), 10, "a claimed copy")
    index = ["node-a", "node-b", "node-c"].index(holder)
    wait_for(lambda: cluster.tier_puts(key)[index] == 1, 10, "the holder's copy to start")

    # `depot cluster status` shows the claim beside its node.
    status = run_depot("cluster", "status", "--index", cluster.dsn, "--json", timeout=60)
    assert status.returncode == 0, status.stderr
    claims = {node["name"]: node["claims"] for node in json.loads(status.stdout)["nodes"]}
    assert claims[holder]["tasks"] == 1, claims
    text = run_depot("cluster", "status", "--index", cluster.dsn, timeout=60)
    assert re.search(rf"{holder} .*\b1 tasks?\b", text.stdout), text.stdout

    # Past the lease, the running copy's claim is renewed: still the holder's, no second copy.
    time.sleep(LEASE_SECONDS + 1)
    assert cluster.sql("SELECT claimed_by FROM depot_tasks WHERE lease_until > now()") == holder
    assert sum(cluster.tier_puts(key)) == 1

    cluster.nodes[index].process.kill()
    cluster.nodes[index].process.wait(timeout=10)
    # What the dead node had already handed its proxy is cut too (else the proxy would finish the
    # upload for it): its copy never lands.
    cluster.proxies[index].stop()
    killed_at = time.time()
    for proxy in cluster.proxies:
        proxy.throttle = None
    assert key not in archived(cluster, "slow/")
    survivors = [n for n in range(3) if n != index]
    # Another node takes the task over once the lease has lapsed (not before) and makes the copy.
    wait_for(lambda: sum(cluster.tier_puts(key)[n] for n in survivors) == 1, 30, "the copy by another node")
    assert time.time() - killed_at >= LEASE_SECONDS - 1.5
    wait_for(lambda: key in archived(cluster, "slow/"), 30, "the copy on the tier")
    assert cluster.tier_puts(key)[index] == 1
    stored = cluster.moto.client.get_object(Bucket="archive", Key=f"site-a/{key}")["Body"].read()
    assert stored == body
    wait_for(lambda: cluster.sql("SELECT count(*) FROM depot_tasks") == "0", 10, "the finished task's row gone")
    time.sleep(LEASE_SECONDS)
    assert sum(cluster.tier_puts(key)[n] for n in survivors) == 1
    # The event went out once too.
    assert cluster.created_events()[key] == 1


def test_a_lease_outside_its_range_is_refused_naming_the_field(tmp_path):
    for value, problem in [("1", "got 1"), ("soon", "whole number")]:
        config = cluster_config(
            tmp_path / "depot.yaml", "postgres://u:p@127.0.0.1:1/depot", "node-a", f"  leaseSeconds: {value}\n")
        result = subprocess.run(
            [DEPOT_BIN, "serve", "--config", config, "--address", "127.0.0.1:0", "--data", str(tmp_path / "data")],
            capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert "cluster.leaseSeconds" in result.stderr and problem in result.stderr, result.stderr
