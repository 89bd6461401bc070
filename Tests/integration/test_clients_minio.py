"""The minio Python client with its default settings (no region: it asks GetBucketLocation first),
and the presigned URLs and browser POST policy forms it generates, fetched with requests."""
import datetime
import hashlib
import io
import os
import time
import xml.etree.ElementTree as ET

import pytest
import requests
from minio import Minio
from minio.datatypes import PostPolicy
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from conftest import ROOT_PASSWORD, ROOT_USER

MIB = 1024 * 1024


def client(depot):
    return Minio(f"127.0.0.1:{depot.port}", ROOT_USER, ROOT_PASSWORD, secure=False)


@pytest.fixture
def mc(depot):
    c = client(depot)
    c.make_bucket("minio-test")
    yield c
    # Leave nothing behind even when the test failed half-way (the server is discarded anyway).
    try:
        for o in c.list_objects("minio-test", recursive=True):
            c.remove_object("minio-test", o.object_name)
        c.remove_bucket("minio-test")
    except Exception:
        pass


def multipart_etag(data, part_size):
    digests = b"".join(hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size))
    return "%s-%d" % (hashlib.md5(digests).hexdigest(), (len(data) + part_size - 1) // part_size)


def s3_error(response):
    root = ET.fromstring(response.content)
    assert root.tag == "Error", response.text
    return root.findtext("Code"), root.findtext("Message") or ""


def test_buckets(depot):
    c = client(depot)
    assert not c.bucket_exists("minio-buckets")
    c.make_bucket("minio-buckets")
    assert c.bucket_exists("minio-buckets")
    assert "minio-buckets" in [b.name for b in c.list_buckets()]
    c.make_bucket("minio-buckets")  # your own bucket again, in us-east-1: 200, as MinIO answers
    c.put_object("minio-buckets", "k", io.BytesIO(b"x"), 1)
    with pytest.raises(S3Error) as e:
        c.remove_bucket("minio-buckets")
    assert e.value.code == "BucketNotEmpty"
    c.remove_object("minio-buckets", "k")
    c.remove_bucket("minio-buckets")
    assert not c.bucket_exists("minio-buckets")


def test_fput_100_mib_multipart_get_stat(mc, tmp_path):
    path = tmp_path / "hundred.bin"
    data = os.urandom(100 * MIB)
    path.write_bytes(data)
    result = mc.fput_object("minio-test", "cam/hundred.bin", str(path), content_type="video/mp4",
                            metadata={"x-amz-meta-camera": "front door"})
    stat = mc.stat_object("minio-test", "cam/hundred.bin")
    assert stat.size == len(data)
    # minio-py splits 100 MiB into 5 MiB parts: the ETag is the MD5 of the 20 part MD5s, "-20".
    assert stat.etag == multipart_etag(data, 5 * MIB) == result.etag
    assert stat.content_type == "video/mp4"
    assert stat.metadata.get("x-amz-meta-camera") == "front door"
    response = mc.get_object("minio-test", "cam/hundred.bin")
    try:
        assert hashlib.sha256(response.read()).digest() == hashlib.sha256(data).digest()
    finally:
        response.close()
        response.release_conn()
    response = mc.get_object("minio-test", "cam/hundred.bin", offset=50 * MIB - 10, length=20)
    try:
        assert response.read() == data[50 * MIB - 10:50 * MIB + 10]
    finally:
        response.close()
        response.release_conn()
    back = tmp_path / "back.bin"
    mc.fget_object("minio-test", "cam/hundred.bin", str(back))
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(data).digest()
    with pytest.raises(S3Error) as e:
        mc.stat_object("minio-test", "cam/missing.bin")
    assert e.value.code in ("NoSuchKey", "ResponseCode")  # HEAD has no body to name the code


def test_list_objects(mc):
    keys = ["cam-1/2026/a.mp4", "cam-1/2026/b.mp4", "cam-1/c.mp4", "cam-2/d.mp4", "e.mp4", "é/f.mp4"]
    for i, key in enumerate(keys):
        mc.put_object("minio-test", key, io.BytesIO(b"y" * i), i)
    everything = [o.object_name for o in mc.list_objects("minio-test", recursive=True)]
    assert everything == sorted(keys, key=lambda k: k.encode())
    top = sorted((o.object_name, o.is_dir) for o in mc.list_objects("minio-test"))
    assert top == [("cam-1/", True), ("cam-2/", True), ("e.mp4", False), ("é/", True)]
    assert sorted(o.object_name for o in mc.list_objects("minio-test", prefix="cam-1/")) == ["cam-1/2026/", "cam-1/c.mp4"]
    assert [(o.object_name, o.size) for o in mc.list_objects("minio-test", prefix="cam-1/", recursive=True)] == \
        [("cam-1/2026/a.mp4", 0), ("cam-1/2026/b.mp4", 1), ("cam-1/c.mp4", 2)]
    assert [o.object_name for o in mc.list_objects("minio-test", recursive=True, start_after="cam-2/d.mp4")] == \
        ["e.mp4", "é/f.mp4"]
    assert [o.object_name for o in mc.list_objects("minio-test", recursive=True, use_api_v1=True)] == everything


def test_presigned_get_and_expiry(mc):
    mc.put_object("minio-test", "cam/small", io.BytesIO(b"xxx"), 3)
    url = mc.presigned_get_object("minio-test", "cam/small", expires=datetime.timedelta(seconds=60))
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == b"xxx"
    overridden = mc.presigned_get_object("minio-test", "cam/small", expires=datetime.timedelta(seconds=60),
                                         response_headers={"response-content-type": "text/plain",
                                                           "response-content-disposition": "attachment; filename=s.txt"})
    r = requests.get(overridden, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-Disposition"] == "attachment; filename=s.txt"
    short = mc.presigned_get_object("minio-test", "cam/small", expires=datetime.timedelta(seconds=1))
    time.sleep(2)
    r = requests.get(short, timeout=10)
    assert r.status_code == 403, r.text
    code, message = s3_error(r)
    assert code == "AccessDenied" and "Request has expired" in message


def test_presigned_put(mc):
    url = mc.presigned_put_object("minio-test", "cam/put-by-url", expires=datetime.timedelta(seconds=60))
    r = requests.put(url, data=b"by url", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"].strip('"') == hashlib.md5(b"by url").hexdigest()
    response = mc.get_object("minio-test", "cam/put-by-url")
    try:
        assert response.read() == b"by url"
    finally:
        response.close()
        response.release_conn()
    # The URL is bound to its key: using it for another key is refused.
    other = url.replace("/cam/put-by-url?", "/cam/other?")
    r = requests.put(other, data=b"x", timeout=10)
    assert r.status_code == 403 and s3_error(r)[0] == "SignatureDoesNotMatch"


def test_presigned_post_policy(depot, mc):
    policy = PostPolicy("minio-test", datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5))
    policy.add_starts_with_condition("key", "forms/")
    policy.add_content_length_range_condition(1, MIB)
    form = mc.presigned_post_policy(policy)
    url = f"http://127.0.0.1:{depot.port}/minio-test"
    r = requests.post(url, data=dict(form, key="forms/upload.bin"),
                      files={"file": ("upload.bin", b"form data", "application/octet-stream")}, timeout=10)
    assert r.status_code in (201, 204), (r.status_code, r.text)
    response = mc.get_object("minio-test", "forms/upload.bin")
    try:
        assert response.read() == b"form data"
    finally:
        response.close()
        response.release_conn()
    # success_action_status=201 (a field the policy must name) answers PostResponse XML naming the object.
    r = requests.post(url, data=dict(form, key="forms/x.bin", success_action_status="201"),
                      files={"file": ("x.bin", b"x")}, timeout=10)
    assert r.status_code == 403 and "success_action_status" in s3_error(r)[1], r.text
    policy.add_equals_condition("success_action_status", "201")
    form201 = mc.presigned_post_policy(policy)
    r = requests.post(url, data=dict(form201, key="forms/second.bin", success_action_status="201"),
                      files={"file": ("second.bin", b"second", "application/octet-stream")}, timeout=10)
    assert r.status_code == 201, r.text
    root = ET.fromstring(r.content)
    assert root.tag.endswith("PostResponse") and any(e.text == "forms/second.bin" for e in root.iter() if e.tag.endswith("Key"))
    # A key outside the policy's prefix, and a file over the length range, are refused.
    r = requests.post(url, data=dict(form, key="elsewhere/x.bin"), files={"file": ("x.bin", b"x")}, timeout=10)
    assert r.status_code == 403 and s3_error(r)[0] == "AccessDenied", r.text
    r = requests.post(url, data=dict(form, key="forms/big.bin"), files={"file": ("big.bin", b"z" * (MIB + 1))}, timeout=30)
    assert r.status_code == 400 and s3_error(r)[0] == "EntityTooLarge", r.text
    names = [o.object_name for o in mc.list_objects("minio-test", recursive=True)]
    assert names == ["forms/second.bin", "forms/upload.bin"]


def test_remove_objects(mc):
    for i in range(30):
        mc.put_object("minio-test", f"batch/{i:02d}", io.BytesIO(b"z"), 1)
    errors = list(mc.remove_objects("minio-test", [DeleteObject(f"batch/{i:02d}") for i in range(0, 30, 2)]))
    assert errors == []
    left = [o.object_name for o in mc.list_objects("minio-test", recursive=True)]
    assert left == [f"batch/{i:02d}" for i in range(1, 30, 2)]
    # Deleting keys that do not exist is not an error in S3.
    errors = list(mc.remove_objects("minio-test", [DeleteObject(n) for n in left] + [DeleteObject("batch/none")]))
    assert errors == []
    assert list(mc.list_objects("minio-test", recursive=True)) == []
