"""s3cmd and rclone with their defaults."""
import filecmp
import os
import random
import shutil
import subprocess

import pytest

from conftest import ROOT_PASSWORD, ROOT_USER


def s3cmd(depot, tmp_path, *args, check=True):
    config = tmp_path / "s3cfg"
    config.write_text(
        f"[default]\naccess_key = {ROOT_USER}\nsecret_key = {ROOT_PASSWORD}\nhost_base = 127.0.0.1:{depot.port}\n"
        f"host_bucket = 127.0.0.1:{depot.port}\nuse_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n")
    result = subprocess.run(["s3cmd", "-c", str(config), *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_s3cmd(depot, tmp_path):
    s3cmd(depot, tmp_path, "mb", "s3://s3cmd-test")
    small = tmp_path / "small.mp4"
    small.write_bytes(os.urandom(50_000))
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(30 * 1024 * 1024))
    s3cmd(depot, tmp_path, "put", str(small), "s3://s3cmd-test/cam/small.mp4")
    s3cmd(depot, tmp_path, "put", str(big), "s3://s3cmd-test/cam/big.mp4")
    s3cmd(depot, tmp_path, "get", "s3://s3cmd-test/cam/big.mp4", str(tmp_path / "big-back.mp4"))
    assert filecmp.cmp(big, tmp_path / "big-back.mp4", shallow=False)
    listing = s3cmd(depot, tmp_path, "ls", "s3://s3cmd-test/cam/").stdout
    assert "small.mp4" in listing and "big.mp4" in listing
    info = s3cmd(depot, tmp_path, "info", "s3://s3cmd-test/cam/small.mp4").stdout
    assert "50000" in info
    s3cmd(depot, tmp_path, "multipart", "s3://s3cmd-test")
    s3cmd(depot, tmp_path, "del", "s3://s3cmd-test/cam/small.mp4", "s3://s3cmd-test/cam/big.mp4")
    s3cmd(depot, tmp_path, "rb", "s3://s3cmd-test")


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is not installed (make deps installs it)")
def test_rclone_copy_sync_check(depot, tmp_path):
    env = dict(os.environ, RCLONE_CONFIG_DEPOT_TYPE="s3", RCLONE_CONFIG_DEPOT_PROVIDER="Minio",
               RCLONE_CONFIG_DEPOT_ENDPOINT=depot.endpoint, RCLONE_CONFIG_DEPOT_ACCESS_KEY_ID=ROOT_USER,
               RCLONE_CONFIG_DEPOT_SECRET_ACCESS_KEY=ROOT_PASSWORD, RCLONE_CONFIG_DEPOT_REGION="us-east-1")
    # rclone's S3 backend refuses to start when AWS_CA_BUNDLE is set and the endpoint is http.
    env.pop("AWS_CA_BUNDLE", None)

    def rclone(*args):
        result = subprocess.run(["rclone", *args], env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        return result

    tree = tmp_path / "tree"
    rng = random.Random(3)
    for i in range(1000):
        path = tree / f"d{i % 10}" / f"s{i % 7}" / f"f{i:04d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.choice([0, 1, 100, 4096, 70_000])))
    rclone("mkdir", "depot:rclone-test")
    rclone("copy", str(tree), "depot:rclone-test/tree", "--transfers", "8")
    rclone("check", str(tree), "depot:rclone-test/tree")
    # Change the tree: modify, delete, add; sync makes the bucket match again.
    (tree / "d0" / "s0" / "f0000.bin").write_bytes(b"changed")
    os.unlink(tree / "d1" / "s1" / "f0001.bin")
    (tree / "new.bin").write_bytes(b"new file")
    rclone("sync", str(tree), "depot:rclone-test/tree", "--transfers", "8")
    rclone("check", str(tree), "depot:rclone-test/tree")
    listing = rclone("ls", "depot:rclone-test/tree").stdout
    assert len(listing.strip().splitlines()) == 1000
    rclone("delete", "depot:rclone-test/tree")
    assert rclone("ls", "depot:rclone-test").stdout.strip() == ""
