"""Cluster mode (issue 21): the shared index is recoverable from the store, as embedded mode's is
from its segments. Two nodes write (objects overwritten through the other node, deleted, a
versioned bucket with versions and a delete marker); the nodes stop, the PostgreSQL database is
dropped and made again (`depot cluster init`), and `depot fsck --rebuild-index` replays the log
records of every writer's packs into it (newest record per key wins, whatever pack it is in).
A node started afterwards on a fresh data directory lists and reads every live object
byte-identical, deleted ones stay deleted, overwritten ones show the newest bytes, the versions
are as before, a write after the rebuild is newer than everything replayed (a second rebuild keeps
it), and fsck is clean. A rebuild into a filled index is refused; with --force it empties the index
first, but not while a node's heartbeat is fresh."""
import os
import subprocess
import time

import pytest

from backends import Moto
from cluster_support import chunks_section, cluster_config, postgres  # noqa: F401 (fixture)
from conftest import DEPOT_BIN, DepotServer


def depot(config, *args):
    result = subprocess.run([DEPOT_BIN, *args, "--config", config], capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def listed(client, bucket):
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return sorted(keys)


def versions(client, bucket):
    answer = client.list_object_versions(Bucket=bucket)
    found = [(v["Key"], v["VersionId"], v["IsLatest"], "version") for v in answer.get("Versions", [])]
    found += [(m["Key"], m["VersionId"], m["IsLatest"], "marker") for m in answer.get("DeleteMarkers", [])]
    return sorted(found)


@pytest.fixture
def setting(postgres, tmp_path):  # noqa: F811 (fixture)
    database = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {database}")
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/" + database
    moto = Moto()
    nodes = []
    try:
        moto.client.create_bucket(Bucket="depot-chunks")
        configs = [cluster_config(tmp_path / f"{name}.yaml", dsn, name, chunks_section(moto, tmp_path / f"cache-{name}"))
                   for name in ("node-a", "node-b", "node-c")]
        yield postgres, database, configs, nodes, moto
    finally:
        for node in nodes:
            node.cleanup()
        moto.stop()


def test_rebuild_from_the_packs_of_two_writers_restores_the_index(setting):
    postgres, database, configs, nodes, moto = setting
    a, b = (DepotServer(config=config).start() for config in configs[:2])
    nodes += [a, b]
    ca, cb = a.client(), b.client()
    ca.create_bucket(Bucket="cams")
    expected = {}
    for i in range(12):
        body = os.urandom(30_000 + 1_013 * i)
        (ca if i % 2 else cb).put_object(Bucket="cams", Key=f"clip-{i}.mp4", Body=body)
        expected[f"clip-{i}.mp4"] = body
    # Overwritten through the other node (its record lies in another writer's pack), twice for one.
    for i in (0, 3, 5):
        body = os.urandom(25_000 + i)
        (cb if i % 2 else ca).put_object(Bucket="cams", Key=f"clip-{i}.mp4", Body=body)
        expected[f"clip-{i}.mp4"] = body
    newest = os.urandom(41_000)
    cb.put_object(Bucket="cams", Key="clip-5.mp4", Body=newest)
    expected["clip-5.mp4"] = newest
    for i in (2, 7):
        (ca if i % 2 else cb).delete_object(Bucket="cams", Key=f"clip-{i}.mp4")
        del expected[f"clip-{i}.mp4"]
    # Deleted, then written again through the other node: it lives.
    ca.delete_object(Bucket="cams", Key="clip-9.mp4")
    again = os.urandom(12_345)
    cb.put_object(Bucket="cams", Key="clip-9.mp4", Body=again)
    expected["clip-9.mp4"] = again
    cb.create_bucket(Bucket="gone")
    ca.delete_bucket(Bucket="gone")

    ca.create_bucket(Bucket="history")
    cb.put_bucket_versioning(Bucket="history", VersioningConfiguration={"Status": "Enabled"})
    bodies = {}
    for n, client in enumerate((ca, cb, ca)):
        body = os.urandom(20_000 + n)
        bodies[client.put_object(Bucket="history", Key="door.mp4", Body=body)["VersionId"]] = body
    kept = os.urandom(9_999)
    ca.put_object(Bucket="history", Key="yard.mp4", Body=kept)
    cb.delete_object(Bucket="history", Key="yard.mp4")  # a delete marker
    versions_before = versions(ca, "history")
    assert len(versions_before) == 5

    for node in (a, b):
        assert node.stop() == 0
    postgres.psql(f"DROP DATABASE {database}")
    postgres.psql(f"CREATE DATABASE {database}")
    code, out = depot(configs[0], "cluster", "init")
    assert code == 0, out
    code, out = depot(configs[0], "fsck", "--rebuild-index")
    assert code == 0, out
    assert "rebuilt index: 2 buckets," in out, out
    # Every pack has its live-bytes row (0 when nothing in it is live, as commits write it), so
    # fsck and compaction see none as an orphan whose log records could be deleted.
    packs = moto.client.list_objects_v2(Bucket="depot-chunks", Prefix="site-a/packs/")["KeyCount"]
    rows = int(postgres.psql("SELECT count(*) FROM depot_segments WHERE length(k) = 8", database=database))
    assert packs >= 2 and rows == packs, (packs, rows)

    c = DepotServer(config=configs[2]).start()
    nodes.append(c)
    cc = c.client()
    assert sorted(bucket["Name"] for bucket in cc.list_buckets()["Buckets"]) == ["cams", "history"]
    assert listed(cc, "cams") == sorted(expected)
    for key, body in expected.items():
        assert cc.get_object(Bucket="cams", Key=key)["Body"].read() == body, key
    for key in ("clip-2.mp4", "clip-7.mp4"):
        with pytest.raises(cc.exceptions.NoSuchKey):
            cc.get_object(Bucket="cams", Key=key)
    assert versions(cc, "history") == versions_before
    for version, body in bodies.items():
        assert cc.get_object(Bucket="history", Key="door.mp4", VersionId=version)["Body"].read() == body
    assert listed(cc, "history") == ["door.mp4"]
    assert cc.get_bucket_versioning(Bucket="history")["Status"] == "Enabled"

    # A write after the rebuild takes a number above every replayed record: it is the newest.
    later = os.urandom(8_000)
    cc.put_object(Bucket="cams", Key="clip-5.mp4", Body=later)
    assert cc.get_object(Bucket="cams", Key="clip-5.mp4")["Body"].read() == later
    latest = cc.put_object(Bucket="history", Key="door.mp4", Body=later)["VersionId"]
    assert [v["VersionId"] for v in cc.list_object_versions(Bucket="history", Prefix="door.mp4")["Versions"]
            if v["IsLatest"]] == [latest]

    code, out = depot(configs[2], "fsck")
    assert code == 0, out
    # Into an index that holds rows, a rebuild would mix two histories: refused, nothing changed.
    code, out = depot(configs[2], "fsck", "--rebuild-index")
    assert code != 0 and "not empty" in out, out
    assert cc.get_object(Bucket="cams", Key="clip-5.mp4")["Body"].read() == later

    # Those later records carry numbers above the replayed ones, so a second rebuild from the
    # packs (the first writers' and the new node's) keeps them as the newest too.
    assert c.stop() == 0
    postgres.psql(f"DROP DATABASE {database}")
    postgres.psql(f"CREATE DATABASE {database}")
    assert depot(configs[2], "cluster", "init")[0] == 0
    code, out = depot(configs[2], "fsck", "--rebuild-index")
    assert code == 0, out
    d = DepotServer(config=configs[1]).start()
    nodes.append(d)
    cd = d.client()
    assert cd.get_object(Bucket="cams", Key="clip-5.mp4")["Body"].read() == later
    assert cd.get_object(Bucket="history", Key="door.mp4")["Body"].read() == later
    assert len(versions(cd, "history")) == 6

    # --force empties a filled index first, but never under a running node (its heartbeat is fresh).
    # The node registers just after its listener is up (NodeHeartbeat): wait for its row, which a
    # loaded machine may write a moment after the requests above were answered.
    deadline = time.time() + 20
    while not postgres.psql("SELECT name FROM depot_nodes WHERE name = 'node-b' AND heartbeat_at > now() - "
                            "interval '10 seconds'", database=database) and time.time() < deadline:
        time.sleep(0.1)
    code, out = depot(configs[1], "fsck", "--rebuild-index", "--force")
    assert code != 0 and "node-b" in out and "stop them first" in out, out
    assert cd.get_object(Bucket="cams", Key="clip-5.mp4")["Body"].read() == later
    assert d.stop() == 0
    # Backdated as 15 s without a heartbeat would leave the rows, rather than waiting that long.
    postgres.psql("UPDATE depot_nodes SET heartbeat_at = now() - interval '1 minute'", database=database)
    code, out = depot(configs[1], "fsck", "--rebuild-index", "--force")
    assert code == 0, out
    assert "rebuilt index: 2 buckets," in out, out
    a.start()
    ca = a.client()
    assert listed(ca, "cams") == sorted(expected)
    assert ca.get_object(Bucket="cams", Key="clip-5.mp4")["Body"].read() == later
    assert len(versions(ca, "history")) == 6
    code, out = depot(configs[0], "fsck")
    assert code == 0, out
