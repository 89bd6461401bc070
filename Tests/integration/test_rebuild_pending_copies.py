"""A tier copy still PENDING when the index is rebuilt is queued again by `depot fsck
--rebuild-index` (tier tasks are working state no log record carries): without that, the copy
stayed PENDING for ever, since a re-queue request skips copies already on their way."""
import datetime
import os
import shutil
import time

from conftest import DepotServer, run_depot


def closed_window():
    # A one-minute window twelve hours away (local time, as the server reads it): nothing is sent.
    start = datetime.datetime.now() + datetime.timedelta(hours=12)
    end = start + datetime.timedelta(minutes=1)
    return f"{start:%H:%M}-{end:%H:%M}"


def write_config(path, nas, window):
    tier = f"{{ name: nas, type: filesystem, path: '{nas}'" + (f", window: '{window}'" if window else "") + " }"
    path.write_text(
        "buckets: [rec]\n"
        f"tiers: [{tier}]\n"
        "policies: [{ name: cams, match: { bucket: rec }, replicate: { to: [nas] } }]\n")


def replication_status(s3, key):
    return s3.head_object(Bucket="rec", Key=key).get("ReplicationStatus")


def test_pending_copies_are_queued_again_by_a_rebuild(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    config = tmp_path / "depot.yaml"
    write_config(config, nas, closed_window())
    server = DepotServer(data_dir=str(tmp_path / "data"), config=str(config)).start()
    try:
        s3 = server.client()
        bodies = {f"cam1/{i}.mp4": os.urandom(10_000 + i) for i in range(3)}
        for key, body in bodies.items():
            s3.put_object(Bucket="rec", Key=key, Body=body)
        time.sleep(1.0)
        assert {replication_status(s3, key) for key in bodies} == {"PENDING"}
        assert server.stop() == 0
    finally:
        server.stop()

    shutil.rmtree(os.path.join(server.data_dir, "index"))
    rebuilt = run_depot("fsck", "--rebuild-index", "--config", str(config), "--data", server.data_dir)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "restored: 3 pending tier copies queued again" in rebuilt.stdout, rebuilt.stdout

    # The window opens (the tier is configured without one now): the restored tasks run.
    write_config(config, nas, None)
    server = DepotServer(data_dir=server.data_dir, config=str(config)).start()
    try:
        s3 = server.client()
        deadline = time.time() + 20
        while time.time() < deadline and {replication_status(s3, key) for key in bodies} != {"COMPLETED"}:
            time.sleep(0.2)
        assert {replication_status(s3, key) for key in bodies} == {"COMPLETED"}
        for key, body in bodies.items():
            found = [os.path.join(root, name) for root, _, names in os.walk(nas) for name in names
                     if os.path.join(root, name).endswith(key)]
            assert found, key
            with open(found[0], "rb") as f:
                assert f.read() == body
    finally:
        server.stop()
