"""rclone's S3 backend (configured only through RCLONE_CONFIG_DEPOT_* variables, otherwise its
defaults): copy of a 1,000-file tree, sync after changes, check, ls, delete, purge."""
import hashlib
import os
import random
import shutil
import subprocess

import pytest

from conftest import ROOT_PASSWORD, ROOT_USER

pytestmark = pytest.mark.skipif(shutil.which("rclone") is None,
                                reason="rclone is not installed (Debian package `rclone`; `make test` installs it)")


@pytest.fixture
def rclone(depot):
    env = dict(os.environ, RCLONE_CONFIG_DEPOT_TYPE="s3", RCLONE_CONFIG_DEPOT_PROVIDER="Minio",
               RCLONE_CONFIG_DEPOT_ENDPOINT=depot.endpoint, RCLONE_CONFIG_DEPOT_ACCESS_KEY_ID=ROOT_USER,
               RCLONE_CONFIG_DEPOT_SECRET_ACCESS_KEY=ROOT_PASSWORD, RCLONE_CONFIG_DEPOT_REGION="us-east-1")
    # rclone's S3 backend refuses to start when AWS_CA_BUNDLE is set and the endpoint is plain http.
    env.pop("AWS_CA_BUNDLE", None)

    def run(*args, check=True, timeout=900):
        result = subprocess.run(["rclone", "--contimeout", "10s", "--timeout", "60s", *args], env=env,
                                capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"rclone {' '.join(args)}:\n{result.stderr[-4000:]}"
        return result
    return run


def make_tree(root, count=1000, seed=3):
    """`count` small files of varied sizes in nested directories; returns {relative path: sha256}."""
    rng = random.Random(seed)
    digests = {}
    for i in range(count):
        relative = os.path.join(f"cam-{i % 10}", f"2026-11-{20 + i % 7:02d}", f"clip-{i:04d}.bin")
        if i % 50 == 0:
            relative = os.path.join(f"cam-{i % 10}", "deep", "er", "still", f"clip-{i:04d}.bin")
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(rng.choice([0, 1, 17, 100, 4096, 65_537, 300_000]))
        path.write_bytes(data)
        digests[relative] = hashlib.sha256(data).hexdigest()
    return digests


def listing(output):
    """`rclone ls` lines: '<size> <path>' -> {path: size}."""
    entries = {}
    for line in output.strip().splitlines():
        size, _, path = line.strip().partition(" ")
        entries[path] = int(size)
    return entries


def test_rclone_copy_sync_check_delete(rclone, depot, tmp_path):
    tree = tmp_path / "tree"
    make_tree(tree)
    rclone("mkdir", "depot:rclone-test")
    rclone("copy", str(tree), "depot:rclone-test/site")
    check = rclone("check", str(tree), "depot:rclone-test/site")
    assert "0 differences found" in check.stderr and "1000 matching files" in check.stderr, check.stderr
    remote = listing(rclone("ls", "depot:rclone-test/site").stdout)
    assert remote == {os.path.relpath(os.path.join(d, f), tree): os.path.getsize(os.path.join(d, f))
                      for d, _, files in os.walk(tree) for f in files}
    s3 = depot.client()
    head = s3.head_object(Bucket="rclone-test", Key="site/cam-0/deep/er/still/clip-0000.bin")
    assert head["ETag"] == '"%s"' % hashlib.md5((tree / "cam-0/deep/er/still/clip-0000.bin").read_bytes()).hexdigest()

    # Modify, delete and add files; sync makes the remote match; check is clean again.
    (tree / "cam-0" / "2026-11-20" / "clip-0070.bin").write_bytes(b"changed content")
    (tree / "cam-1" / "2026-11-21" / "clip-0001.bin").write_bytes(os.urandom(70_000))
    for relative in ("cam-2/2026-11-22/clip-0002.bin", "cam-3/2026-11-23/clip-0003.bin", "cam-0/deep/er/still/clip-0000.bin"):
        os.unlink(tree / relative)
    (tree / "new" / "dir").mkdir(parents=True)
    (tree / "new" / "dir" / "added.bin").write_bytes(b"new file")
    sync = rclone("sync", str(tree), "depot:rclone-test/site", "-v")
    assert sync.stderr.count(": Deleted") == 3 and sync.stderr.count("Copied") == 3, sync.stderr
    check = rclone("check", str(tree), "depot:rclone-test/site")
    assert "0 differences found" in check.stderr and "998 matching files" in check.stderr, check.stderr
    # Check that really compares: a file changed behind rclone's back is reported.
    s3.put_object(Bucket="rclone-test", Key="site/new/dir/added.bin", Body=b"new filf")
    bad = rclone("check", str(tree), "depot:rclone-test/site", check=False)
    assert bad.returncode != 0 and "1 differences found" in bad.stderr, bad.stderr
    s3.put_object(Bucket="rclone-test", Key="site/new/dir/added.bin", Body=b"new file")

    # Copy back down and compare every byte.
    back = tmp_path / "back"
    rclone("copy", "depot:rclone-test/site", str(back))
    for d, _, files in os.walk(tree):
        for f in files:
            relative = os.path.relpath(os.path.join(d, f), tree)
            assert (back / relative).read_bytes() == (tree / relative).read_bytes(), relative
    assert sum(len(files) for _, _, files in os.walk(back)) == 998

    remote = listing(rclone("ls", "depot:rclone-test/site/cam-1").stdout)
    assert len(remote) == 100 and remote["2026-11-21/clip-0001.bin"] == 70_000
    rclone("delete", "depot:rclone-test/site/cam-1")
    assert rclone("ls", "depot:rclone-test/site/cam-1").stdout.strip() == ""
    assert len(listing(rclone("ls", "depot:rclone-test").stdout)) == 898
    rclone("delete", "depot:rclone-test")
    assert rclone("ls", "depot:rclone-test").stdout.strip() == ""
    rclone("rmdir", "depot:rclone-test")
    assert "rclone-test" not in rclone("lsd", "depot:").stdout


def test_rclone_large_file_multipart(rclone, depot, tmp_path):
    # rclone switches to multipart above --s3-upload-cutoff (200 MiB by default); force a small one
    # to exercise its multipart path with 5 MiB chunks without a huge file.
    big = tmp_path / "big.bin"
    data = os.urandom(23 * 1024 * 1024 + 11)
    big.write_bytes(data)
    rclone("mkdir", "depot:rclone-mp")
    rclone("copy", str(big), "depot:rclone-mp", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M")
    head = depot.client().head_object(Bucket="rclone-mp", Key="big.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-5"')
    check = rclone("check", str(tmp_path), "depot:rclone-mp", "--include", "big.bin", "--download")
    assert "0 differences found" in check.stderr, check.stderr
    rclone("purge", "depot:rclone-mp")
    assert "rclone-mp" not in rclone("lsd", "depot:").stdout
