"""Cluster mode (issue 21): pack compaction. Two `depot serve` nodes share a private PostgreSQL
index and a moto_server chunk store, compact every second (storage.gcIntervalSeconds) and delete
a retired pack 2 s after retiring it (DEPOT_PACK_GRACE_SECONDS). Objects are written, most are
deleted, and compaction repacks the packs whose live ratio fell: the store then holds fewer bytes,
every remaining object reads byte-identical through both nodes, a chunk shared by two keys
(deduplicated) survives the delete of one of them, and the live bytes are counted per pack
(writer and sequence), so two writers' packs of one sequence number are told apart."""
import os
import re
import time

import pytest

from cluster_support import cluster_nodes, postgres  # noqa: F401 (fixture)
from waiting import wait_for

COMPACTION_LOCK = (0x64_6570_6f74 << 8) | 3

@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    with cluster_nodes(postgres, tmp_path_factory, ["node-a", "node-b"], "storage: { gcIntervalSeconds: 1 }\n",
                       extra_env={"DEPOT_PACK_GRACE_SECONDS": "2"}) as started:
        yield started


def test_compaction_repacks_what_deletes_left_and_every_remaining_object_reads_back(cluster):
    a, b = (node.client() for node in cluster.nodes)
    a.create_bucket(Bucket="rec")
    shared = os.urandom(300_000)
    bodies = {}
    # One pack per PUT (each commit seals the open pack), alternating writers.
    for i in range(24):
        key = f"cam-{i % 3}/clip-{i:02}.mp4"
        bodies[key] = os.urandom(200_000 + 1000 * i)
        (a if i % 2 == 0 else b).put_object(Bucket="rec", Key=key, Body=bodies[key])
    # The same bytes under two keys, through two nodes: one chunk set, two references.
    a.put_object(Bucket="rec", Key="dedup/one.mp4", Body=shared)
    b.put_object(Bucket="rec", Key="dedup/two.mp4", Body=shared)
    before = cluster.packs()
    assert len(before) >= 20
    # Live bytes are kept per pack (8-byte keys: writer, sequence), not per sequence number.
    per_pack_rows = int(cluster.sql("SELECT count(*) FROM depot_segments WHERE length(k) = 8"))
    assert per_pack_rows >= 20
    assert int(cluster.sql("SELECT count(*) FROM depot_segments WHERE length(k) = 4")) == 0

    deleted = [key for index, key in enumerate(sorted(bodies)) if index % 6 != 0]
    for index, key in enumerate(deleted):
        (b if index % 2 else a).delete_object(Bucket="rec", Key=key)
        del bodies[key]
    a.delete_object(Bucket="rec", Key="dedup/one.mp4")

    # Compaction retires the emptied packs, and deletes them once their grace period passed.
    # The deletes' own packs (a tombstone each) are repacked too, into the compacting node's pack.
    wait_for(lambda: sum(cluster.packs().values()) < sum(before.values()) * 0.5
             and len(cluster.packs()) < len(before) * 0.5, 45, "the store to shrink")
    # A retirement row outlives its pack (16 bytes once deleted: retired at, deleted at).
    wait_for(lambda: int(cluster.sql("SELECT count(*) FROM depot_segments WHERE length(k) = 9 AND length(v) = 8")) == 0,
             45, "retired packs to be deleted")
    assert int(cluster.sql("SELECT count(*) FROM depot_segments WHERE length(k) = 9 AND length(v) = 16")) > 0
    after = cluster.packs()
    print(f"packs {len(before)} -> {len(after)}, bytes {sum(before.values())} -> {sum(after.values())}")
    # The remaining objects' bytes are worth keeping: the store holds about them, not the deleted ones.
    remaining_bytes = sum(len(body) for body in bodies.values()) + len(shared)
    assert sum(after.values()) < remaining_bytes * 2

    for client in (a, b):
        for key, body in bodies.items():
            assert client.get_object(Bucket="rec", Key=key)["Body"].read() == body, key
        assert client.get_object(Bucket="rec", Key="dedup/two.mp4")["Body"].read() == shared
        ranged = client.get_object(Bucket="rec", Key="dedup/two.mp4", Range="bytes=1000-50999")
        assert ranged["Body"].read() == shared[1000:51000]
    # Every chunk the index holds points into a pack the store has.
    logs = "".join(node.logs() for node in cluster.nodes)
    assert "background compaction failed" not in logs
    assert "compaction:" not in logs  # no problem reported
    assert re.search(r"compacted \d+ segments", logs)


def test_one_node_at_a_time_compacts_and_new_writes_after_compaction_read_back(cluster):
    a, b = (node.client() for node in cluster.nodes)
    a.create_bucket(Bucket="later")
    high, low = COMPACTION_LOCK >> 32, COMPACTION_LOCK & 0xFFFFFFFF
    holders = cluster.sql(
        "SELECT count(*) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
        f"AND l.classid = {high} AND l.objid = {low} AND l.objsubid = 1")
    assert int(holders) == 1
    # Writes and deletes go on while the nodes compact: nothing written is lost.
    bodies = {f"k{i}": os.urandom(50_000 + i) for i in range(12)}
    for i, (key, body) in enumerate(bodies.items()):
        (a if i % 2 else b).put_object(Bucket="later", Key=key, Body=body)
        if i % 3 == 0:
            (b if i % 2 else a).delete_object(Bucket="later", Key=key)
    time.sleep(4)  # a few compaction rounds and grace periods
    for i, (key, body) in enumerate(bodies.items()):
        for client in (a, b):
            if i % 3 == 0:
                with pytest.raises(client.exceptions.NoSuchKey):
                    client.get_object(Bucket="later", Key=key)
            else:
                assert client.get_object(Bucket="later", Key=key)["Body"].read() == body, key
