"""A key's copies reach a tier in the order the key was written in cluster mode too: two nodes
writing successive versions of one key never leave the tier with an older version's bytes.

test_tier_key_order shows it within one server (`TasksInFlight`, TieringService.swift). Across
nodes the claim has to do it: before migration 5 a node could claim the task of the newer object
while another node was still sending the older one's copy, which it had started while that object
was current; the newer copy landed first and the older one on top of it. Now a task is claimed
only when no earlier task of its key on that tier is queued or held under a live lease
(PostgresIndex+Claims.swift). Each node reaches the tier (moto) through its own throttled proxy,
so the older object's copy takes about 2 s, and the newer object is written through the other
node while that copy is under way. The claim rules themselves (a released task, a lapsed lease,
rows whose group cannot be read) run as a Swift suite against the same PostgreSQL."""
import hashlib
import os

import pytest

from cluster_support import cluster_nodes, fresh_database, postgres, roll_back_migrations, run_swift_suites  # noqa: F401 (fixtures)
from conftest import run_depot
from test_tier_key_order import SlowProxy
from waiting import wait_for, wait_for_replication

MIB = 1024 * 1024
ROUNDS = 3


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    proxies = []

    def node_extra(name, directory, moto):
        proxy = SlowProxy(moto.port, rate=6 * MIB).start()
        proxies.append(proxy)
        return f"""tiers:
  - {{ name: cloud, type: s3, endpoint: "http://127.0.0.1:{proxy.port}", region: us-east-1, bucket: archive,
       accessKey: tier-key, secretKey: tier-secret, concurrency: 4 }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [cloud], mode: continuous }} }}
"""

    try:
        with cluster_nodes(postgres, tmp_path_factory, ["node-a", "node-b"], node_extra) as started:
            started.nodes[0].client().create_bucket(Bucket="rec")
            yield started, proxies
    finally:
        for proxy in proxies:
            proxy.stop()


def forwarded(proxies):
    with proxies[0].lock, proxies[1].lock:
        return sum(proxy.forwarded for proxy in proxies)


def test_versions_written_through_two_nodes_reach_the_tier_in_write_order(cluster):
    started, proxies = cluster
    clients = [node.client() for node in started.nodes]
    for round_number in range(ROUNDS):
        key = f"cam-{round_number}.mp4"
        first, second = (clients[0], clients[1]) if round_number % 2 == 0 else (clients[1], clients[0])
        before = forwarded(proxies)
        older = os.urandom(12 * MIB)  # about 2 s through a proxy
        first.put_object(Bucket="rec", Key=key, Body=older)
        # Overwrite through the other node once the older object's copy is under way.
        wait_for(lambda: forwarded(proxies) - before >= 2 * MIB, 30, f"{key}: the older object's copy to start")
        newer = f"the replacement of round {round_number}".encode()
        second.put_object(Bucket="rec", Key=key, Body=newer)
        # Both tasks are queued, the older one held by the node sending it, the newer one waiting
        # for it, under one key group (filled as the nodes wrote them). Checked once the tier's
        # bytes are, which say what went wrong.
        queue = started.sql("SELECT count(*) || '|' || count(*) FILTER (WHERE lease_until > now()) FROM depot_tasks")
        try:
            groups = started.sql("SELECT count(DISTINCT key_group) FROM depot_tasks")
        except Exception as error:  # an index without migration 5
            groups = str(error)
        wait_for_replication(second, "rec", key)
        for proxy in proxies:
            proxy.wait_idle()
        stored = started.moto.client.get_object(Bucket="archive", Key=key)["Body"].read()
        assert stored == newer, f"round {round_number}: the tier holds {len(stored)} bytes, not the replacement"
        assert queue == "2|1", f"round {round_number}: tasks queued|held while the older copy ran: {queue}"
        assert groups == "1", f"round {round_number}: key groups of the two tasks: {groups}"
    wait_for(lambda: started.sql("SELECT count(*) FROM depot_tasks") == "0", 10, "an empty task queue")



def test_the_claim_order_holds_on_postgresql(fresh_database):
    """Tests/DepotEngineTests/ClusterTaskOrderTests.swift, run from the test bundle the same build
    made beside DEPOT_BIN, over a database of its own."""
    output = run_swift_suites("ClusterTaskOrderTests", 120, DEPOT_TEST_POSTGRES_TASK_ORDER=fresh_database)
    assert "Suite ClusterTaskOrderTests passed" in output, output[-4000:]
    assert "skipped" not in output, output[-6000:]


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


def text(value):
    return varint(len(value.encode())) + value.encode()


def task_value(bucket, key, created, tier):
    """A replicate task's value as TierTask.encoded() writes it (version 1), written out here from
    its fields' definitions: kind, bucket, key, zigzag objectCreated, tier, attempts, onDemand,
    everyVersion, queued."""
    return (bytes([1, 1]) + text(bucket) + text(key) + varint(created << 1) + text(tier) + varint(0)
            + bytes([0, 0]) + varint(created << 1))


def test_tasks_queued_before_migration_5_get_their_key_group_when_it_runs(postgres, fresh_database):  # noqa: F811
    assert run_depot("cluster", "init", "--index", fresh_database, timeout=90).returncode == 0
    database = fresh_database.rsplit("/", 1)[1]

    def sql(query):
        return postgres.psql(query, database=database)

    # Back to the schema before migration 5, with tasks queued: two of one key, one of another
    # key, one of the same key on another tier, one whose value is not a task.
    roll_back_migrations(sql, 5)
    long_key = "cam/ünï " + "x" * 300 + ".mp4"  # a two-byte length prefix
    rows = {1: ("rec", long_key, 1733456789012, "cloud"), 2: ("rec", long_key, 1733456789013, "cloud"),
            3: ("rec", "other.mp4", 1733456789014, "cloud"), 4: ("rec", long_key, 1733456789012, "nas")}
    for k, fields in rows.items():
        sql(f"INSERT INTO depot_tasks (k, v) VALUES ('\\x{k:02x}', '\\x{task_value(*fields).hex()}')")
    sql("INSERT INTO depot_tasks (k, v) VALUES ('\\x05', '\\x0209')")
    upgrade = run_depot("cluster", "init", "--index", fresh_database, timeout=90)
    assert upgrade.returncode == 0 and "applied migration 5" in upgrade.stdout, upgrade.stdout + upgrade.stderr
    groups = dict(line.split("|") for line in sql(
        "SELECT get_byte(k, 0), coalesce(encode(key_group, 'hex'), 'none') FROM depot_tasks ORDER BY k").splitlines())
    expected = {str(k): hashlib.sha256(text(tier) + text(bucket) + text(key)).hexdigest()
                for k, (bucket, key, _, tier) in rows.items()}
    assert groups == dict(expected, **{"5": "none"})
    assert groups["1"] == groups["2"] and len({groups["1"], groups["3"], groups["4"]}) == 3
