"""S3 edge behaviours MinIO users rely on, each checked against AWS's documented answer with a real client or a
raw request: dates in RFC 2822 form, presigned expiry bounds, the POST answer's Location, repeated
CompleteMultipartUpload, re-creating a bucket, error codes for out-of-range parts, ranges and checksums."""
import base64
import datetime
import email.utils
import hashlib
import hmac
import time
import xml.etree.ElementTree as ET
from unittest import mock
from urllib.parse import quote

import boto3
import botocore
import pytest
import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer

MIB = 1024 * 1024


def error_of(response):
    root = ET.fromstring(response.content)
    assert root.tag == "Error", response.text
    return root.findtext("Code"), root.findtext("Message") or ""


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def sigv4_with_date_header(depot, method, path, date, payload=b""):
    """A SigV4 request dated only by the `Date` header (no x-amz-date), signed by hand as the spec says:
    the request time in the string to sign is the Date header's time in ISO 8601 basic form."""
    when = email.utils.parsedate_to_datetime(date).astimezone(datetime.timezone.utc)
    amz_time, day = when.strftime("%Y%m%dT%H%M%SZ"), when.strftime("%Y%m%d")
    host = depot.endpoint.split("//", 1)[1]
    payload_hash = hashlib.sha256(payload).hexdigest()
    headers = {"date": date, "host": host, "x-amz-content-sha256": payload_hash}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, path, "", *[f"{k}:{headers[k]}" for k in sorted(headers)], "", signed, payload_hash])
    scope = f"{day}/us-east-1/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_time, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + ROOT_PASSWORD).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ROOT_USER}/{scope}, SignedHeaders={signed}, "
                                f"Signature={signature}")
    del headers["host"]
    return requests.request(method, f"{depot.endpoint}{path}", headers=headers, data=payload, timeout=10)


# ---- 2. Date header in RFC 2822 form ----------------------------------------------------------------

def test_sigv4_dated_by_rfc2822_date_with_minus_zero_zone(depot, bucket):
    date = email.utils.formatdate()  # "Sat, 05 Dec 2026 03:45:50 -0000"
    assert date.endswith("-0000")
    r = sigv4_with_date_header(depot, "GET", f"/{bucket}", date)
    assert r.status_code == 200, r.text
    # The IMF-fixdate form still works.
    assert sigv4_with_date_header(depot, "GET", f"/{bucket}", email.utils.formatdate(usegmt=True)).status_code == 200


def test_conditional_get_reads_every_http_date_form(depot, s3, bucket):
    # One date codec for signing and for If-Modified-Since: asctime and numeric zones are HTTP dates too.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    later = time.time() + 3600
    for form in (email.utils.formatdate(later, usegmt=True), email.utils.formatdate(later),
                 time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(later)),
                 time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(later))):
        r = signed(depot, "GET", f"/{bucket}/k", headers={"If-Modified-Since": form})
        assert r.status_code == 304, (form, r.status_code)
        r = signed(depot, "PUT", f"/{bucket}/copy", headers={
            "x-amz-copy-source": f"/{bucket}/k", "x-amz-copy-source-if-modified-since": form})
        assert r.status_code == 412, (form, r.status_code, r.text)


# ---- 3. presigned X-Amz-Expires -------------------------------------------------------------------

def presign(depot, path, expires):
    request = AWSRequest(method="GET", url=f"{depot.endpoint}{path}")
    S3SigV4QueryAuth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1", expires=expires).add_auth(request)
    return request.url


@pytest.mark.parametrize("expires,message", [
    (0, "X-Amz-Expires must be a number of seconds from 1 to 604800"),
    (-7, "X-Amz-Expires must be non-negative"),
    (609901, "X-Amz-Expires must be less than a week (in seconds) that is 604800 seconds"),
])
def test_presigned_expires_out_of_range_is_403(depot, bucket, expires, message):
    depot.client().put_object(Bucket=bucket, Key="k", Body=b"x")
    r = requests.get(presign(depot, f"/{bucket}/k", expires), timeout=10)
    assert r.status_code == 403, r.text
    code, text = error_of(r)
    assert code == "AuthorizationQueryParametersError" and text.startswith(message), r.text
    assert requests.get(presign(depot, f"/{bucket}/k", 604800), timeout=10).status_code == 200


# ---- 4. POST answer's Location ----------------------------------------------------------------------

def test_post_object_location_is_absolute(depot, s3, bucket):
    post = s3.generate_presigned_post(bucket, "cam/${filename}", ExpiresIn=300,
                                      Conditions=[["starts-with", "$key", "cam/"]])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a b.mp4", b"clip")}, timeout=30)
    assert r.status_code == 204, r.text
    assert r.headers["Location"] == f"{depot.endpoint}/{bucket}/cam/a%20b.mp4"
    post = s3.generate_presigned_post(bucket, "cam/201", Fields={"success_action_status": "201"},
                                      Conditions=[{"success_action_status": "201"}], ExpiresIn=300)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("x", b"clip")}, timeout=30)
    assert r.status_code == 201, r.text
    assert ET.fromstring(r.content).findtext("Location") == f"{depot.endpoint}/{bucket}/cam/201"
    assert r.headers["Location"] == f"{depot.endpoint}/{bucket}/cam/201"


