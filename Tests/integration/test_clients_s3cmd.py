"""s3cmd with a generated configuration (path style, SigV4, plain HTTP) and otherwise its defaults:
mb, put (single and 15 MiB-part multipart), get, ls, info, multipart, del, rb."""
import hashlib
import os
import subprocess

import pytest

from conftest import ROOT_PASSWORD, ROOT_USER

MIB = 1024 * 1024


@pytest.fixture
def s3cmd(depot, tmp_path):
    config = tmp_path / "s3cfg"
    config.write_text(
        "[default]\n"
        f"access_key = {ROOT_USER}\nsecret_key = {ROOT_PASSWORD}\n"
        f"host_base = 127.0.0.1:{depot.port}\nhost_bucket = 127.0.0.1:{depot.port}\n"
        "use_https = False\nsignature_v2 = False\n")

    def run(*args, check=True, timeout=300):
        result = subprocess.run(["s3cmd", "-c", str(config), "--no-progress", *args], capture_output=True,
                                text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"s3cmd {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result
    return run


def md5_of(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def info_fields(output):
    fields = {}
    for line in output.splitlines():
        name, _, value = line.strip().partition(":")
        fields.setdefault(name.strip(), value.strip())
    return fields


def test_s3cmd_bucket_lifecycle(s3cmd, depot):
    s3cmd("mb", "s3://s3cmd-test")
    assert "s3://s3cmd-test" in s3cmd("ls").stdout
    s3cmd("mb", "s3://s3cmd-test")  # your own bucket again, in us-east-1: 200, as MinIO answers
    info = info_fields(s3cmd("info", "s3://s3cmd-test").stdout)
    assert info.get("Location") in ("us-east-1", "any", "US"), info
    s3cmd("rb", "s3://s3cmd-test")
    assert "s3://s3cmd-test" not in s3cmd("ls").stdout
    missing = s3cmd("ls", "s3://s3cmd-test", check=False)
    assert missing.returncode != 0 and "NoSuchBucket" in missing.stderr


def test_s3cmd_objects(s3cmd, depot, tmp_path):
    s3cmd("mb", "s3://s3cmd-objects")
    small = tmp_path / "small.mp4"
    small.write_bytes(os.urandom(50_000))
    s3cmd("put", "--mime-type=video/mp4", str(small), "s3://s3cmd-objects/cam/small.mp4")
    s3cmd("put", str(small), "s3://s3cmd-objects/other/copy.mp4")
    s3cmd("get", "s3://s3cmd-objects/cam/small.mp4", str(tmp_path / "small-back.mp4"))
    assert md5_of(tmp_path / "small-back.mp4") == md5_of(small)
    listing = s3cmd("ls", "s3://s3cmd-objects/cam/").stdout
    assert "s3://s3cmd-objects/cam/small.mp4" in listing and "50000" in listing
    top = s3cmd("ls", "s3://s3cmd-objects").stdout
    assert "DIR" in top and "s3://s3cmd-objects/cam/" in top and "s3://s3cmd-objects/other/" in top
    recursive = s3cmd("ls", "--recursive", "s3://s3cmd-objects").stdout.strip().splitlines()
    assert len(recursive) == 2
    info = info_fields(s3cmd("info", "s3://s3cmd-objects/cam/small.mp4").stdout)
    assert info["File size"] == "50000"
    assert info["MIME type"] == "video/mp4"
    assert info["MD5 sum"] == md5_of(small)
    assert depot.client().head_object(Bucket="s3cmd-objects", Key="cam/small.mp4")["ETag"] == '"%s"' % md5_of(small)
    s3cmd("del", "s3://s3cmd-objects/cam/small.mp4")
    assert "small.mp4" not in s3cmd("ls", "--recursive", "s3://s3cmd-objects").stdout
    missing = s3cmd("get", "s3://s3cmd-objects/cam/small.mp4", str(tmp_path / "gone"), check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stderr, missing.stderr
    s3cmd("del", "--recursive", "--force", "s3://s3cmd-objects/")
    s3cmd("rb", "s3://s3cmd-objects")


def test_s3cmd_multipart_put_and_listing(s3cmd, depot, tmp_path):
    s3cmd("mb", "s3://s3cmd-mp")
    big = tmp_path / "big.mp4"
    data = os.urandom(30 * MIB + 5)
    big.write_bytes(data)
    s3cmd("put", str(big), "s3://s3cmd-mp/cam/big.mp4")  # multipart, 15 MiB chunks by default
    s3cmd("get", "s3://s3cmd-mp/cam/big.mp4", str(tmp_path / "big-back.mp4"))
    assert hashlib.sha256((tmp_path / "big-back.mp4").read_bytes()).digest() == hashlib.sha256(data).digest()
    info = info_fields(s3cmd("info", "s3://s3cmd-mp/cam/big.mp4").stdout)
    assert info["File size"] == str(len(data))
    # s3cmd's own MD5 (kept in its metadata) is the file's; the ETag is MD5(part MD5s)-N.
    assert info["MD5 sum"] == hashlib.md5(data).hexdigest()
    s3 = depot.client()
    digests = b"".join(hashlib.md5(data[i:i + 15 * MIB]).digest() for i in range(0, len(data), 15 * MIB))
    assert s3.head_object(Bucket="s3cmd-mp", Key="cam/big.mp4")["ETag"] == '"%s-3"' % hashlib.md5(digests).hexdigest()

    # An upload left open shows up in `s3cmd multipart` and can be aborted with `abortmp`.
    uid = s3.create_multipart_upload(Bucket="s3cmd-mp", Key="cam/open.mp4")["UploadId"]
    listed = s3cmd("multipart", "s3://s3cmd-mp").stdout
    assert uid in listed and "s3://s3cmd-mp/cam/open.mp4" in listed, listed
    s3.upload_part(Bucket="s3cmd-mp", Key="cam/open.mp4", UploadId=uid, PartNumber=1, Body=b"a" * 1000)
    parts = s3cmd("listmp", "s3://s3cmd-mp/cam/open.mp4", uid).stdout
    assert hashlib.md5(b"a" * 1000).hexdigest() in parts and "1000" in parts, parts
    s3cmd("abortmp", "s3://s3cmd-mp/cam/open.mp4", uid)
    assert uid not in s3cmd("multipart", "s3://s3cmd-mp").stdout
    s3cmd("del", "s3://s3cmd-mp/cam/big.mp4")
    s3cmd("rb", "s3://s3cmd-mp")
