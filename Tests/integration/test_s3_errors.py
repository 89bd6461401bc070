"""Negative S3 tests: every error code clients rely on, with its status and XML body, and the
listing edge cases (pagination, encoding, v1, versions). boto3 and raw SigV4-signed requests
(botocore's signer + requests or http.client) so one thing at a time can be broken."""
import base64
import datetime
import hashlib
import http.client
import time
import uuid
import xml.etree.ElementTree as ET
import zlib
from concurrent.futures import ThreadPoolExecutor
from unittest import mock
from urllib.parse import quote, unquote_plus

import boto3
import botocore
import pytest
import requests
from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER

CREDENTIALS = Credentials(ROOT_USER, ROOT_PASSWORD)
MIB = 1024 * 1024


def signed_headers(depot, method, path, headers=None, data=b"", region="us-east-1", when=None):
    """SigV4 headers for a request built by hand; `when` signs with another clock."""
    request = AWSRequest(method=method, url=f"{depot.endpoint}{path}", data=data,
                         headers=dict({"x-amz-content-sha256": hashlib.sha256(data).hexdigest()}, **(headers or {})))
    signer = SigV4Auth(CREDENTIALS, "s3", region)
    if when is not None:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    else:
        signer.add_auth(request)
    return dict(request.headers)


def raw(depot, method, path, headers=None, data=b"", **sign):
    all_headers = signed_headers(depot, method, path, headers, data, **sign)
    return requests.request(method, f"{depot.endpoint}{path}", headers=all_headers, data=data, timeout=15)


def presign(depot, path, expires, method="GET"):
    request = AWSRequest(method=method, url=f"{depot.endpoint}{path}")
    S3SigV4QueryAuth(CREDENTIALS, "s3", "us-east-1", expires=expires).add_auth(request)
    return request.url


def error_of(response):
    """(Code, Message, element tree) of an S3 error body; fails when the body is not S3 error XML."""
    root = ET.fromstring(response.content)
    assert root.tag == "Error", response.text
    return root.findtext("Code"), root.findtext("Message") or "", root


def assert_error(response, status, code):
    assert response.status_code == status, (response.status_code, response.text)
    got, _, root = error_of(response)
    assert got == code, response.text
    assert root.findtext("RequestId") == response.headers.get("x-amz-request-id"), response.text


def strip_ns(root):
    for element in root.iter():
        element.tag = element.tag.split("}", 1)[-1]
    return root


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ---- authentication -------------------------------------------------------------------------

def test_presigned_url_positive_control(depot, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"signed")
    r = requests.get(presign(depot, f"/{bucket}/k", 60), timeout=10)
    assert r.status_code == 200 and r.content == b"signed"


@pytest.mark.parametrize("expires", [0, 604801])
def test_presigned_expires_out_of_range(depot, s3, bucket, expires):
    s3.put_object(Bucket=bucket, Key="k", Body=b"signed")
    r = requests.get(presign(depot, f"/{bucket}/k", expires), timeout=10)
    assert r.status_code in (400, 403), (r.status_code, r.text)
    code, _, _ = error_of(r)
    assert code in ("AuthorizationQueryParametersError", "AccessDenied"), r.text


def test_presigned_expired_and_tampered(depot, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"signed")
    url = presign(depot, f"/{bucket}/k", 1)
    time.sleep(2.2)
    r = requests.get(url, timeout=10)
    assert_error(r, 403, "AccessDenied")
    assert "Request has expired" in error_of(r)[1]
    url = presign(depot, f"/{bucket}/k", 300)
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert_error(requests.get(tampered, timeout=10), 403, "SignatureDoesNotMatch")


def test_wrong_region_in_scope(depot, bucket):
    r = raw(depot, "GET", f"/{bucket}?list-type=2", region="eu-west-1")
    assert_error(r, 400, "AuthorizationHeaderMalformed")
    assert error_of(r)[2].findtext("Region") == "us-east-1", r.text


def test_clock_skew(depot, bucket):
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    assert_error(raw(depot, "GET", f"/{bucket}?list-type=2", when=skewed), 403, "RequestTimeTooSkewed")
    # 5 minutes off is within the 15 minutes S3 tolerates.
    near = skewed + datetime.timedelta(minutes=15)
    assert raw(depot, "GET", f"/{bucket}?list-type=2", when=near).status_code == 200


