"""A tier that goes away for 30 s mid-run (a TCP proxy in front of moto_server is stopped and
started again, so moto keeps its data), and Depot killed with SIGKILL mid-replication."""
import hashlib
import os
import time

import pytest

from backends import Moto, TcpProxy
from conftest import DepotServer


@pytest.fixture
def moto():
    backend = Moto()
    yield backend
    backend.stop()


def config_for(tmp_path, endpoint, extra=""):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{endpoint}", bucket: archive, accessKey: tier-key, secretKey: tier-secret,
       concurrency: 4, multipartThreshold: 8MiB, partSize: 5MiB{extra} }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [cloud] }} }}
""")
    return str(config)


def statuses(s3, keys):
    return {key: s3.head_object(Bucket="rec", Key=key).get("ReplicationStatus") for key in keys}


def wait_all_completed(s3, keys, timeout):
    deadline = time.time() + timeout
    current = {}
    while time.time() < deadline:
        current = statuses(s3, keys)
        if all(v == "COMPLETED" for v in current.values()):
            return
        time.sleep(0.5)
    waiting = {k: v for k, v in current.items() if v != "COMPLETED"}
    raise AssertionError(f"not replicated after {timeout}s: {waiting}")


def assert_identical_on_tier(moto, objects):
    for key, data in objects.items():
        remote = moto.client.get_object(Bucket="archive", Key=key)
        assert hashlib.sha256(remote["Body"].read()).hexdigest() == hashlib.sha256(data).hexdigest(), key
        assert remote["Metadata"].get("camera") == key.split("/")[0], key


def test_a_30_second_outage_loses_nothing(tmp_path, moto):
    proxy = TcpProxy(moto.port).start()
    server = DepotServer(config=config_for(tmp_path, f"http://127.0.0.1:{proxy.port}")).start()
    try:
        s3 = server.client()
        objects = {}

        def put(key, size):
            data = os.urandom(size)
            s3.put_object(Bucket="rec", Key=key, Body=data, Metadata={"camera": key.split("/")[0]})
            objects[key] = data

        for i in range(20):
            put(f"cam{i % 4}/before-{i:02d}.mp4", 10_000 + i * 7919)
        wait_all_completed(s3, list(objects), timeout=60)

        # A large copy is cut mid-transfer by the outage.
        put("cam0/cut-mid-copy.mp4", 40 << 20)
        time.sleep(0.3)
        proxy.stop()
        outage_started = time.time()
        for i in range(20):
            put(f"cam{i % 4}/during-{i:02d}.mp4", 20_000 + i * 7919)
        time.sleep(2)
        during = statuses(s3, [k for k in objects if "/during-" in k])
        assert set(during.values()) == {"PENDING"}, during
        time.sleep(max(0, 30 - (time.time() - outage_started)))
        proxy.start()
        back = time.time()
        wait_all_completed(s3, list(objects), timeout=90)
        # The breaker probes a down tier at most 30 s apart and then retries its queue at once.
        assert time.time() - back < 60
        assert_identical_on_tier(moto, objects)
        assert "answers again" in server.logs()
    finally:
        proxy.stop()
        server.cleanup()


def test_kill_9_mid_replication_resumes_after_restart(tmp_path, moto):
    # A bandwidth limit makes the copies slow enough to be caught in flight.
    config = config_for(tmp_path, moto.endpoint, extra=", bandwidth: 1MiB")
    server = DepotServer(config=config).start()
    try:
        s3 = server.client()
        objects = {}
        for i in range(8):
            data = os.urandom(1 << 20)
            key = f"cam{i % 2}/clip-{i}.mp4"
            s3.put_object(Bucket="rec", Key=key, Body=data, Metadata={"camera": f"cam{i % 2}"})
            objects[key] = data
        time.sleep(2.5)
        before = statuses(s3, list(objects))
        assert "PENDING" in before.values(), before
        server.kill9()
        server.start()
        s3 = server.client()
        wait_all_completed(s3, list(objects), timeout=120)
        assert_identical_on_tier(moto, objects)
    finally:
        server.cleanup()
