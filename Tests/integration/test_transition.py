"""Transition: after its age (on an injected clock) and once every target holds a confirmed
copy, an object's local copy is evicted, `depot gc` reclaims its chunks, and GET (whole and
ranged) streams it byte-identical from the tier."""
import hashlib
import os
import time

from conftest import DepotServer, run_depot
from waiting import wait_for_replication
from test_tiering import moto  # noqa: F401  (moto is a fixture)


def local_state(s3, key):
    return s3.head_object(Bucket="recordings", Key=key)["ResponseMetadata"]["HTTPHeaders"].get("x-depot-local-copy")


def test_transition_evicts_and_reads_through(tmp_path, moto):  # noqa: F811
    moto_endpoint, tier = moto
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
storage: {{ lifecycleInterval: 1s, segmentSize: 8MiB }}
buckets: [recordings]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto_endpoint}", bucket: archive, accessKey: k, secretKey: s }}
policies:
  - {{ name: archive, match: {{ bucket: recordings, prefix: "old/" }}, replicate: {{ to: [cloud] }}, transition: {{ after: 7d }} }}
""")
    env = {"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}
    server = DepotServer(config=str(config), extra_env=env).start()
    try:
        s3 = server.client()
        objects = {"old/a.mp4": os.urandom(20 * 1024 * 1024 + 11), "old/b.mp4": os.urandom(3000), "new/c.mp4": os.urandom(5000)}
        for key, data in objects.items():
            s3.put_object(Bucket="recordings", Key=key, Body=data)
        deadline = time.time() + 60
        while time.time() < deadline and not all(local_state(s3, k) == "evicted" for k in ["old/a.mp4", "old/b.mp4"]):
            time.sleep(0.3)
        assert local_state(s3, "old/a.mp4") == "evicted" and local_state(s3, "old/b.mp4") == "evicted"
        assert local_state(s3, "new/c.mp4") == "present"
        for key, data in objects.items():
            assert s3.get_object(Bucket="recordings", Key=key)["Body"].read() == data, key
        ranged = s3.get_object(Bucket="recordings", Key="old/a.mp4", Range="bytes=1048570-2097200")
        assert ranged["Body"].read() == objects["old/a.mp4"][1048570:2097201]
        server.stop()

        dump = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        assert sum(1 for line in dump.splitlines() if line.startswith("chunk")) == 1  # only new/c.mp4 holds a chunk
        segments = os.path.join(server.data_dir, "segments")
        before = sum(os.path.getsize(os.path.join(segments, f)) for f in os.listdir(segments))
        gc = run_depot("gc", "--data", server.data_dir, check=True)
        assert "reclaimed" in gc.stdout
        after = sum(os.path.getsize(os.path.join(segments, f)) for f in os.listdir(segments))
        assert after < before - 15 * 1024 * 1024, (before, after)
        assert run_depot("fsck", "--data", server.data_dir).returncode == 0

        server.start()
        s3 = server.client()
        for key, data in objects.items():
            assert s3.get_object(Bucket="recordings", Key=key)["Body"].read() == data, key
    finally:
        server.cleanup()


def test_read_through_is_paced_by_its_reader(tmp_path, moto):  # noqa: F811
    """A client that reads an evicted object slowly slows the download from the tier: the tier's
    bytes do not pile up in the server (the read-through once took the whole range at once)."""
    moto_endpoint, tier = moto
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
storage: {{ lifecycleInterval: 1s }}
buckets: [recordings]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto_endpoint}", bucket: archive, accessKey: k, secretKey: s }}
policies:
  - {{ name: archive, match: {{ bucket: recordings, prefix: "old/" }}, replicate: {{ to: [cloud] }}, transition: {{ after: 7d }} }}
""")
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    try:
        s3 = server.client()
        data = os.urandom(96 * 1024 * 1024)
        s3.put_object(Bucket="recordings", Key="old/big.mp4", Body=data)
        deadline = time.time() + 90
        while time.time() < deadline and local_state(s3, "old/big.mp4") != "evicted":
            time.sleep(0.3)
        assert local_state(s3, "old/big.mp4") == "evicted"
        time.sleep(1)
        before = server.rss_bytes()
        body = s3.get_object(Bucket="recordings", Key="old/big.mp4")["Body"]
        first = body.read(64 * 1024)
        time.sleep(3)
        grown = server.rss_bytes() - before
        rest = body.read()
        assert hashlib.sha256(first + rest).digest() == hashlib.sha256(data).digest()
        assert grown < 32 * 1024 * 1024, f"RSS grew by {grown >> 20} MiB while the reader waited"
    finally:
        server.cleanup()
