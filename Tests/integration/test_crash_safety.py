"""An acknowledged write survives kill -9; nothing half-written ever becomes visible."""
import hashlib
import io
import os
import random
import threading
import time

import pytest

from conftest import DepotServer, run_depot


class SlowBody(io.BytesIO):
    """A seekable body (botocore reads it once for its CRC32 and again to send it) that hands
    out small pieces slowly, so uploads are mid-stream when the server is killed."""

    def __init__(self, size, seed):
        data = random.Random(seed).randbytes(size)
        super().__init__(data)
        self.digest = hashlib.sha256(data).hexdigest()

    def read(self, n=-1):
        if n is None or n < 0 or n > 256 * 1024:
            n = 256 * 1024
        time.sleep(0.002)
        return super().read(n)


def test_kill_minus_9_during_20_concurrent_uploads(tmp_path):
    server = DepotServer(data_dir=str(tmp_path / "data")).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="crash")
        acknowledged = {}
        attempted = []
        lock = threading.Lock()

        def upload(i):
            size = random.Random(i).randint(8, 40) * 1024 * 1024
            key = f"cam-{i:02d}/recording.mp4"
            body = SlowBody(size, seed=i)
            with lock:
                attempted.append(key)
            try:
                client = server.client()
                client.put_object(Bucket="crash", Key=key, Body=body)
                with lock:
                    acknowledged[key] = (size, body.digest)
            except Exception:
                pass

        threads = [threading.Thread(target=upload, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        # Kill once some uploads have completed and others are still streaming.
        deadline = time.time() + 60
        while time.time() < deadline and len(acknowledged) < 3:
            time.sleep(0.05)
        server.kill9()
        for t in threads:
            t.join(timeout=120)
        assert 0 < len(acknowledged) < 20, f"{len(acknowledged)} uploads finished before the kill"

        server.start()
        s3 = server.client()
        listed = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket="crash").get("Contents", [])}
        for key, (size, digest) in acknowledged.items():
            assert key in listed, f"acknowledged {key} lost"
            body = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            assert len(body) == size and hashlib.sha256(body).hexdigest() == digest, key
        # Nothing that was not acknowledged, and never a 0-byte or partial object.
        for key, size in listed.items():
            assert size > 0
            if key not in acknowledged:
                # An upload may have committed right before the kill without its 200 arriving;
                # then it must be complete.
                i = int(key[4:6])
                expected = random.Random(i).randint(8, 40) * 1024 * 1024
                assert size == expected, f"partial object {key}: {size} of {expected}"
        server.stop()
        fsck = run_depot("fsck", "--data", server.data_dir)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        assert "clean" in fsck.stdout
    finally:
        server.cleanup()
