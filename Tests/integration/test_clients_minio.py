"""The minio Python client with its defaults."""
import datetime
import hashlib
import io
import os
import time

import requests
from minio import Minio
from minio.datatypes import PostPolicy
from minio.deleteobjects import DeleteObject

from conftest import ROOT_PASSWORD, ROOT_USER


def client(depot):
    return Minio(f"127.0.0.1:{depot.port}", access_key=ROOT_USER, secret_key=ROOT_PASSWORD, secure=False, region="us-east-1")


def test_minio_client(depot, tmp_path):
    mc = client(depot)
    assert not mc.bucket_exists("minio-test")
    mc.make_bucket("minio-test")
    assert mc.bucket_exists("minio-test")
    path = tmp_path / "hundred.bin"
    data = os.urandom(100 * 1024 * 1024)
    path.write_bytes(data)
    mc.fput_object("minio-test", "cam/hundred.bin", str(path))
    stat = mc.stat_object("minio-test", "cam/hundred.bin")
    assert stat.size == len(data) and "-" in stat.etag  # multipart: MD5 of the part MD5s, -N
    response = mc.get_object("minio-test", "cam/hundred.bin")
    assert hashlib.sha256(response.read()).digest() == hashlib.sha256(data).digest()
    response.close()
    response.release_conn()
    for i in range(5):
        mc.put_object("minio-test", f"cam/small-{i}", io.BytesIO(b"x" * i), i)
    names = [o.object_name for o in mc.list_objects("minio-test", prefix="cam/", recursive=True)]
    assert names == ["cam/hundred.bin"] + [f"cam/small-{i}" for i in range(5)]
    url = mc.presigned_get_object("minio-test", "cam/small-3", expires=datetime.timedelta(seconds=60))
    assert requests.get(url, timeout=10).content == b"xxx"
    short = mc.presigned_get_object("minio-test", "cam/small-3", expires=datetime.timedelta(seconds=1))
    time.sleep(2.1)
    assert requests.get(short, timeout=10).status_code == 403
    put_url = mc.presigned_put_object("minio-test", "cam/put-by-url", expires=datetime.timedelta(seconds=60))
    assert requests.put(put_url, data=b"by url", timeout=10).status_code == 200
    policy = PostPolicy("minio-test", datetime.datetime.utcnow() + datetime.timedelta(minutes=5))
    policy.add_starts_with_condition("key", "forms/")
    policy.add_content_length_range_condition(1, 1024 * 1024)
    form = mc.presigned_post_policy(policy)
    form["key"] = "forms/upload.bin"
    r = requests.post(f"http://127.0.0.1:{depot.port}/minio-test", data=form, files={"file": ("upload.bin", b"form data")}, timeout=10)
    assert r.status_code == 204, r.text
    assert mc.get_object("minio-test", "forms/upload.bin").read() == b"form data"
    errors = list(mc.remove_objects("minio-test", [DeleteObject(o.object_name) for o in mc.list_objects("minio-test", recursive=True)]))
    assert errors == []
    assert list(mc.list_objects("minio-test", recursive=True)) == []
    mc.remove_bucket("minio-test")
    assert not mc.bucket_exists("minio-test")