def test_sigv2_with_a_wrong_signature_is_signature_does_not_match(depot, bucket):
    # Signature Version 2 is accepted (as MinIO does; test_s3_sigv2.py), so a bad V2 signature is a mismatch.
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    r = requests.get(f"{depot.endpoint}/{bucket}", headers={"Authorization": f"AWS {ROOT_USER}:c2lnbmF0dXJlMTIzNDU2Nzg5MDE=",
                                                            "Date": date}, timeout=10)
    assert_error(r, 403, "SignatureDoesNotMatch")


def test_unknown_access_key(depot):
    unknown = boto3.client("s3", endpoint_url=depot.endpoint, region_name="us-east-1", aws_access_key_id="NOBODY",
                           aws_secret_access_key="whatever-secret",
                           config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=30))
    assert client_error(unknown.list_buckets) == ("InvalidAccessKeyId", 403)


# ---- integrity --------------------------------------------------------------------------------

def test_content_md5_and_checksum_errors(depot, s3, bucket):
    data = b"recording bytes"
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    assert_error(raw(depot, "PUT", f"/{bucket}/k", headers={"Content-MD5": wrong}, data=data), 400, "BadDigest")
    assert_error(raw(depot, "PUT", f"/{bucket}/k", headers={"Content-MD5": "not-base64!"}, data=data), 400, "InvalidDigest")
    short = base64.b64encode(b"1234").decode()  # valid base64, not 16 bytes
    assert_error(raw(depot, "PUT", f"/{bucket}/k", headers={"Content-MD5": short}, data=data), 400, "InvalidDigest")
    bad_crc = base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    assert_error(raw(depot, "PUT", f"/{bucket}/k", headers={"x-amz-checksum-crc32": bad_crc}, data=data), 400, "BadDigest")
    assert client_error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=data, ContentMD5=wrong)) == ("BadDigest", 400)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket), "a rejected upload was stored"
    good = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert raw(depot, "PUT", f"/{bucket}/k", headers={"Content-MD5": good}, data=data).status_code == 200


# ---- buckets and keys ---------------------------------------------------------------------------

def test_bucket_errors(depot, s3, bucket):
    s3.create_bucket(Bucket=bucket)  # your own bucket again, in us-east-1: 200 (test_s3_edges.py has the rest)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert_error(raw(depot, "DELETE", f"/{bucket}"), 409, "BucketNotEmpty")
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


@pytest.mark.parametrize("name", ["ab", "Bad_Name", "UPPERCASE", "-leading", "trailing-", "double..dot",
                                  "192.168.5.4", "a" * 64])
def test_invalid_bucket_name(depot, name):
    assert_error(raw(depot, "PUT", f"/{name}"), 400, "InvalidBucketName")


def test_head_missing_key_is_404_without_body(depot, bucket):
    connection = http.client.HTTPConnection("127.0.0.1", depot.port, timeout=10)
    try:
        connection.request("HEAD", f"/{bucket}/missing", headers=signed_headers(depot, "HEAD", f"/{bucket}/missing"))
        head = connection.getresponse()
        assert head.status == 404 and head.read() == b""
        # Had the server written a body after the HEAD, this second response would be garbage.
        connection.request("GET", f"/{bucket}/missing", headers=signed_headers(depot, "GET", f"/{bucket}/missing"))
        get = connection.getresponse()
        body = get.read()
        assert get.status == 404 and b"<Code>NoSuchKey</Code>" in body
    finally:
        connection.close()


def test_request_id_header_matches_error_body(depot, bucket):
    for method, path in [("GET", f"/{bucket}/missing"), ("GET", "/no-such-bucket-x"), ("PUT", "/Bad_Bucket_Name")]:
        r = raw(depot, method, path)
        assert r.status_code >= 400
        request_id = r.headers.get("x-amz-request-id")
        assert request_id and error_of(r)[2].findtext("RequestId") == request_id, (path, r.headers, r.text)


def test_conditional_requests(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    assert client_error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfNoneMatch="*")) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    assert client_error(lambda: s3.get_object(Bucket=bucket, Key="k", IfMatch='"00000000000000000000000000000000"')) == ("PreconditionFailed", 412)
    assert client_error(lambda: s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag))[1] == 304
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"v1"
    assert client_error(lambda: s3.head_object(Bucket=bucket, Key="k", IfNoneMatch=etag))[1] == 304
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    earlier = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    assert client_error(lambda: s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=later))[1] == 304
    assert client_error(lambda: s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=earlier)) == ("PreconditionFailed", 412)
    # Conditional writes: If-Match on PUT, If-None-Match on CompleteMultipartUpload.
    assert client_error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch='"%s"' % ("0" * 32))) == ("PreconditionFailed", 412)
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)["ETag"] == '"%s"' % hashlib.md5(b"v2").hexdigest()
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"v3")["ETag"]
    assert client_error(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=uid, IfNoneMatch="*",
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part}]})) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"


