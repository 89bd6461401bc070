"""Issue 14 #12: S3's integer parameters are parsed as AWS parses them: digits only (no sign, no
letters), within range, else 400 InvalidArgument naming the parameter. Before, `partNumber=+1`
uploaded part 1, `max-parts=-1` and `part-number-marker=abc` listed as if absent, and a negative
`part-number-marker` took the server down."""
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def signed(depot, method, path, query, body=b"", headers=None):
    url = f"{depot.endpoint}{path}?" + "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in query.items())
    request = AWSRequest(method=method, url=url, data=body,
                         headers=dict({"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, **(headers or {})))
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    return requests.request(method, url, data=body, headers=dict(request.headers), timeout=10)


def assert_invalid_argument(response, name, value):
    assert response.status_code == 400, response.text
    error = ET.fromstring(response.content)
    assert error.findtext("Code") == "InvalidArgument"
    assert error.findtext("ArgumentName") == name
    assert error.findtext("ArgumentValue") == value


@pytest.fixture
def upload(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"part one")
    return upload_id


@pytest.mark.parametrize("value", ["+1", "-1", "0", "10001", "1.0", "abc", " 1", "0x1", "99999999999999999999"])
def test_upload_part_number(depot, bucket, upload, value):
    r = signed(depot, "PUT", f"/{bucket}/mp", {"partNumber": value, "uploadId": upload}, body=b"x")
    assert_invalid_argument(r, "partNumber", value)


@pytest.mark.parametrize("name,value", [
    ("max-parts", "-1"), ("max-parts", "+5"), ("max-parts", "abc"), ("part-number-marker", "abc"),
    ("part-number-marker", "-5"), ("part-number-marker", "99999999999"), ("part-number-marker", "+0"),
])
def test_list_parts_parameters(depot, bucket, upload, name, value):
    r = signed(depot, "GET", f"/{bucket}/mp", {"uploadId": upload, name: value})
    assert_invalid_argument(r, name, value)
    # The server is still up and lists the part.
    ok = signed(depot, "GET", f"/{bucket}/mp", {"uploadId": upload, "max-parts": "1000", "part-number-marker": "0"})
    assert [p.findtext(NS + "PartNumber") for p in ET.fromstring(ok.content).iter(NS + "Part")] == ["1"]


@pytest.mark.parametrize("query,name,value", [
    ({"max-keys": "abc"}, "max-keys", "abc"), ({"max-keys": "-1"}, "max-keys", "-1"),
    ({"max-keys": "+2"}, "max-keys", "+2"), ({"list-type": "2", "max-keys": "1e3"}, "max-keys", "1e3"),
    ({"uploads": "", "max-uploads": "-5"}, "max-uploads", "-5"), ({"uploads": "", "max-uploads": "x"}, "max-uploads", "x"),
])
def test_bucket_listing_parameters(depot, bucket, query, name, value):
    assert_invalid_argument(signed(depot, "GET", f"/{bucket}", query), name, value)


def test_get_part_number_and_max_buckets(depot, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert_invalid_argument(signed(depot, "GET", f"/{bucket}/k", {"partNumber": "+1"}), "partNumber", "+1")
    assert_invalid_argument(signed(depot, "GET", "/", {"max-buckets": "-3"}), "max-buckets", "-3")
    assert signed(depot, "GET", f"/{bucket}/k", {"partNumber": "1"}).content == b"hello"


def test_valid_values_still_work(depot, s3, bucket, upload):
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"o{i}", Body=b"x")
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
    assert page["KeyCount"] == 2 and page["IsTruncated"]
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload, MaxParts=5000)["MaxParts"] == 1000
    assert len(s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)["Uploads"]) == 1
    r = signed(depot, "PUT", f"/{bucket}/mp", {"partNumber": "10000", "uploadId": upload}, body=b"last")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("value", ["bytes=+0-+3", "bytes=0-+3", "bytes= 0-3", "bytes=-0-3"])
def test_copy_source_range_offsets_are_digits_only(depot, s3, bucket, upload, value):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    r = signed(depot, "PUT", f"/{bucket}/mp", {"partNumber": "2", "uploadId": upload},
               headers={"x-amz-copy-source": f"/{bucket}/src", "x-amz-copy-source-range": value})
    assert_invalid_argument(r, "x-amz-copy-source-range", value)
    ok = signed(depot, "PUT", f"/{bucket}/mp", {"partNumber": "2", "uploadId": upload},
                headers={"x-amz-copy-source": f"/{bucket}/src", "x-amz-copy-source-range": "bytes=0-3"})
    assert ok.status_code == 200, ok.text
