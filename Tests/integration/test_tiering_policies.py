"""Policy matching by key pattern and tags, tier bandwidth limits and time windows, and
configuration reloads (a change to the file, SIGHUP, a broken file) against a filesystem tier."""
import os
import signal
import time

import pytest

from conftest import DepotServer
from waiting import wait_for

PADDED = 4096  # configuration files padded to one size, so an edit can be hidden from the file watch


def write_config(path, text, keep_mtime_of=None):
    """Writes the configuration in place, padded to a fixed size; with `keep_mtime_of`, restores
    the earlier modification time, so only SIGHUP can tell the server the file changed."""
    stat = os.stat(path) if keep_mtime_of else None
    body = text + "\n"
    assert len(body) < PADDED
    body += "#" * (PADDED - len(body) - 1) + "\n"
    with open(path, "r+" if os.path.exists(path) else "w") as f:
        f.seek(0)
        f.write(body)
        f.truncate()
    if stat:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def tier_config(nas, window=None, bandwidth=None, policies=None):
    extra = ""
    if window:
        extra += f', window: "{window}"'
    if bandwidth:
        extra += f", bandwidth: {bandwidth}"
    return f"""
buckets: [rec]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}", includeBucket: true{extra} }}
policies:
{policies or '  - { name: all, match: { bucket: rec }, replicate: { to: [nas] } }'}
"""


def status(s3, key):
    return s3.head_object(Bucket="rec", Key=key).get("ReplicationStatus")


@pytest.fixture
def nas(tmp_path):
    path = tmp_path / "nas"
    path.mkdir()
    return path


def start(tmp_path, text):
    config = tmp_path / "depot.yaml"
    write_config(config, text)
    return DepotServer(config=str(config)).start(), config


def test_key_pattern_and_tags_choose_what_replicates(tmp_path, nas):
    policies = """  - name: front-mp4-kept
    match: { bucket: rec, key: "front-*/**/*.mp4", tags: { keep: "yes" } }
    replicate: { to: [nas] }"""
    server, _ = start(tmp_path, tier_config(nas, policies=policies))
    try:
        s3 = server.client()
        cases = {
            "front-door/2026/11/25/a.mp4": ("keep=yes", True),
            "front-door/b.mp4": ("keep=yes&other=1", True),
            "front-door/2026/c.mkv": ("keep=yes", False),
            "back-door/2026/d.mp4": ("keep=yes", False),
            "front-door/2026/e.mp4": ("keep=no", False),
            "front-door/2026/f.mp4": (None, False),
        }
        for key, (tagging, _) in cases.items():
            extra = {"Tagging": tagging} if tagging else {}
            s3.put_object(Bucket="rec", Key=key, Body=key.encode() * 100, **extra)
        for key, (_, replicated) in cases.items():
            if replicated:
                wait_for(lambda: status(s3, key) == "COMPLETED", what=f"{key} to replicate")
                assert (nas / "rec" / key).read_bytes() == key.encode() * 100
        for key, (_, replicated) in cases.items():
            if not replicated:
                assert status(s3, key) is None, key
                assert not (nas / "rec" / key).exists(), key
    finally:
        server.cleanup()


def closed_window():
    """A one-hour window two hours from now (the server runs in UTC here)."""
    hour = (time.gmtime().tm_hour + 2) % 24
    return f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"


def test_time_window_holds_copies_until_a_reload_opens_it(tmp_path, nas):
    server, config = start(tmp_path, tier_config(nas, window=closed_window()))
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="cam/a.mp4", Body=b"x" * 5000)
        time.sleep(3)  # several dispatch rounds: the window must keep the task queued
        assert status(s3, "cam/a.mp4") == "PENDING"
        assert not (nas / "rec" / "cam/a.mp4").exists()
        # Editing the file is enough: the watch reloads it without a restart.
        write_config(config, tier_config(nas, window="00:00-24:00"))
        wait_for(lambda: status(s3, "cam/a.mp4") == "COMPLETED", what="the copy after the window opened")
        assert (nas / "rec" / "cam/a.mp4").read_bytes() == b"x" * 5000
    finally:
        server.cleanup()


def test_sighup_reloads_policies_and_a_broken_file_changes_nothing(tmp_path, nas):
    server, config = start(tmp_path, tier_config(nas, policies="  []"))
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="before.mp4", Body=b"b" * 100)
        time.sleep(1)
        assert status(s3, "before.mp4") is None  # no policy yet
        # Same size, same modification time: the file watch cannot see this edit, only SIGHUP.
        write_config(config, tier_config(nas), keep_mtime_of=config)
        time.sleep(3)
        s3.put_object(Bucket="rec", Key="still-none.mp4", Body=b"n" * 100)
        time.sleep(1)
        assert status(s3, "still-none.mp4") is None
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded (SIGHUP)" in server.logs(), what="the SIGHUP reload")
        s3.put_object(Bucket="rec", Key="after.mp4", Body=b"a" * 100)
        wait_for(lambda: status(s3, "after.mp4") == "COMPLETED", what="the copy under the reloaded policy")
        assert (nas / "rec" / "after.mp4").read_bytes() == b"a" * 100

        # A broken file is refused with the field named; the policy in effect stays.
        write_config(config, tier_config(nas).replace("type: filesystem", "type: floppy"))
        wait_for(lambda: "configuration reload" in server.logs() and "tiers[0].type" in server.logs(),
                 what="the refused reload")
        s3.put_object(Bucket="rec", Key="after-broken.mp4", Body=b"c" * 100)
        wait_for(lambda: status(s3, "after-broken.mp4") == "COMPLETED", what="replication to go on")
        assert server.process.poll() is None
    finally:
        server.cleanup()


def test_bandwidth_limit_paces_copies(tmp_path, nas):
    # 512 KiB/s over 3 MiB: the copies cannot all be done in under ~5.5 s whatever the machine.
    server, _ = start(tmp_path, tier_config(nas, bandwidth="512KiB"))
    try:
        s3 = server.client()
        payloads = {f"cam/{i}.mp4": os.urandom(1 << 20) for i in range(3)}
        started = time.time()
        for key, data in payloads.items():
            s3.put_object(Bucket="rec", Key=key, Body=data)
        for key in payloads:
            wait_for(lambda: status(s3, key) == "COMPLETED", timeout=60, what=f"{key} to replicate")
        elapsed = time.time() - started
        assert elapsed >= 5.0, f"3 MiB at 512 KiB/s took only {elapsed:.1f}s"
        for key, data in payloads.items():
            assert (nas / "rec" / key).read_bytes() == data
    finally:
        server.cleanup()
