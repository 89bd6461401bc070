"""Peer S3 servers for `make bench-peers`: moto_server, OpenStack Swift with s3api, Ceph RGW.

Each peer is started by the bench itself, on 127.0.0.1, from a work folder of its own outside the
repo, and stopped by the PIDs it started (every process, also on error or Ctrl-C). A peer whose
packages are missing is installed here (Debian's packages with apt-get, moto from PyPI): only the
bench calls this, never `make test` or CI. A peer that cannot be installed or started raises
PeerUnavailable with the reason, which the bench reports in its table.

The recipe and its pitfalls: shared/notes/peers.md (one replica, one device, no auth daemons).

    with peer:                       # start() ... stop()
        peer.endpoint, peer.keys     # where the load tool goes, and its S3 keys
        peer.pids()                  # the server's processes, for CPU accounting
"""
import shutil
import subprocess
import sys
import tempfile
import time

from peer_process import START_TIMEOUT, Peer, PeerUnavailable, descendants, ensure_installed, free_port, listening, \
    stop_on_signals, wait_for
from peer_rgw import CephRGW
from peer_swift import SwiftS3


class Moto(Peer):
    """moto_server: keeps objects in RAM and checks no signature."""
    name = "moto"

    def start(self):
        ensure_installed(["moto_server"], pip_packages=["moto[server]"])
        port = free_port()
        self.spawn("moto", ["moto_server", "-H", "127.0.0.1", "-p", str(port)])
        self.endpoint = f"http://127.0.0.1:{port}"
        wait_for(lambda: self.check_running() or listening(port), "moto_server", START_TIMEOUT)
        self.create_bucket()
        out = subprocess.run([sys.executable, "-c", "import moto; print(moto.__version__)"], capture_output=True, text=True)
        self.version = out.stdout.strip()



PEERS = {"rgw": CephRGW, "swift": SwiftS3, "moto": Moto}


if __name__ == "__main__":
    # Starts each named peer (all by default), proves a PUT/GET round trip, stops it.
    stop_on_signals()
    work = tempfile.mkdtemp(prefix="depot-peers-")
    try:
        for name in sys.argv[1:] or list(PEERS):
            began = time.monotonic()
            try:
                with PEERS[name](work) as peer:
                    print(f"{name} {peer.version}: {peer.endpoint} up in {time.monotonic() - began:.1f} s, "
                          f"pids {peer.pids()} (+children {len(descendants(peer.pids())) - len(peer.pids())})")
            except PeerUnavailable as error:
                print(f"{name}: unavailable: {error}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
