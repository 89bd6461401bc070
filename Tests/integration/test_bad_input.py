"""Bad input gets a proper S3 error, never a crash, a hang, a partial or a 0-byte object."""
import os
import shutil
import socket
import uuid

import botocore
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot, tmpfs


def signed_put_headers(depot, bucket, key, length):
    url = f"{depot.endpoint}/{bucket}/{key}"
    request = AWSRequest(method="PUT", url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                                                          "Content-Length": str(length)})
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    lines = [f"PUT /{bucket}/{key} HTTP/1.1", f"Host: 127.0.0.1:{depot.port}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock, timeout=10):
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data


def test_truncated_body_leaves_no_object(depot, s3, bucket):
    with socket.create_connection(("127.0.0.1", depot.port)) as sock:
        sock.sendall(signed_put_headers(depot, bucket, "truncated", 1_000_000))
        sock.sendall(os.urandom(400_000))
        sock.shutdown(socket.SHUT_WR)
        read_response(sock, timeout=5)
    # The server keeps serving, and nothing was stored.
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="truncated")


def test_body_longer_than_content_length(depot, s3, bucket):
    with socket.create_connection(("127.0.0.1", depot.port)) as sock:
        sock.sendall(signed_put_headers(depot, bucket, "longer", 1000) + os.urandom(1000) + b"GARBAGE-NOT-HTTP\r\n\r\n")
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 200")
    # Exactly the declared bytes are stored; the rest was never taken as part of the object.
    assert s3.head_object(Bucket=bucket, Key="longer")["ContentLength"] == 1000
    s3.put_object(Bucket=bucket, Key="still-alive", Body=b"ok")


def test_key_too_long_is_refused_not_truncated(s3, bucket):
    key = "k" * 1025  # S3's limit is 1,024 bytes (test_long_keys.py)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key=key, Body=b"data")
    assert e.value.response["Error"]["Code"] == "KeyTooLongError"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_malformed_xml_and_unknown_operation(s3, bucket, depot):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="x", UploadId="nope", MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": "a"}]})
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="x")["UploadId"]
    request = AWSRequest(method="POST", url=f"{depot.endpoint}/{bucket}/x?uploadId={upload}", data=b"<not-xml",
                         headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    import requests
    r = requests.post(request.url, data=b"<not-xml", headers=dict(request.headers), timeout=10)
    assert r.status_code == 400 and "<Code>MalformedXML</Code>" in r.text


@pytest.fixture
def small_disk(tmp_path):
    """Here 96 MiB and few inodes: room for some 4 MiB uploads before it fills."""
    with tmpfs(tmp_path / "small", "size=96m,nr_inodes=4096") as disk:
        yield str(disk)


def test_full_disk_refuses_cleanly_and_keeps_earlier_objects(small_disk):
    server = DepotServer(data_dir=os.path.join(small_disk, "data")).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="full")
        stored = {}
        failure = None
        for i in range(100):
            data = os.urandom(4 * 1024 * 1024)
            try:
                s3.put_object(Bucket="full", Key=f"obj-{i}", Body=data)
                stored[f"obj-{i}"] = data
            except botocore.exceptions.ClientError as e:
                failure = e.response
                break
        assert failure is not None, "the disk never filled up"
        assert failure["ResponseMetadata"]["HTTPStatusCode"] in (500, 503, 507)
        assert failure["Error"]["Code"] in ("InsufficientStorage", "SlowDown", "InternalError")
        assert len(stored) > 3
        for key, data in stored.items():
            assert s3.get_object(Bucket="full", Key=key)["Body"].read() == data
        listed = {o["Key"] for o in s3.list_objects_v2(Bucket="full").get("Contents", [])}
        assert listed == set(stored)
        server.stop()
        fsck = run_depot("fsck", "--data", server.data_dir)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    finally:
        server.cleanup()


def test_ready_only_while_the_data_directory_takes_writes(small_disk):
    """The data directory's file system runs out of room for new files (its inodes, here):
    /health/ready answers 503 with the reason while /health/live stays 200, and ready comes back
    once files are freed."""
    server = DepotServer(data_dir=os.path.join(small_disk, "data")).start()
    filler = os.path.join(small_disk, "filler")
    os.mkdir(filler)
    try:
        assert requests.get(server.endpoint + "/health/ready", timeout=5).status_code == 200
        made = 0
        try:
            while made < 2_000_000:
                open(os.path.join(filler, str(made)), "w").close()
                made += 1
        except OSError:
            pass  # no inode left
        ready = requests.get(server.endpoint + "/health/ready", timeout=5)
        assert ready.status_code == 503 and "not writable" in ready.json()["reason"]
        assert requests.get(server.endpoint + "/health/live", timeout=5).status_code == 200
        for name in os.listdir(filler)[:100]:
            os.unlink(os.path.join(filler, name))
        assert requests.get(server.endpoint + "/health/ready", timeout=5).status_code == 200
    finally:
        shutil.rmtree(filler, ignore_errors=True)
        server.cleanup()