# ---- multipart ----------------------------------------------------------------------------------

def test_multipart_errors(depot, s3, bucket):
    def upload(key, sizes):
        uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n,
                                                          Body=b"p" * size)["ETag"]} for n, size in enumerate(sizes, 1)]
        return uid, parts

    def complete(key, uid, parts):
        return client_error(lambda: s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                                                 MultipartUpload={"Parts": parts}))

    uid, parts = upload("small", [1024, 1024])
    assert complete("small", uid, parts) == ("EntityTooSmall", 400)
    uid, parts = upload("big", [5 * MIB, 1024])
    assert complete("big", uid, parts + [{"PartNumber": 3, "ETag": parts[0]["ETag"]}]) == ("InvalidPart", 400)
    assert complete("big", uid, [parts[0], {"PartNumber": 2, "ETag": '"%s"' % ("0" * 32)}]) == ("InvalidPart", 400)
    assert complete("big", uid, [parts[1], parts[0]]) == ("InvalidPartOrder", 400)
    for number in (0, 10001):
        r = raw(depot, "PUT", f"/{bucket}/big?partNumber={number}&uploadId={quote(uid, safe='')}", data=b"x")
        assert_error(r, 400, "InvalidArgument")
    # The upload survives the refused attempts and completes.
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=uid, MultipartUpload={"Parts": parts})
    assert done["ETag"].endswith('-2"')
    assert s3.head_object(Bucket=bucket, Key="big")["ContentLength"] == 5 * MIB + 1024
    assert client_error(lambda: s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)) == ("NoSuchUpload", 404)


# ---- listing --------------------------------------------------------------------------------------

NON_ASCII = ["é/1", "z/ü", "ä", "日本/映像.mp4", "emoji-😀", "ﬁle", "Zeta", "a b+c.mp4", "tab\tkey", "~tilde"]


@pytest.fixture(scope="module")
def listed():
    """One server and 2,500 keys shared by the listing tests (creating them takes a while)."""
    from conftest import DepotServer
    server = DepotServer().start()
    s3 = server.client()
    bucket = "listing-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    keys = [f"cam-{i % 5}/{i:05d}.mp4" for i in range(2400)] + [f"top-{i:03d}" for i in range(90)] + NON_ASCII
    assert len(keys) == 2500
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x"), keys))
    yield server, s3, bucket, sorted(keys, key=lambda k: k.encode())
    server.cleanup()


def test_list_v2_pages_every_key_once_in_utf8_order(listed):
    _, s3, bucket, keys = listed
    seen, pages = [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 333}):
        seen += [o["Key"] for o in page.get("Contents", [])]
        pages += 1
        assert page["KeyCount"] == len(page.get("Contents", []))
    assert pages == 8 and seen == keys


def test_list_v2_delimiter_pages(listed):
    _, s3, bucket, keys = listed
    prefixes, top = [], []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 7}):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        top += [o["Key"] for o in page.get("Contents", [])]
    assert prefixes == sorted({k.split("/")[0] + "/" for k in keys if "/" in k}, key=lambda k: k.encode())
    assert top == [k for k in keys if "/" not in k]
    inner = s3.list_objects_v2(Bucket=bucket, Prefix="cam-3/", Delimiter="/", MaxKeys=1000)
    assert inner["KeyCount"] == 480 and "CommonPrefixes" not in inner


def test_list_max_keys_zero_and_start_after(listed):
    _, s3, bucket, keys = listed
    zero = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert zero["KeyCount"] == 0 and zero["IsTruncated"] is False and "Contents" not in zero
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="top-088")
    assert [o["Key"] for o in after["Contents"]] == [k for k in keys if k.encode() > b"top-088"]


