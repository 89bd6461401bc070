"""1 GiB up and back with awscli and boto3, byte-identical, with the server's memory bounded."""
import hashlib
import os
import subprocess
import threading
import time

import pytest
from boto3.s3.transfer import TransferConfig

from conftest import aws_env

GIB = 1024 * 1024 * 1024


@pytest.fixture(scope="module")
def gib_file(tmp_path_factory):
    """1 GiB of pseudo-random bytes: a 64 MiB random block, each copy salted with its index so
    the file does not deduplicate into 16 identical pieces."""
    path = tmp_path_factory.mktemp("large") / "one-gib.bin"
    block = bytearray(os.urandom(64 * 1024 * 1024))
    sha = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(16):
            block[0:8] = i.to_bytes(8, "little")
            block[-8:] = i.to_bytes(8, "big")
            f.write(block)
            sha.update(block)
    yield str(path), sha.hexdigest()
    os.unlink(path)


def sha256_of(path):
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            sha.update(chunk)
    return sha.hexdigest()


class RSSSampler(threading.Thread):
    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.peak = 0
        self.running = True

    def run(self):
        while self.running:
            try:
                self.peak = max(self.peak, self.server.rss_bytes())
            except OSError:
                pass
            time.sleep(0.2)

    def stop(self):
        self.running = False
        self.join()
        return self.peak


def test_awscli_cp_one_gib_up_and_back(depot, s3, bucket, gib_file, tmp_path):
    path, digest = gib_file
    env = aws_env(depot, tmp_path)
    sampler = RSSSampler(depot)
    sampler.start()
    up = subprocess.run(["aws", "--endpoint-url", depot.endpoint, "s3", "cp", path, f"s3://{bucket}/one-gib.bin"],
                        env=env, capture_output=True, text=True, timeout=900)
    assert up.returncode == 0, up.stderr
    back = tmp_path / "back.bin"
    down = subprocess.run(["aws", "--endpoint-url", depot.endpoint, "s3", "cp", f"s3://{bucket}/one-gib.bin", str(back)],
                          env=env, capture_output=True, text=True, timeout=900)
    peak = sampler.stop()
    assert down.returncode == 0, down.stderr
    assert os.path.getsize(back) == GIB
    assert sha256_of(back) == digest
    assert peak < 512 * 1024 * 1024, f"server RSS peaked at {peak >> 20} MiB"


def test_boto3_single_put_of_one_gib_streams(depot, s3, bucket, gib_file, tmp_path):
    path, digest = gib_file
    single = TransferConfig(multipart_threshold=2 * GIB)
    sampler = RSSSampler(depot)
    sampler.start()
    s3.upload_file(path, bucket, "single.bin", Config=single)
    back = tmp_path / "single-back.bin"
    s3.download_file(bucket, "single.bin", str(back), Config=single)
    peak = sampler.stop()
    assert sha256_of(back) == digest
    head = s3.head_object(Bucket=bucket, Key="single.bin")
    assert head["ContentLength"] == GIB and "-" not in head["ETag"]
    assert peak < 512 * 1024 * 1024, f"server RSS peaked at {peak >> 20} MiB"
