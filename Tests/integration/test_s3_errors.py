"""Every error S3 clients rely on, with its code and status; and listing edge cases."""
import base64
import datetime
import hashlib
import os
import zlib

import boto3
import botocore
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER


def raw(depot, method, path, headers=None, data=b"", region="us-east-1", when=None):
    """A SigV4-signed request built by hand (so tests can break one thing at a time)."""
    request = AWSRequest(method=method, url=f"{depot.endpoint}{path}", data=data,
                         headers=dict({"x-amz-content-sha256": hashlib.sha256(data).hexdigest()}, **(headers or {})))
    signer = SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", region)
    if when:
        from unittest import mock
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    else:
        signer.add_auth(request)
    return requests.request(method, request.url, headers=dict(request.headers), data=data, timeout=10)


def code_of(response):
    text = response.text
    return text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else None


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_authentication_errors(depot, bucket):
    r = raw(depot, "GET", f"/{bucket}", region="eu-west-1")
    assert r.status_code == 400 and code_of(r) == "AuthorizationHeaderMalformed" and "<Region>us-east-1</Region>" in r.text
    skewed = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
    r = raw(depot, "GET", f"/{bucket}", when=skewed)
    assert r.status_code == 403 and code_of(r) == "RequestTimeTooSkewed"
    r = requests.get(f"{depot.endpoint}/{bucket}", headers={"Authorization": f"AWS {ROOT_USER}:c2lnbmF0dXJl",
                                                            "Date": "Wed, 25 Nov 2026 00:00:00 GMT"}, timeout=10)
    assert r.status_code == 400 and "AWS4-HMAC-SHA256" in r.text
    unknown = boto3.client("s3", endpoint_url=depot.endpoint, region_name="us-east-1", aws_access_key_id="NOBODY",
                           aws_secret_access_key="whatever-secret")
    assert client_error(lambda: unknown.list_buckets()) == ("InvalidAccessKeyId", 403)
    for expires in ("0", "604801"):
        url = depot.client().generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
        url = url.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}")
        r = requests.get(url, timeout=10)
        assert r.status_code in (400, 403) and "<Error>" in r.text


def test_integrity_errors(s3, bucket, depot):
    data = b"recording bytes"
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    assert client_error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=data, ContentMD5=wrong_md5)) == ("BadDigest", 400)
    r = raw(depot, "PUT", f"/{bucket}/k", headers={"Content-MD5": "not-base64!"}, data=data)
    assert r.status_code == 400 and code_of(r) == "InvalidDigest"
    bad_crc = base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    r = raw(depot, "PUT", f"/{bucket}/k", headers={"x-amz-checksum-crc32": bad_crc}, data=data)
    assert r.status_code == 400 and code_of(r) == "BadDigest"
    r = raw(depot, "PUT", f"/{bucket}/k", headers={"x-amz-content-sha256": "0" * 64}, data=data)
    assert r.status_code == 400 and code_of(r) == "XAmzContentSHA256Mismatch"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_bucket_errors(s3, bucket):
    assert client_error(lambda: s3.create_bucket(Bucket=bucket)) == ("BucketAlreadyOwnedByYou", 409)
    assert client_error(lambda: s3.create_bucket(Bucket="Bad_Name")) == ("InvalidBucketName", 400)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert client_error(lambda: s3.delete_bucket(Bucket=bucket)) == ("BucketNotEmpty", 409)
    r = s3.head_object
    with pytest.raises(botocore.exceptions.ClientError) as e:
        r(Bucket=bucket, Key="missing")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_conditional_requests(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    assert client_error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfNoneMatch="*")) == ("PreconditionFailed", 412)
    assert client_error(lambda: s3.get_object(Bucket=bucket, Key="k", IfMatch='"0000"')) == ("PreconditionFailed", 412)
    assert client_error(lambda: s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag))[1] == 304
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"v1"


def test_multipart_errors(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    small = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"a" * 1024)["ETag"]
    last = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, Body=b"b" * 1024)["ETag"]
    complete = lambda parts: s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts})
    assert client_error(lambda: complete([{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}])) == ("EntityTooSmall", 400)
    assert client_error(lambda: complete([{"PartNumber": 3, "ETag": small}])) == ("InvalidPart", 400)
    assert client_error(lambda: complete([{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": small}])) == ("InvalidPartOrder", 400)
    for number in (0, 10001):
        assert client_error(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=b"x"))[1] == 400
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)
    assert client_error(lambda: s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)) == ("NoSuchUpload", 404)


def test_listing_2500_keys_with_delimiter_and_pages(s3, bucket):
    keys = [f"cam-{i % 5}/{i:05d}.mp4" for i in range(2400)] + [f"top-{i}" for i in range(90)] + ["é/1", "z/ü", "ä"]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys))
    seen = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 333}):
        seen += [o["Key"] for o in page.get("Contents", [])]
    assert seen == sorted(keys, key=lambda k: k.encode())
    prefixes, top = [], []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 7}):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        top += [o["Key"] for o in page.get("Contents", [])]
    assert prefixes == sorted([f"cam-{i}/" for i in range(5)] + ["z/", "é/"], key=lambda k: k.encode())
    assert len(top) == 91
    v1 = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 500}):
        v1 += [o["Key"] for o in page.get("Contents", [])]
    assert v1 == seen
    zero = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert zero["KeyCount"] == 0 and not zero["IsTruncated"]
    encoded = s3.list_objects_v2(Bucket=bucket, Prefix="é", EncodingType="url")
    # Asked for explicitly, the encoding is left for the caller to undo.
    assert encoded["Contents"][0]["Key"] == "%C3%A9/1" and encoded["EncodingType"] == "url"
    versions = s3.list_object_versions(Bucket=bucket, Prefix="top-1")
    assert all(v["VersionId"] == "null" for v in versions["Versions"]) and len(versions["Versions"]) == 11


def test_configuration_stubs_and_unknown_operations(s3, bucket, depot):
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") is None
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"][0]["Permission"] == "FULL_CONTROL"
    for call, code in [(s3.get_bucket_policy, "NoSuchBucketPolicy"), (s3.get_bucket_cors, "NoSuchCORSConfiguration"),
                       (s3.get_bucket_lifecycle_configuration, "NoSuchLifecycleConfiguration"),
                       (s3.get_bucket_encryption, "ServerSideEncryptionConfigurationNotFoundError"),
                       (s3.get_object_lock_configuration, "ObjectLockConfigurationNotFoundError")]:
        assert client_error(lambda: call(Bucket=bucket)) == (code, 404)
    r = raw(depot, "POST", f"/{bucket}")
    assert r.status_code == 405 and code_of(r) == "MethodNotAllowed"
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", depot.port, timeout=10)
    connection.request("GET", f"/{bucket}?prefix=%zz")
    bad = connection.getresponse()
    assert bad.status == 400 and b"InvalidArgument" in bad.read()
    connection.close()
    r = requests.get(f"{depot.endpoint}/{bucket}", headers={"X-Big": "x" * 40000}, timeout=10)
    assert 400 <= r.status_code < 500
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
