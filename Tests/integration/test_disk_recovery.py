"""A data device filled by uploads recovers: a reserve of free space that uploads may not use
keeps deletes and compaction working, deletes on a full device answer 204, and once objects are
deleted compaction runs at once (the emptiest segments first) so uploads are accepted again.
`depot status` and /metrics show the device's free space and the reserve. The data directory
sits on a small tmpfs (mounting it needs root; the test is skipped otherwise)."""
import json
import os
import shutil
import socket
import time

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import DepotServer, run_depot
from test_bad_input import read_response, signed_put_headers

RESERVE = 3 << 20


@pytest.fixture
def server(tmp_path, small_disk):
    config = tmp_path / "depot.yaml"
    config.write_text("storage: { segmentSize: 1MiB, reserve: 3MiB }\nbuckets: [rec]\n")
    server = DepotServer(data_dir=str(small_disk / "data"), config=str(config)).start()
    yield server
    server.cleanup()


def status(server):
    shown = run_depot("status", "--json", env={"DEPOT_ENDPOINT": server.endpoint})
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["storage"]


def put(s3, key, body):
    try:
        s3.put_object(Bucket="rec", Key=key, Body=body)
        return 200
    except ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"]


def fill_until_refused(s3, prefix):
    stored = []
    for i in range(400):
        key = f"{prefix}/{i:04d}"
        code = put(s3, key, os.urandom(200 * 1024))
        if code == 507:
            return stored
        assert code == 200
        stored.append(key)
    pytest.fail("the device never filled")


def test_status_and_metrics_show_free_space_and_the_reserve(server, small_disk):
    space = status(server)
    device = os.statvfs(small_disk)
    assert space["totalBytes"] == device.f_blocks * device.f_frsize
    assert 0 < space["freeBytes"] <= space["totalBytes"]
    assert space["reserveBytes"] == RESERVE
    human = run_depot("status", env={"DEPOT_ENDPOINT": server.endpoint})
    assert "data device:" in human.stdout and "reserve 3.0 MiB" in human.stdout, human.stdout
    metrics = requests.get(f"{server.endpoint}/metrics", timeout=10).text
    assert f"depot_space_reserve_bytes {RESERVE}" in metrics
    assert "depot_device_free_bytes " in metrics and "depot_device_total_bytes " in metrics