# ---- 5. repeated CompleteMultipartUpload ----------------------------------------------------------

def test_repeated_complete_multipart_upload_answers_the_same_etag(depot, s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="clip.mp4")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="clip.mp4", UploadId=uid, PartNumber=n, Body=body)["ETag"]
             for n, body in ((1, b"a" * (5 * MIB)), (2, b"tail"))]
    parts = {"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="clip.mp4", UploadId=uid, MultipartUpload=parts)
    # A client that timed out retries: same answer, object untouched.
    again = s3.complete_multipart_upload(Bucket=bucket, Key="clip.mp4", UploadId=uid, MultipartUpload=parts)
    assert again["ETag"] == first["ETag"] and first["ETag"].endswith('-2"')
    assert first["Location"] == again["Location"] == f"{depot.endpoint}/{bucket}/clip.mp4"  # absolute, as AWS
    assert s3.head_object(Bucket=bucket, Key="clip.mp4")["ContentLength"] == 5 * MIB + 4
    # Not for another key, and not once the object has changed.
    assert client_error(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="other.mp4", UploadId=uid, MultipartUpload=parts)) == ("NoSuchUpload", 404)
    s3.put_object(Bucket=bucket, Key="clip.mp4", Body=b"overwritten")
    assert client_error(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="clip.mp4", UploadId=uid, MultipartUpload=parts)) == ("NoSuchUpload", 404)
    # An aborted upload stays unknown.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="aborted")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=uid)
    assert client_error(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="aborted", UploadId=uid, MultipartUpload=parts)) == ("NoSuchUpload", 404)


# ---- 6. CreateBucket again, and in another region -------------------------------------------------

def test_recreating_your_own_bucket(depot, s3, bucket):
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    # In us-east-1 (the default) your own bucket again is 200, as AWS (us-east-1) and MinIO answer; nothing is lost.
    assert s3.create_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"x"
    # A LocationConstraint naming another region: MinIO's InvalidRegion.
    assert client_error(lambda: s3.create_bucket(
        Bucket="elsewhere-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})) == ("InvalidRegion", 400)
    assert "elsewhere-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_recreating_your_own_bucket_outside_us_east_1(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("server:\n  region: eu-central-1\n")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="eu-central-1", aws_access_key_id=ROOT_USER,
                          aws_secret_access_key=ROOT_PASSWORD,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        where = {"LocationConstraint": "eu-central-1"}
        s3.create_bucket(Bucket="regional-bucket", CreateBucketConfiguration=where)
        assert client_error(lambda: s3.create_bucket(Bucket="regional-bucket", CreateBucketConfiguration=where)) == (
            "BucketAlreadyOwnedByYou", 409)
        assert s3.get_bucket_location(Bucket="regional-bucket")["LocationConstraint"] == "eu-central-1"
    finally:
        server.cleanup()


# ---- 7. error codes -----------------------------------------------------------------------------------

def signed(depot, method, path, headers=None, data=b""):
    from botocore.auth import SigV4Auth
    request = AWSRequest(method=method, url=f"{depot.endpoint}{path}", data=data,
                         headers=dict({"x-amz-content-sha256": hashlib.sha256(data).hexdigest()}, **(headers or {})))
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    return requests.request(method, f"{depot.endpoint}{path}", headers=dict(request.headers), data=data, timeout=15)


def test_part_number_above_the_part_count_is_invalid_part(depot, s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=body)["ETag"]
             for n, body in ((1, b"a" * (5 * MIB)), (2, b"b" * 10))]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read() == b"b" * 10
    assert client_error(lambda: s3.get_object(Bucket=bucket, Key="mp", PartNumber=3)) == ("InvalidPart", 400)
    assert client_error(lambda: s3.head_object(Bucket=bucket, Key="mp", PartNumber=3))[1] == 400
    s3.put_object(Bucket=bucket, Key="single", Body=b"one")
    assert s3.get_object(Bucket=bucket, Key="single", PartNumber=1)["Body"].read() == b"one"
    r = signed(depot, "GET", f"/{bucket}/single?partNumber=2")
    assert r.status_code == 400 and error_of(r)[0] == "InvalidPart", r.text


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"12345").decode(), ""])
def test_malformed_checksum_header_is_invalid_request(depot, bucket, value):
    # AWS: 400 InvalidRequest "Value for x-amz-checksum-crc32 header is invalid." (a well-formed wrong value is
    # BadDigest: test_s3_errors.py).
    r = signed(depot, "PUT", f"/{bucket}/k", headers={"x-amz-checksum-crc32": value}, data=b"data")
    assert r.status_code == 400 and error_of(r) == ("InvalidRequest", "Value for x-amz-checksum-crc32 header is invalid."), r.text
    assert "Contents" not in depot.client().list_objects_v2(Bucket=bucket)


