"""Chunk addresses stay right when many uploads are hashed together: each chunk's SHA-256 (its
content address, the key of the dedup lookup) runs in the shared multi-buffer service beside the
uploads' MD5s, where streams start, stall and end at different times. The server runs both
kernels on every pass (DEPOT_SHA256_KERNEL_MIN_LANES=1, DEPOT_MD5_KERNEL_MIN_LANES=1), since a
debug build otherwise leaves every pass to OpenSSL. 16 concurrent uploads of mixed sizes (0 B to
40 MiB, distinct bytes) must each get the MD5 of their own bytes as ETag and read back byte for
byte; `depot fsck` then re-hashes every stored chunk with OpenSSL and finds each one under the
address the service computed; and a second upload of one body stores no new chunk (its
addresses met the first upload's in the dedup lookup)."""
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import DepotServer, run_depot

MIB = 1024 * 1024

# Around the hash padding edges, the service's 64 KiB hand-over threshold and FastCDC's chunk
# sizes (chunks of up to 4 MiB), up to 40 MiB.
SIZES = [0, 1, 55, 64, 65, 64 * 1024 - 1, 64 * 1024 + 1, 300_001, MIB + 7, 3 * MIB + 17, 5 * MIB,
         9 * MIB + 1, 13 * MIB, 17 * MIB + 5, 24 * MIB + 3, 40 * MIB]


def data_bytes(directory):
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(directory) for name in names if name.endswith(".seg"))


def test_sixteen_concurrent_uploads_get_right_chunk_addresses():
    server = DepotServer(extra_env={"DEPOT_SHA256_KERNEL_MIN_LANES": "1", "DEPOT_MD5_KERNEL_MIN_LANES": "1"}).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="addresses")
        bodies = [os.urandom(size) for size in SIZES]
        start = threading.Barrier(len(SIZES))
        clients = [server.client() for _ in SIZES]

        def upload(index):
            start.wait(timeout=60)
            reply = clients[index].put_object(Bucket="addresses", Key=f"cam-{index:02d}", Body=bodies[index])
            return reply["ETag"].strip('"')

        with ThreadPoolExecutor(max_workers=len(SIZES)) as pool:
            etags = list(pool.map(upload, range(len(SIZES)), timeout=120))
        for index, size in enumerate(SIZES):
            assert etags[index] == hashlib.md5(bodies[index]).hexdigest(), f"cam-{index:02d} ({size} bytes)"
            got = s3.get_object(Bucket="addresses", Key=f"cam-{index:02d}")["Body"].read()
            assert got == bodies[index], f"cam-{index:02d} ({size} bytes) read back different bytes"

        # The same 24 MiB again: every chunk address must match one already stored.
        before = data_bytes(server.data_dir)
        s3.put_object(Bucket="addresses", Key="again", Body=bodies[14])
        assert data_bytes(server.data_dir) - before < MIB, "a repeated body stored its chunks again"
        assert s3.get_object(Bucket="addresses", Key="again")["Body"].read() == bodies[14]
        # Control: new bytes do grow the segments, so the check above can fail.
        before = data_bytes(server.data_dir)
        s3.put_object(Bucket="addresses", Key="fresh", Body=os.urandom(3 * MIB))
        assert data_bytes(server.data_dir) - before >= 3 * MIB

        server.stop()
        fsck = run_depot("fsck", "--data", server.data_dir)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    finally:
        server.cleanup()
