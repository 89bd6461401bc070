"""ETags stay right when many uploads are hashed together: the S3 ETag's MD5 runs in one shared
multi-buffer service (one SIMD lane per upload), where streams start, stall and end at different
times. 16 concurrent uploads of mixed sizes (0 B to 40 MiB, some multipart) must each get the MD5
of their own bytes (or, multipart, the MD5 of the parts' MD5s with the part count)."""
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import DepotServer

MIB = 1024 * 1024
PART = 5 * MIB

# Sizes around MD5's padding edges (55/56, 63/64/65) and the service's 64 KiB hand-over
# threshold, up to 40 MiB; "multipart" ones go up in 5 MiB parts (the last one shorter).
UPLOADS = [
    (0, "put"), (1, "put"), (55, "put"), (56, "put"), (63, "put"), (64, "put"), (65, "put"),
    (64 * 1024 - 1, "put"), (64 * 1024 + 1, "put"), (3 * MIB + 17, "put"), (9 * MIB, "put"),
    (17 * MIB + 5, "put"), (40 * MIB, "put"),
    (12 * MIB + 3, "multipart"), (21 * MIB, "multipart"), (40 * MIB, "multipart"),
]


def expected_etag(data, multipart):
    if not multipart:
        return hashlib.md5(data).hexdigest()
    parts = [data[i:i + PART] for i in range(0, len(data), PART)]
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f"{hashlib.md5(joined).hexdigest()}-{len(parts)}"


def upload(client, bucket, key, data, multipart, start):
    start.wait(timeout=60)
    if not multipart:
        reply = client.put_object(Bucket=bucket, Key=key, Body=data)
        return reply["ETag"].strip('"')
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, offset in enumerate(range(0, len(data), PART), start=1):
        piece = data[offset:offset + PART]
        etag = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=piece)["ETag"]
        assert etag.strip('"') == hashlib.md5(piece).hexdigest(), f"{key} part {number}"
        parts.append({"PartNumber": number, "ETag": etag})
    reply = client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                             MultipartUpload={"Parts": parts})
    return reply["ETag"].strip('"')


@pytest.fixture(params=["default", "kernel-every-pass"])
def hashing_depot(request):
    """The server as shipped, and one that runs the SIMD kernel on every pass: a debug build's
    unoptimized kernel is slower than OpenSSL, so by default it leaves every pass to OpenSSL,
    which would leave the kernel's ETags untested here."""
    env = {"DEPOT_MD5_KERNEL_MIN_LANES": "1"} if request.param == "kernel-every-pass" else {}
    server = DepotServer(extra_env=env).start()
    yield server
    server.cleanup()


def test_sixteen_concurrent_uploads_of_mixed_sizes_get_their_own_etags(hashing_depot):
    depot = hashing_depot
    s3 = depot.client()
    bucket = "etag-concurrency"
    s3.create_bucket(Bucket=bucket)
    bodies = [os.urandom(size) for size, _ in UPLOADS]
    start = threading.Barrier(len(UPLOADS))
    clients = [depot.client() for _ in UPLOADS]
    with ThreadPoolExecutor(max_workers=len(UPLOADS)) as pool:
        futures = [
            pool.submit(upload, clients[i], bucket, f"cam-{i:02d}", bodies[i], kind == "multipart", start)
            for i, (_, kind) in enumerate(UPLOADS)
        ]
        etags = [f.result(timeout=600) for f in futures]
    for i, (size, kind) in enumerate(UPLOADS):
        want = expected_etag(bodies[i], kind == "multipart")
        assert etags[i] == want, f"cam-{i:02d} ({size} bytes, {kind})"
        head = s3.head_object(Bucket=bucket, Key=f"cam-{i:02d}")
        assert head["ETag"].strip('"') == want and head["ContentLength"] == size


def test_a_lone_upload_and_uploads_after_a_concurrent_burst_are_right(depot, s3, bucket):
    # Alone (the service hashes a lone stream with OpenSSL), then a burst, then alone again: the
    # service's worker stops when idle and must start again.
    alone = os.urandom(20 * MIB + 11)
    assert s3.put_object(Bucket=bucket, Key="alone", Body=alone)["ETag"].strip('"') == hashlib.md5(alone).hexdigest()
    burst = [os.urandom(2 * MIB + i) for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        etags = list(pool.map(lambda i: depot.client().put_object(Bucket=bucket, Key=f"burst-{i}", Body=burst[i])["ETag"],
                              range(8)))
    assert [e.strip('"') for e in etags] == [hashlib.md5(b).hexdigest() for b in burst]
    again = os.urandom(6 * MIB + 1)
    assert s3.put_object(Bucket=bucket, Key="again", Body=again)["ETag"].strip('"') == hashlib.md5(again).hexdigest()