def test_complete_with_a_wrong_whole_object_checksum_is_bad_digest(depot, s3, bucket):
    import zlib
    data = [b"a" * (5 * MIB), b"tail bytes"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32",
                                     ChecksumType="FULL_OBJECT")["UploadId"]
    parts = []
    for n, body in enumerate(data, start=1):
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        answer = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=body, ChecksumCRC32=crc)
        parts.append({"PartNumber": n, "ETag": answer["ETag"], "ChecksumCRC32": crc})
    whole = zlib.crc32(b"".join(data))
    wrong = base64.b64encode((whole ^ 1).to_bytes(4, "big")).decode()
    assert client_error(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": parts}, ChecksumCRC32=wrong,
        ChecksumType="FULL_OBJECT")) == ("BadDigest", 400)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    right = base64.b64encode(whole.to_bytes(4, "big")).decode()
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": parts},
                                        ChecksumCRC32=right, ChecksumType="FULL_OBJECT")
    assert done["ChecksumCRC32"] == right


# ---- 8. listing text, metadata, Content-Encoding, framing ---------------------------------------

def test_list_objects_v1_prefix_is_not_percent_encoded(depot, s3, bucket):
    for key in ("cam 1/a+b.mp4", "cam 1/sub dir/c.mp4", "other"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # Without encoding-type, nothing is encoded.
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in (("prefix", "cam 1/"), ("delimiter", "/"), ("marker", "cam 1/a")))
    r = signed(depot, "GET", f"/{bucket}?{query}")
    root = ET.fromstring(r.content)
    ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
    assert root.findtext("s:Prefix", namespaces=ns) == "cam 1/"
    assert root.findtext("s:Marker", namespaces=ns) == "cam 1/a"
    assert [e.text for e in root.findall("s:Contents/s:Key", ns)] == ["cam 1/a+b.mp4"]
    assert [e.text for e in root.findall("s:CommonPrefixes/s:Prefix", ns)] == ["cam 1/sub dir/"]
    # boto3 asks for encoding-type=url and decodes Delimiter, Marker, Key and CommonPrefixes, not Prefix.
    listed = s3.list_objects(Bucket=bucket, Prefix="cam 1/", Delimiter="/")
    assert listed["Prefix"] == "cam 1/" and listed["Delimiter"] == "/"
    assert [o["Key"] for o in listed["Contents"]] == ["cam 1/a+b.mp4"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["cam 1/sub dir/"]
    # ListObjectVersions encodes (and boto3 decodes) Prefix, KeyMarker and Delimiter.
    versions = s3.list_object_versions(Bucket=bucket, Prefix="cam 1/", Delimiter="/", KeyMarker="cam 1/a")
    assert versions["Prefix"] == "cam 1/" and versions["KeyMarker"] == "cam 1/a" and versions["Delimiter"] == "/"
    assert [v["Key"] for v in versions["Versions"]] == ["cam 1/a+b.mp4"]


def test_non_ascii_user_metadata_round_trips_rfc2047(depot, s3, bucket):
    import email.header

    def b_word(text):
        return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="

    # botocore refuses non-ASCII metadata; its users send RFC 2047 encoded-words, which S3 stores decoded and
    # returns encoded again.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"camera": b_word("東京 カメラ"), "plain": "ascii"})
    got = s3.head_object(Bucket=bucket, Key="k")["Metadata"]
    assert got == {"camera": b_word("東京 カメラ"), "plain": "ascii"}
    decoded = "".join(part.decode(charset) if charset else part
                      for part, charset in email.header.decode_header(got["camera"]))
    assert decoded == "東京 カメラ"
    r = signed(depot, "PUT", f"/{bucket}/k2", headers={"x-amz-meta-q": "=?utf-8?Q?caf=C3=A9_au_lait?="}, data=b"x")
    assert r.status_code == 200, r.text
    assert s3.head_object(Bucket=bucket, Key="k2")["Metadata"]["q"] == b_word("café au lait")
    # Raw UTF-8 bytes in the header (curl, Go clients) are stored as text and returned encoded, never as bytes
    # that an ISO-8859-1 reader turns into mojibake. Signed with V2 over the UTF-8 text.
    date = email.utils.formatdate(usegmt=True)
    to_sign = f"PUT\n\n\n{date}\nx-amz-meta-place:café\n/{bucket}/k3"
    signature = base64.b64encode(hmac.new(ROOT_PASSWORD.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    r = requests.put(f"{depot.endpoint}/{bucket}/k3", data=b"x", timeout=10, headers={
        "Date": date, "x-amz-meta-place": "café".encode(), "Authorization": f"AWS {ROOT_USER}:{signature}"})
    assert r.status_code == 200, r.text
    assert s3.head_object(Bucket=bucket, Key="k3")["Metadata"]["place"] == b_word("café")


def test_content_encoding_keeps_its_text(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentEncoding="deflate, gzip")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentEncoding"] == "deflate, gzip"
    assert s3.get_object(Bucket=bucket, Key="k")["ContentEncoding"] == "deflate, gzip"


@pytest.mark.parametrize("framing", ["Transfer-Encoding: chunked\r\nContent-Length: \r\n",
                                     "Content-Length:\r\nTransfer-Encoding: chunked\r\n"])
def test_empty_content_length_with_chunked_framing_is_refused(depot, s3, bucket, framing):
    import socket
    from botocore.auth import SigV4Auth
    request = AWSRequest(method="PUT", url=f"{depot.endpoint}/{bucket}/k",
                         headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    head = f"PUT /{bucket}/k HTTP/1.1\r\nHost: 127.0.0.1:{depot.port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    with socket.create_connection(("127.0.0.1", depot.port), timeout=10) as sock:
        sock.sendall((head + framing + "\r\n5\r\nhello\r\n0\r\n\r\n").encode())
        answer = sock.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 400"), answer
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


# ---- 9. GetObjectAttributes -----------------------------------------------------------------------

ALL_ATTRIBUTES = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def test_get_object_attributes_of_a_single_part_object(depot, s3, bucket):
    import zlib
    body = b"single part recording"
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    s3.put_object(Bucket=bucket, Key="clip.mp4", Body=body, ChecksumCRC32=crc)
    got = s3.get_object_attributes(Bucket=bucket, Key="clip.mp4", ObjectAttributes=ALL_ATTRIBUTES)
    assert got["ETag"] == hashlib.md5(body).hexdigest()  # unquoted, as AWS writes it here
    assert got["Checksum"]["ChecksumCRC32"] == crc
    assert got["StorageClass"] == "STANDARD" and got["ObjectSize"] == len(body)
    assert "ObjectParts" not in got  # only multipart objects have parts
    assert got["LastModified"] == s3.head_object(Bucket=bucket, Key="clip.mp4")["LastModified"]
    only = s3.get_object_attributes(Bucket=bucket, Key="clip.mp4", ObjectAttributes=["ObjectSize"])
    assert only["ObjectSize"] == len(body) and "ETag" not in only and "StorageClass" not in only
    assert client_error(lambda: s3.get_object_attributes(
        Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])) == ("NoSuchKey", 404)
    r = signed(depot, "GET", f"/{bucket}/clip.mp4?attributes", headers={"x-amz-object-attributes": "ETag,Colour"})
    assert r.status_code == 400 and error_of(r)[0] == "InvalidArgument", r.text
    r = signed(depot, "GET", f"/{bucket}/clip.mp4?attributes")
    assert r.status_code == 400 and error_of(r)[0] == "InvalidRequest", r.text


def test_get_object_attributes_pages_the_parts_of_a_multipart_object(s3, bucket):
    sizes = [5 * MIB, 5 * MIB, 5 * MIB, 123]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp.mp4")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp.mp4", UploadId=uid, PartNumber=n,
                                                       Body=bytes([n]) * size)["ETag"]}
             for n, size in enumerate(sizes, start=1)]
    etag = s3.complete_multipart_upload(Bucket=bucket, Key="mp.mp4", UploadId=uid,
                                        MultipartUpload={"Parts": parts})["ETag"]
    got = s3.get_object_attributes(Bucket=bucket, Key="mp.mp4", ObjectAttributes=ALL_ATTRIBUTES, MaxParts=2)
    assert got["ETag"] == etag.strip('"') and got["ObjectSize"] == sum(sizes)
    first = got["ObjectParts"]
    assert first["TotalPartsCount"] == 4 and first["MaxParts"] == 2 and first["IsTruncated"] is True
    assert [(p["PartNumber"], p["Size"]) for p in first["Parts"]] == [(1, 5 * MIB), (2, 5 * MIB)]
    assert first["NextPartNumberMarker"] == 2
    rest = s3.get_object_attributes(Bucket=bucket, Key="mp.mp4", ObjectAttributes=["ObjectParts"], MaxParts=2,
                                    PartNumberMarker=first["NextPartNumberMarker"])["ObjectParts"]
    assert [(p["PartNumber"], p["Size"]) for p in rest["Parts"]] == [(3, 5 * MIB), (4, 123)]
    assert rest["IsTruncated"] is False and rest["PartNumberMarker"] == 2
