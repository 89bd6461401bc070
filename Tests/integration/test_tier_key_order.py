"""A key's copies reach a tier in the order the key was written: a slow copy of an older object
never lands on the tier's plain key after the copy of the object that replaced it.

Before the fix, the copy tasks of one key ran at once (a tier's `concurrency` slots); an older
object's task that saw itself current before the overwrite went on sending, finished after the
newer object's task and left the older bytes at the plain key, where readers of the tier (and
Depot itself, once a move policy evicts the local copy) take them for the current object."""
import os
import time

import pytest

from backends import Moto, TcpProxy
from conftest import DepotServer
from test_tiering_completion import config_for
from waiting import wait_for_replication

MIB = 1024 * 1024


class SlowProxy(TcpProxy):
    """Forwards the request side at about `rate` bytes/s; counts what it forwarded."""

    def __init__(self, target_port, rate):
        super().__init__(target_port)
        self.rate = rate
        self.forwarded = 0
        self.last = time.time()

    def _pump(self, source, target, upstream_bound):
        if not upstream_bound:
            return super()._pump(source, target, upstream_bound)

        def slow(data):
            with self.lock:
                self.forwarded += len(data)
                self.last = time.time()
            time.sleep(len(data) / self.rate)

        self._pipe(source, target, slow)

    def wait_idle(self, quiet=1.0, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                idle = time.time() - self.last
            if idle >= quiet:
                return
            time.sleep(0.1)
        raise AssertionError("the tier's traffic did not stop")


@pytest.fixture
def slow_tier():
    backend = Moto()
    proxy = SlowProxy(backend.port, rate=8 * MIB).start()
    yield f"http://127.0.0.1:{proxy.port}", backend.client, proxy
    proxy.stop()
    backend.stop()


def test_an_overwritten_objects_slow_copy_does_not_land_after_its_replacement(tmp_path, slow_tier):
    endpoint, tier, proxy = slow_tier
    server = DepotServer(config=config_for(tmp_path, endpoint)).start()
    try:
        s3 = server.client()
        older = os.urandom(12 * MIB)  # about 1.5 s through the proxy
        s3.put_object(Bucket="rec", Key="cam.mp4", Body=older)
        # Overwrite once the older object's copy is under way.
        deadline = time.time() + 30
        while proxy.forwarded < 2 * MIB and time.time() < deadline:
            time.sleep(0.02)
        assert proxy.forwarded >= 2 * MIB, "the older object's copy never started"
        newer = b"the replacement"
        s3.put_object(Bucket="rec", Key="cam.mp4", Body=newer)
        wait_for_replication(s3, "rec", "cam.mp4")
        proxy.wait_idle()
        assert tier.get_object(Bucket="archive", Key="cam.mp4")["Body"].read() == newer
    finally:
        server.cleanup()
