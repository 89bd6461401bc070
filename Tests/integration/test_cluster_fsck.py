"""Cluster mode (issue 21): `depot fsck` checks the shared index (PostgreSQL) against the pack store
(moto_server) while the nodes keep serving: it opens no engine and takes no data-directory lock.
A healthy cluster is clean (exit 0) even while uploads run through both nodes; a pack deleted from
the store, a truncated pack, a damaged byte in a pack and an orphan pack (no index row points into
it, as a writer killed before its commit leaves) are each reported with exit 1, naming the pack
and the objects it costs; `--remove-orphans` deletes an orphan older than `--orphan-age`. Each
damage is repaired (the pack put back) at the end of its test."""
import os
import subprocess
import threading

import pytest

from cluster_support import PACK_BUCKET, PACKS, cluster_nodes, postgres  # noqa: F401 (fixture)
from conftest import DEPOT_BIN


class Cluster:
    """The started cluster, with fsck run on node A's configuration and the packs' bytes at hand."""

    def __init__(self, started):
        self.moto, self.nodes, self.config = started.moto, started.nodes, started.configs[0]
        self.packs = started.packs

    def fsck(self, *args):
        result = subprocess.run([DEPOT_BIN, "fsck", "--config", self.config, *args],
                                capture_output=True, text=True, timeout=120)
        return result.returncode, result.stdout

    def put_new(self, client, bucket, key, body):
        """PUTs one object while nothing else writes; returns the key of the pack it landed in."""
        before = set(self.packs())
        client.put_object(Bucket=bucket, Key=key, Body=body)
        new = [pack for pack in self.packs() if pack not in before]
        assert len(new) == 1, new
        return new[0]

    def pack_bytes(self, key):
        return self.moto.client.get_object(Bucket=PACK_BUCKET, Key=key)["Body"].read()

    def put_pack(self, key, body):
        self.moto.client.put_object(Bucket=PACK_BUCKET, Key=key, Body=body)


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    # No compaction: the tests damage packs and must find them where they left them.
    with cluster_nodes(postgres, tmp_path_factory, ["node-a", "node-b"], "storage: { gcIntervalSeconds: 0 }\n") as started:
        started.nodes[0].client().create_bucket(Bucket="rec")
        yield Cluster(started)


def test_a_healthy_cluster_is_clean_while_uploads_run_through_both_nodes(cluster):
    a, b = (node.client() for node in cluster.nodes)
    for i in range(6):
        a.put_object(Bucket="rec", Key=f"before/{i}.mp4", Body=os.urandom(150_000))
    stop = threading.Event()
    written = []

    def upload(client, name):
        i = 0
        while not stop.is_set():
            key = f"during/{name}-{i}.mp4"
            client.put_object(Bucket="rec", Key=key, Body=os.urandom(80_000 + i))
            if i % 3 == 2:
                client.delete_object(Bucket="rec", Key=key)
            written.append(key)
            i += 1

    threads = [threading.Thread(target=upload, args=(client, name)) for client, name in ((a, "a"), (b, "b"))]
    for thread in threads:
        thread.start()
    try:
        for args in ([], ["--full"]):
            code, out = cluster.fsck(*args)
            assert code == 0, out
            assert "problem:" not in out
            assert out.strip().splitlines()[-1].endswith(": clean"), out
            assert "live (" in out  # the live-ratio summary, one line per pack
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(written) > 4, "uploads ran while fsck did"
    code, out = cluster.fsck("--full")
    assert code == 0, out


def test_a_pack_deleted_from_the_store_is_reported_with_its_objects(cluster):
    a = cluster.nodes[0].client()
    pack = cluster.put_new(a, "rec", "lost/clip.mp4", os.urandom(120_000))
    saved = cluster.pack_bytes(pack)
    cluster.moto.client.delete_object(Bucket=PACK_BUCKET, Key=pack)
    try:
        code, out = cluster.fsck()
        assert code == 1, out
        name = pack[len(PACKS):]
        assert f"object rec/lost/clip.mp4: chunk" in out and f"points into pack {name}, which is not in the store" in out
        assert "commit record's pack " + name in out
        assert "problems" in out.strip().splitlines()[-1]
    finally:
        cluster.put_pack(pack, saved)
    assert cluster.fsck()[0] == 0


def test_a_truncated_pack_is_reported_with_its_objects(cluster):
    b = cluster.nodes[1].client()
    pack = cluster.put_new(b, "rec", "short/clip.mp4", os.urandom(100_000))
    saved = cluster.pack_bytes(pack)
    cluster.put_pack(pack, saved[: len(saved) // 2])
    try:
        code, out = cluster.fsck()
        assert code == 1, out
        name = pack[len(PACKS):]
        assert "object rec/short/clip.mp4: chunk" in out
        assert f"past the end of pack {name} ({len(saved) // 2} bytes)" in out
    finally:
        cluster.put_pack(pack, saved)
    assert cluster.fsck()[0] == 0


def test_a_damaged_byte_in_a_pack_is_reported_with_its_objects(cluster):
    a = cluster.nodes[0].client()
    body = os.urandom(90_000)
    pack = cluster.put_new(a, "rec", "rot/clip.mp4", body)
    saved = cluster.pack_bytes(pack)
    damaged = bytearray(saved)
    damaged[16 + 56 + 5000] ^= 0x01  # a byte of the chunk's payload (file header, record header)
    cluster.put_pack(pack, bytes(damaged))
    try:
        for args in ([], ["--full"]):
            code, out = cluster.fsck(*args)
            assert code == 1, out
            assert "object rec/rot/clip.mp4: chunk" in out, out
            assert f"at {pack[len(PACKS):]}+16: its record's CRC does not check" in out
    finally:
        cluster.put_pack(pack, saved)
    assert cluster.fsck("--full")[0] == 0
    # The node read it back from its own cache all along; the store's copy is whole again.
    assert a.get_object(Bucket="rec", Key="rot/clip.mp4")["Body"].read() == body


def test_an_orphan_pack_is_a_note_while_young_a_problem_when_old_and_removable(cluster):
    # A pack a writer stored but never committed (killed in between): a well-formed pack under a
    # writer id the index has never seen.
    some = next(iter(cluster.packs()))
    orphan = PACKS + "0badc0de/00000001"
    cluster.put_pack(orphan, cluster.pack_bytes(some))
    code, out = cluster.fsck()
    assert code == 0, out
    assert "note: pack 0badc0de/00000001:" in out and "not in the index yet" in out
    code, out = cluster.fsck("--orphan-age", "0")
    assert code == 1, out
    assert "problem: pack 0badc0de/00000001: orphan:" in out and "--remove-orphans" in out
    assert orphan in cluster.packs()
    code, out = cluster.fsck("--orphan-age", "0", "--remove-orphans")
    assert code == 0, out
    assert "pack 0badc0de/00000001: orphan" in out and "removed" in out
    assert orphan not in cluster.packs()
    # Nothing else was taken for an orphan: every object still reads.
    a = cluster.nodes[0].client()
    for item in a.list_objects_v2(Bucket="rec", Prefix="before/")["Contents"]:
        a.get_object(Bucket="rec", Key=item["Key"])["Body"].read()
    assert cluster.fsck("--full")[0] == 0


def test_depot_gc_with_a_cluster_configuration_says_the_nodes_compact(cluster):
    result = subprocess.run([DEPOT_BIN, "gc", "--config", cluster.config], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "the nodes compact the packs themselves" in result.stderr
