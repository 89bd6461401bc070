"""The first S3 path with boto3: buckets, objects, ranges, errors."""
import hashlib
import os
import subprocess
import time

import botocore
import pytest
import requests


def test_bucket_and_object_roundtrip(s3, bucket):
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket in names
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    data = os.urandom(3 * 1024 * 1024 + 17)
    put = s3.put_object(Bucket=bucket, Key="cam-1/clip 1.mp4", Body=data, ContentType="video/mp4",
                        Metadata={"camera": "front door"})
    assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    got = s3.get_object(Bucket=bucket, Key="cam-1/clip 1.mp4")
    assert got["Body"].read() == data
    assert got["ContentType"] == "video/mp4"
    assert got["Metadata"] == {"camera": "front door"}
    head = s3.head_object(Bucket=bucket, Key="cam-1/clip 1.mp4")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == put["ETag"]
    s3.delete_object(Bucket=bucket, Key="cam-1/clip 1.mp4")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="cam-1/clip 1.mp4")
    assert e.value.response["Error"]["Code"] in ("404", "NoSuchKey")


def test_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""
    assert s3.head_object(Bucket=bucket, Key="empty")["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


@pytest.mark.parametrize("header,expected", [
    ("bytes=0-0", slice(0, 1)),
    ("bytes=100-199", slice(100, 200)),
    ("bytes=1000-", slice(1000, None)),
    ("bytes=-500", slice(-500, None)),
    ("bytes=9000-999999", slice(9000, None)),
])
def test_ranges(s3, bucket, header, expected):
    data = os.urandom(10000)
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    got = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == data[expected]
    assert got["ContentRange"].endswith("/10000")


def test_unsatisfiable_range_is_416(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"abc")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert e.value.response["Error"]["Code"] == "InvalidRange"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_error_xml_has_request_id_matching_header(depot, bucket):
    # Unsigned requests are refused; the body is S3 error XML whose RequestId equals the header.
    r = requests.get(f"{depot.endpoint}/{bucket}/missing", timeout=10)
    assert r.status_code == 403
    assert "<Code>AccessDenied</Code>" in r.text
    request_id = r.headers["x-amz-request-id"]
    assert f"<RequestId>{request_id}</RequestId>" in r.text


def test_no_such_key_and_no_such_bucket(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nope")
    err = e.value.response
    assert err["Error"]["Code"] == "NoSuchKey"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err["Error"].get("RequestId") or err["ResponseMetadata"]["RequestId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="no-such-bucket-here", Key="nope")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def test_wrong_secret_is_signature_does_not_match(depot, bucket):
    import boto3
    bad = boto3.client("s3", endpoint_url=depot.endpoint, region_name="us-east-1",
                       aws_access_key_id="depot-test-root", aws_secret_access_key="wrong-secret")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.put_object(Bucket=bucket, Key="x", Body=b"data")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_expect_100_continue_is_answered(depot, bucket, tmp_path):
    """curl sends Expect: 100-continue and waits 1 s for it when it is not answered."""
    path = tmp_path / "body"
    path.write_bytes(os.urandom(2 * 1024 * 1024))
    start = time.time()
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(path), "-H", "Expect: 100-continue",
         "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "depot-test-root:test-secret-Pa55word",
         "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", f"{depot.endpoint}/{bucket}/curl-object"],
        capture_output=True, text=True, timeout=30)
    elapsed = time.time() - start
    assert out.stdout == "200", out.stderr
    assert elapsed < 0.9


def test_expect_100_continue_refused_request_gets_final_status(depot, bucket, tmp_path):
    path = tmp_path / "body"
    path.write_bytes(os.urandom(1024 * 1024))
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(path), "-H", "Expect: 100-continue",
         "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "depot-test-root:wrong",
         "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", f"{depot.endpoint}/{bucket}/refused"],
        capture_output=True, text=True, timeout=30)
    assert out.stdout == "403"