def test_a_device_filled_by_uploads_recovers_after_deletes(server):
    s3 = server.client()
    stored = fill_until_refused(s3, "cam")
    assert len(stored) > 20
    # Refused before the reserve was touched: deletes and compaction still have room.
    space = status(server)
    assert space["freeBytes"] + space["ballastBytes"] >= RESERVE * 3 // 4, space
    assert space["ballastBytes"] == RESERVE // 2
    assert space["spaceRefusals"] > 0
    # A PUT whose declared size does not fit is refused before its body is sent.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(signed_put_headers(server, "rec", "too-big", 8 << 20))
        assert read_response(sock, timeout=5).startswith(b"HTTP/1.1 507")

    # Deletes answer 204 on the full device; the older half goes (whole segments die).
    half = stored[: len(stored) // 2]
    for key in half:
        assert s3.delete_object(Bucket="rec", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204

    # Compaction runs by itself within seconds and uploads are accepted again; soon most of
    # what was deleted is free for uploads.
    deadline = time.time() + 15
    while put(s3, "after/0", os.urandom(200 * 1024)) != 200:
        assert time.time() < deadline, f"uploads still refused after deletes: {status(server)}"
        time.sleep(0.5)
    while status(server)["availableForUploadsBytes"] < len(half) * 200 * 1024 // 2:
        assert time.time() < deadline, f"the deleted bytes were not reclaimed: {status(server)}"
        time.sleep(0.5)
    assert len(fill_until_refused(s3, "again")) >= len(half) // 2
    for key in stored[len(stored) // 2 :][:5]:
        assert len(s3.get_object(Bucket="rec", Key=key)["Body"].read()) == 200 * 1024


def test_a_device_full_to_the_last_byte_still_deletes(server, small_disk):
    s3 = server.client()
    stored = fill_until_refused(s3, "cam")
    # Something else takes the rest, reserve included.
    with open(small_disk / "filler", "wb", buffering=0) as filler:  # unbuffered: nothing left to flush on a full device
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass
    assert os.statvfs(small_disk).f_bavail == 0
    half = stored[: len(stored) // 2]
    for key in half:
        assert s3.delete_object(Bucket="rec", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204, key
    deadline = time.time() + 15
    while put(s3, "after/0", os.urandom(200 * 1024)) != 200:
        assert time.time() < deadline, f"uploads still refused after deletes: {status(server)}"
        time.sleep(0.5)
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket="rec", MaxKeys=1000).get("Contents", [])}
    assert listed == set(stored[len(stored) // 2 :]) | {"after/0"}


def test_the_bytes_of_a_cut_off_upload_are_reclaimed_promptly(tmp_path, small_disk):
    # Segments larger than what the upload leaves: without reclaiming, its bytes would stay in
    # the active segment until it filled.
    config = tmp_path / "big-segments.yaml"
    config.write_text("storage: { segmentSize: 64MiB }\nbuckets: [rec]\n")
    server = DepotServer(data_dir=str(small_disk / "data"), config=str(config)).start()
    try:
        s3 = server.client()
        assert put(s3, "kept", os.urandom(300 * 1024)) == 200
        time.sleep(1.5)  # the ballast is made on the first pass
        before = status(server)["freeBytes"]
        sent = 10 << 20
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(signed_put_headers(server, "rec", "cut-off", 16 << 20))
            sock.sendall(os.urandom(sent))
            time.sleep(0.5)
        deadline = time.time() + 8
        while status(server)["freeBytes"] < before - (1 << 20):
            assert time.time() < deadline, f"the cut-off upload's bytes were not reclaimed: {status(server)}, before {before}"
            time.sleep(0.3)
        assert s3.get_object(Bucket="rec", Key="kept")["ContentLength"] == 300 * 1024
        assert put(s3, "later", b"room") == 200
    finally:
        server.cleanup()


def test_dead_records_are_punched_out_when_nothing_can_be_copied(server, small_disk):
    """Every other object deleted leaves each segment half live: copying the live halves needs
    room the full device does not have, punching the dead halves out needs none."""
    s3 = server.client()
    bodies = {}
    for i in range(400):
        key, body = f"cam/{i:04d}", os.urandom(200 * 1024)
        if put(s3, key, body) != 200:
            break
        bodies[key] = body
    with open(small_disk / "filler", "wb", buffering=0) as filler:  # unbuffered: nothing left to flush on a full device
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass
    keys = sorted(bodies)
    for key in keys[::2]:
        assert s3.delete_object(Bucket="rec", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204, key
        del bodies[key]
    deadline = time.time() + 15
    while put(s3, "after/0", os.urandom(100 * 1024)) != 200:
        assert time.time() < deadline, f"uploads still refused after deletes: {status(server)}"
        time.sleep(0.5)
    for key, body in bodies.items():
        assert s3.get_object(Bucket="rec", Key=key)["Body"].read() == body, key

    # The segments with punched records scan cleanly: fsck is clean and a rebuilt index holds
    # every surviving object.
    server.stop()
    os.unlink(small_disk / "filler")
    checked = run_depot("fsck", "--data", server.data_dir)
    assert checked.returncode == 0 and "problem" not in checked.stdout, checked.stdout + checked.stderr
    shutil.rmtree(os.path.join(server.data_dir, "index"))
    rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    server.start()
    s3 = server.client()
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket="rec", MaxKeys=1000).get("Contents", [])}
    assert listed == set(bodies) | {"after/0"}
    for key, body in bodies.items():
        assert s3.get_object(Bucket="rec", Key=key)["Body"].read() == body, key