def test_list_encoding_type_url(listed):
    server, _, bucket, keys = listed
    r = raw(server, "GET", f"/{bucket}?list-type=2&encoding-type=url&prefix=")
    assert r.status_code == 200, r.text
    root = strip_ns(ET.fromstring(r.content))
    assert root.findtext("EncodingType") == "url"
    got = [c.findtext("Key") for c in root.iter("Contents")]
    assert all(k.isascii() and " " not in k and "\t" not in k for k in got), [k for k in got if not k.isascii()]
    assert [unquote_plus(k) for k in got] == keys[:1000]
    r = raw(server, "GET", f"/{bucket}?list-type=2&encoding-type=url&delimiter=%2F&prefix=%E6%97%A5%E6%9C%AC%2F")
    root = strip_ns(ET.fromstring(r.content))
    assert unquote_plus(root.findtext("Prefix")) == "日本/" and root.findtext("Prefix").isascii()
    assert [unquote_plus(c.findtext("Key")) for c in root.iter("Contents")] == ["日本/映像.mp4"]
    assert root.findtext("Delimiter") in ("/", "%2F")
    r = raw(server, "GET", f"/{bucket}?list-type=2&encoding-type=url&delimiter=%2F")
    root = strip_ns(ET.fromstring(r.content))
    prefixes = [p.findtext("Prefix") for p in root.iter("CommonPrefixes")]
    assert all(p.isascii() for p in prefixes), prefixes
    assert [unquote_plus(p) for p in prefixes] == ["cam-0/", "cam-1/", "cam-2/", "cam-3/", "cam-4/", "z/", "é/", "日本/"]
    assert int(root.findtext("KeyCount")) == len(prefixes) + len(list(root.iter("Contents")))


def test_list_v1_marker_and_pages(listed):
    _, s3, bucket, keys = listed
    page = s3.list_objects(Bucket=bucket, Marker="cam-4/02399.mp4", MaxKeys=5)
    assert [o["Key"] for o in page["Contents"]] == [k for k in keys if k.encode() > b"cam-4/02399.mp4"][:5]
    assert page["IsTruncated"] is True
    v1 = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 500}):
        v1 += [o["Key"] for o in page.get("Contents", [])]
    assert v1 == keys
    prefixes = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 3}):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if page["IsTruncated"]:
            assert page.get("NextMarker"), "v1 with a delimiter must return NextMarker"
    assert len(prefixes) == len(set(prefixes)) == 8


def test_list_object_versions_without_versioning(listed):
    _, s3, bucket, keys = listed
    versions = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 700}):
        versions += page.get("Versions", [])
        assert not page.get("DeleteMarkers")
    assert [v["Key"] for v in versions] == keys
    assert all(v["VersionId"] == "null" and v["IsLatest"] for v in versions)


# ---- bucket sub-resources, unknown operations, malformed requests ---------------------------------

def test_get_bucket_location(s3, bucket):
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] in (None, "")


def test_configuration_stubs(depot, bucket):
    for resource in ("acl", "versioning"):
        r = raw(depot, "GET", f"/{bucket}?{resource}")
        assert r.status_code == 200, (resource, r.text)
        root = strip_ns(ET.fromstring(r.content))
        assert root.tag == {"acl": "AccessControlPolicy", "versioning": "VersioningConfiguration"}[resource]
        if resource == "acl":
            assert root.find("Owner/ID") is not None
            assert [g.findtext("Permission") for g in root.iter("Grant")] == ["FULL_CONTROL"]
    for resource, code in [("policy", "NoSuchBucketPolicy"), ("cors", "NoSuchCORSConfiguration"),
                           ("lifecycle", "NoSuchLifecycleConfiguration"),
                           ("encryption", "ServerSideEncryptionConfigurationNotFoundError"),
                           ("object-lock", "ObjectLockConfigurationNotFoundError")]:
        assert_error(raw(depot, "GET", f"/{bucket}?{resource}"), 404, code)


def test_unknown_operation_is_method_not_allowed(depot, bucket):
    assert_error(raw(depot, "POST", f"/{bucket}"), 405, "MethodNotAllowed")


def test_oversize_header_gets_an_s3_error_and_leaves_server_alive(depot, s3, bucket):
    r = requests.get(f"{depot.endpoint}/{bucket}", headers={"X-Big": "x" * 20 * 1024}, timeout=10)
    assert r.status_code == 400
    assert "<Code>RequestHeaderSectionTooLarge</Code>" in r.text
    assert r.headers["x-amz-request-id"] and r.headers["Connection"] == "close"
    s3.put_object(Bucket=bucket, Key="alive", Body=b"yes")
    assert s3.get_object(Bucket=bucket, Key="alive")["Body"].read() == b"yes"


def test_malformed_query_is_400(depot, bucket):
    connection = http.client.HTTPConnection("127.0.0.1", depot.port, timeout=10)
    try:
        connection.request("GET", f"/{bucket}?prefix=%zz")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 400, (response.status, body)
        assert ET.fromstring(body).tag == "Error"
    finally:
        connection.close()
