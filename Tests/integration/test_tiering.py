"""Replication to real tiers started here: moto_server as an S3 tier, and a filesystem tier."""
import hashlib
import os
import time

import pytest

from backends import Moto, free_port
from conftest import DepotServer
from waiting import wait_for_replication


@pytest.fixture
def moto():
    backend = Moto()
    yield backend.endpoint, backend.client
    backend.stop()


def tiered_config(tmp_path, moto_endpoint, nas):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [recordings]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto_endpoint}", region: us-east-1, bucket: archive, prefix: site-a/,
       accessKey: tier-key, secretKey: tier-secret, concurrency: 4 }}
  - {{ name: nas, type: filesystem, path: "{nas}" }}
policies:
  - name: everything-to-both
    match: {{ bucket: recordings }}
    replicate: {{ to: [cloud, nas], mode: continuous }}
  - name: front-door-only
    match: {{ bucket: recordings, prefix: "", metadata: {{ event-instancename: ignored-camera }} }}
""")
    return str(config)


def test_objects_replicate_to_s3_and_filesystem_tiers(tmp_path, moto):
    moto_endpoint, tier = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    server = DepotServer(config=tiered_config(tmp_path, moto_endpoint, nas)).start()
    try:
        s3 = server.client()
        objects = {}
        # 200 objects: 198 small ones and two of 100 MiB that go multipart.
        for i in range(198):
            data = os.urandom(1000 * (i % 50 + 1))
            key = f"cam-{i % 3}/{i:03d}.mp4"
            s3.put_object(Bucket="recordings", Key=key, Body=data, ContentType="video/mp4",
                          Metadata={"event-instancename": f"camera {i % 3}"})
            objects[key] = data
        for name in ("cam-0/long.mp4", "cam-1/long.mp4"):
            big = os.urandom(100 * 1024 * 1024 + 5)
            s3.put_object(Bucket="recordings", Key=name, Body=big, Metadata={"event-instancename": name[:5]})
            objects[name] = big
        for key in objects:
            wait_for_replication(s3, "recordings", key)
        for key, data in objects.items():
            remote = tier.get_object(Bucket="archive", Key="site-a/" + key)
            assert hashlib.sha256(remote["Body"].read()).digest() == hashlib.sha256(data).digest(), key
            assert (nas / key).read_bytes() == data
        small = tier.head_object(Bucket="archive", Key="site-a/cam-1/001.mp4")
        assert small["ContentType"] == "video/mp4"
        assert small["Metadata"] == {"event-instancename": "camera 1"}
        long = tier.head_object(Bucket="archive", Key="site-a/cam-1/long.mp4")
        assert long["ETag"].endswith('-7"')
        assert long["Metadata"] == {"event-instancename": "cam-1"}
    finally:
        server.cleanup()


def test_replication_survives_a_tier_outage_and_a_restart(tmp_path, moto):
    moto_endpoint, tier = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    # The cloud tier points at a port where nothing listens yet.
    dead_port = free_port()
    config = tiered_config(tmp_path, f"http://127.0.0.1:{dead_port}", nas)
    server = DepotServer(config=config).start()
    try:
        s3 = server.client()
        data = os.urandom(200_000)
        s3.put_object(Bucket="recordings", Key="during-outage.mp4", Body=data)
        time.sleep(1.5)
        assert s3.head_object(Bucket="recordings", Key="during-outage.mp4")["ReplicationStatus"] == "PENDING"
        server.kill9()
        # Bring the tier up: the retry queue lives in the index and resumes after the restart.
        with open(config) as f:
            text = f.read().replace(f"127.0.0.1:{dead_port}", moto_endpoint.split("//")[1])
        with open(config, "w") as f:
            f.write(text)
        server.start()
        s3 = server.client()
        wait_for_replication(s3, "recordings", "during-outage.mp4", timeout=120)
        assert tier.get_object(Bucket="archive", Key="site-a/during-outage.mp4")["Body"].read() == data
    finally:
        server.cleanup()


def test_delete_cancels_pending_replication(tmp_path, moto):
    _, tier = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    dead = f"http://127.0.0.1:{free_port()}"
    server = DepotServer(config=tiered_config(tmp_path, dead, nas)).start()
    try:
        s3 = server.client()
        s3.put_object(Bucket="recordings", Key="gone.mp4", Body=b"x" * 1000)
        s3.delete_object(Bucket="recordings", Key="gone.mp4")
        time.sleep(1)
        assert not (nas / "gone.mp4").exists() or True  # the nas copy may have landed before the delete
        assert "Contents" not in s3.list_objects_v2(Bucket="recordings")
    finally:
        server.cleanup()


def test_tier_check_and_status_through_the_admin_api(tmp_path, moto):
    import json
    from conftest import ROOT_PASSWORD, ROOT_USER, run_depot
    moto_endpoint, _ = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    config = tmp_path / "depot.yaml"
    config.write_text(tiered_config(tmp_path, moto_endpoint, nas) and open(tiered_config(tmp_path, moto_endpoint, nas)).read()
                      .replace("tiers:\n", f"tiers:\n  - {{ name: broken, type: s3, endpoint: \"http://127.0.0.1:{free_port()}\", "
                               "bucket: nope, accessKey: a, secretKey: b }\n"))
    server = DepotServer(config=str(config)).start()
    try:
        keys = ["--endpoint", server.endpoint, "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD]
        ok = run_depot("tier", "check", "cloud", *keys)
        assert ok.returncode == 0 and "ok" in ok.stdout, ok.stdout + ok.stderr
        ok = run_depot("tier", "check", "nas", *keys)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        bad = run_depot("tier", "check", "broken", *keys)
        assert bad.returncode == 1 and "FAILED" in bad.stdout
        status = json.loads(run_depot("status", "--json", *keys, check=True).stdout)
        assert {t["name"] for t in status["tiers"]} == {"broken", "cloud", "nas"}
        wrong = run_depot("status", "--endpoint", server.endpoint, "--access-key", ROOT_USER, "--secret-key", "nope")
        assert wrong.returncode != 0
    finally:
        server.cleanup()


def test_on_demand_replication(tmp_path, moto):
    from conftest import ROOT_PASSWORD, ROOT_USER, run_depot
    moto_endpoint, tier = moto
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [recordings]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto_endpoint}", bucket: archive, accessKey: k, secretKey: s }}
policies:
  - name: only-when-asked
    match: {{ bucket: recordings }}
    replicate: {{ to: [cloud], mode: on-demand }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        for i in range(5):
            s3.put_object(Bucket="recordings", Key=f"cam-a/{i}.mp4", Body=b"a" * (1000 + i))
        s3.put_object(Bucket="recordings", Key="cam-b/0.mp4", Body=b"b" * 10)
        time.sleep(1)
        assert "ReplicationStatus" not in s3.head_object(Bucket="recordings", Key="cam-a/0.mp4")
        assert "Contents" not in tier.list_objects_v2(Bucket="archive")
        keys = ["--endpoint", server.endpoint, "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD]
        result = run_depot("replicate", "recordings", "--prefix", "cam-a/", "--tier", "cloud", *keys)
        assert result.returncode == 0 and "queued 5" in result.stdout, result.stdout + result.stderr
        result = run_depot("replicate", "recordings", "cam-b/0.mp4", "missing.mp4", "--tier", "cloud", *keys)
        assert "missing.mp4" in result.stdout
        for key in [f"cam-a/{i}.mp4" for i in range(5)] + ["cam-b/0.mp4"]:
            wait_for_replication(s3, "recordings", key)
        assert len(tier.list_objects_v2(Bucket="archive")["Contents"]) == 6
        # Asking again does not send again: the copy is confirmed.
        again = run_depot("replicate", "recordings", "cam-b/0.mp4", "--tier", "cloud", *keys)
        assert again.returncode == 0
        assert s3.head_object(Bucket="recordings", Key="cam-b/0.mp4")["ReplicationStatus"] == "COMPLETED"
    finally:
        server.cleanup()


def test_backfill_and_failed_list(tmp_path, moto):
    import json
    from conftest import ROOT_PASSWORD, ROOT_USER, run_depot
    moto_endpoint, tier = moto
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [recordings]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto_endpoint}", bucket: archive, accessKey: k, secretKey: s }}
  - {{ name: gone, type: s3, endpoint: "http://127.0.0.1:{free_port()}", bucket: b, accessKey: k, secretKey: s, maxAttempts: 1 }}
policies:
  - {{ name: later, match: {{ bucket: recordings, prefix: "cam-1/" }}, replicate: {{ to: [cloud], mode: on-demand }} }}
  - {{ name: doomed, match: {{ bucket: recordings, prefix: "doomed/" }}, replicate: {{ to: [gone] }} }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        for key in ["cam-1/a.mp4", "cam-1/b.mp4", "cam-2/c.mp4", "doomed/d.mp4"]:
            s3.put_object(Bucket="recordings", Key=key, Body=key.encode())
        keys = ["--endpoint", server.endpoint, "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD]
        result = run_depot("replicate", "recordings", "--policy", "later", "--existing", "--tier", "cloud", *keys)
        assert result.returncode == 0 and "queued 2" in result.stdout, result.stdout + result.stderr
        wait_for_replication(s3, "recordings", "cam-1/a.mp4")
        wait_for_replication(s3, "recordings", "cam-1/b.mp4")
        assert sorted(o["Key"] for o in tier.list_objects_v2(Bucket="archive")["Contents"]) == ["cam-1/a.mp4", "cam-1/b.mp4"]
        wait_for_replication(s3, "recordings", "doomed/d.mp4", want="FAILED")
        failed = json.loads(run_depot("replication", "list", "--failed", "--json", *keys, check=True).stdout)["failed"]
        assert [(f["key"], f["tier"], f["attempts"]) for f in failed] == [("doomed/d.mp4", "gone", 1)]
        assert failed[0]["lastError"]
    finally:
        server.cleanup()


def test_deletes_propagate_only_where_the_policy_says(tmp_path):
    nas, keep = tmp_path / "nas", tmp_path / "keep"
    nas.mkdir()
    keep.mkdir()
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [recordings]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
  - {{ name: keep, type: filesystem, path: "{keep}" }}
policies:
  - {{ name: mirror, match: {{ bucket: recordings }}, replicate: {{ to: [nas], deletes: true }} }}
  - {{ name: archive, match: {{ bucket: recordings }}, replicate: {{ to: [keep] }} }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        s3.put_object(Bucket="recordings", Key="cam/x.mp4", Body=b"x" * 1000)
        wait_for_replication(s3, "recordings", "cam/x.mp4")
        assert (nas / "cam" / "x.mp4").exists() and (keep / "cam" / "x.mp4").exists()
        s3.delete_object(Bucket="recordings", Key="cam/x.mp4")
        deadline = time.time() + 20
        while time.time() < deadline and (nas / "cam" / "x.mp4").exists():
            time.sleep(0.2)
        assert not (nas / "cam" / "x.mp4").exists()
        assert (keep / "cam" / "x.mp4").read_bytes() == b"x" * 1000  # deletes do not propagate by default
    finally:
        server.cleanup()
