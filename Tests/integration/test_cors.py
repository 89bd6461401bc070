"""CORS on the S3 door (issue 17 #4), against a real server with real clients: boto3's
Put/Get/DeleteBucketCors, S3's errors for configurations it refuses (nothing changes then),
unsigned preflights (`OPTIONS`) answered from the rules, the CORS headers of actual answers
(errors included) and the configuration kept across a restart and `fsck --rebuild-index`.
The browser itself is test_cors_browser.py."""
import hashlib
import socket
import uuid
import xml.etree.ElementTree as ET

import botocore
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot

PAGE = "http://player.example.com"
RULES = [
    {"ID": "uploads", "AllowedOrigins": [PAGE, "http://*.cams.example.com"], "AllowedMethods": ["PUT", "POST"],
     "AllowedHeaders": ["Content-Type", "x-amz-*"], "ExposeHeaders": ["ETag", "x-amz-request-id"],
     "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
]
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
               "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
               "by the resource's CORS spec.")
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
CORS_HEADERS = ["Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age"]


def signed(depot, method, path, data=b"", headers=None):
    """A SigV4-signed request built by hand: for bodies boto3 would never send."""
    headers = dict({"x-amz-content-sha256": hashlib.sha256(data).hexdigest()}, **(headers or {}))
    request = AWSRequest(method=method, url=f"{depot.endpoint}{path}", data=data, headers=headers)
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    return requests.request(method, f"{depot.endpoint}{path}", headers=dict(request.headers), data=data, timeout=15)


def error_of(response):
    root = ET.fromstring(response.content)
    return root.findtext("Code"), root.findtext("Message")


def preflight(depot, path, origin=PAGE, method="PUT", headers=None):
    sent = {}
    if origin is not None:
        sent["Origin"] = origin
    if method is not None:
        sent["Access-Control-Request-Method"] = method
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return requests.options(f"{depot.endpoint}{path}", headers=sent, timeout=15)


def cors_headers(response):
    return {name: response.headers[name] for name in CORS_HEADERS if name in response.headers}


@pytest.fixture
def cors_bucket(s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="cam-1/clip.mp4", Body=b"\x00\x00\x00\x18ftypmp42 recording")
    return bucket


def test_put_get_delete_with_boto3(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    # A second PUT replaces the whole configuration.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES[1:]})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES[1:]
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    s3.delete_bucket_cors(Bucket=bucket)  # deleting none is no error, as in S3
    missing = "no-such-" + uuid.uuid4().hex[:8]
    for call in (lambda: s3.get_bucket_cors(Bucket=missing), lambda: s3.delete_bucket_cors(Bucket=missing),
                 lambda: s3.put_bucket_cors(Bucket=missing, CORSConfiguration={"CORSRules": RULES})):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def rule_xml(body):
    return f"<CORSConfiguration><CORSRule>{body}</CORSRule></CORSConfiguration>".encode()


GET_ANY = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
REFUSED = [
    (b"", "MalformedXML", None),
    (b"<CORSConfiguration/>", "MalformedXML", None),
    (b"<CORSConfiguration><CORSRule>", "MalformedXML", None),
    (rule_xml("<AllowedMethod>GET</AllowedMethod>"), "MalformedXML", None),
    (rule_xml("<AllowedOrigin>*</AllowedOrigin>"), "MalformedXML", None),
    (rule_xml(GET_ANY + "<MaxAgeSeconds>-5</MaxAgeSeconds>"), "MalformedXML", None),
    (rule_xml(GET_ANY + "<Colour>red</Colour>"), "MalformedXML", None),
    (rule_xml("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"), "InvalidRequest",
     "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
    (rule_xml("<AllowedOrigin>http://*.*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
     "InvalidRequest", 'AllowedOrigin "http://*.*.example.com" can not have more than one wildcard.'),
    (rule_xml(GET_ANY + "<AllowedHeader>*-amz-*</AllowedHeader>"), "InvalidRequest",
     'AllowedHeader "*-amz-*" can not have more than one wildcard.'),
    (rule_xml(GET_ANY + "<ExposeHeader>x-amz-*</ExposeHeader>"), "InvalidRequest", None),
    (b"<CORSConfiguration>" + (b"<CORSRule>" + GET_ANY.encode() + b"</CORSRule>") * 101 + b"</CORSConfiguration>",
     "InvalidRequest", "The number of CORS rules should not exceed allowed limit of 100 rules."),
]


def test_refused_configurations_change_nothing(depot, s3, cors_bucket):
    for body, code, message in REFUSED:
        response = signed(depot, "PUT", f"/{cors_bucket}?cors", data=body)
        assert response.status_code == 400, (body[:80], response.text)
        assert error_of(response)[0] == code, (body[:80], response.text)
        if message:
            assert error_of(response)[1] == message
        assert s3.get_bucket_cors(Bucket=cors_bucket)["CORSRules"] == RULES
    # 100 rules is the limit, not past it.
    hundred = b"<CORSConfiguration>" + (b"<CORSRule>" + GET_ANY.encode() + b"</CORSRule>") * 100 + b"</CORSConfiguration>"
    assert signed(depot, "PUT", f"/{cors_bucket}?cors", data=hundred).status_code == 200
    assert len(s3.get_bucket_cors(Bucket=cors_bucket)["CORSRules"]) == 100
    # boto3's own refusal path, and a body whose signed hash or Content-MD5 does not match.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_cors(Bucket=cors_bucket, CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["OPTIONS"]}]})
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    body = rule_xml(GET_ANY)
    response = requests.put(f"{depot.endpoint}/{cors_bucket}?cors", data=body, timeout=15)
    assert response.status_code == 403  # unsigned
    response = signed(depot, "PUT", f"/{cors_bucket}?cors", data=body, headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
    assert response.status_code == 400 and error_of(response)[0] == "BadDigest", response.text
    assert len(s3.get_bucket_cors(Bucket=cors_bucket)["CORSRules"]) == 100


def test_preflight_is_answered_from_the_rules_without_a_signature(depot, s3, cors_bucket):
    key = f"/{cors_bucket}/cam-1/clip.mp4"
    response = preflight(depot, key, headers="content-type, X-Amz-Meta-Camera")
    assert response.status_code == 200, response.text
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": PAGE, "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "PUT, POST", "Access-Control-Allow-Headers": "content-type, x-amz-meta-camera",
        "Access-Control-Expose-Headers": "ETag, x-amz-request-id", "Access-Control-Max-Age": "600"}
    assert response.headers["Vary"].startswith("Origin")
    assert response.content == b""
    # One `*` inside an origin: any subdomain, nothing else.
    assert preflight(depot, key, origin="http://cam-7.cams.example.com").status_code == 200
    assert preflight(depot, key, origin="https://cam-7.cams.example.com").status_code == 403
    # The `*` rule: any origin, answered `*` and without credentials; a bucket preflight too.
    response = preflight(depot, f"/{cors_bucket}", origin="http://elsewhere.test", method="GET")
    assert response.status_code == 200
    assert cors_headers(response) == {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD"}
    # Credentials of any kind are not looked at: a preflight is never authenticated.
    response = requests.options(f"{depot.endpoint}{key}", timeout=15, headers={
        "Origin": PAGE, "Access-Control-Request-Method": "PUT",
        "Authorization": "AWS4-HMAC-SHA256 Credential=NOBODY/20260101/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host, Signature=00"})
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == PAGE
    # Refusals: origin, method, a requested header no rule allows.
    for origin, method, headers in [("http://evil.test", "PUT", None), (PAGE, "DELETE", None),
                                    (PAGE, "PUT", "content-type, authorization"),
                                    ("http://elsewhere.test", "GET", "range")]:
        response = preflight(depot, key, origin=origin, method=method, headers=headers)
        assert response.status_code == 403, (origin, method, headers)
        assert error_of(response) == ("AccessForbidden", NOT_ALLOWED)
        root = ET.fromstring(response.content)
        assert root.findtext("Method") == method and root.findtext("ResourceType") == "OBJECT"
        assert not cors_headers(response)
    # No configuration, no bucket: CORS is not enabled.
    other = "plain-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=other)
    for path in (f"/{other}/clip.mp4", f"/{other}", "/no-such-bucket-here/clip.mp4"):
        response = preflight(depot, path)
        assert response.status_code == 403, path
        assert error_of(response) == ("AccessForbidden", NOT_ENABLED)
    # Bad preflights: no Origin, no or an unknown Access-Control-Request-Method.
    response = preflight(depot, key, origin=None)
    assert response.status_code == 400
    assert error_of(response) == ("BadRequest", "Insufficient information. Origin request header needed.")
    for method in (None, "PATCH"):
        response = preflight(depot, key, method=method)
        assert response.status_code == 400
        assert error_of(response) == ("BadRequest", f"Invalid Access-Control-Request-Method: {method or 'null'}")
    # Deleting the configuration ends it at once.
    s3.delete_bucket_cors(Bucket=cors_bucket)
    assert error_of(preflight(depot, key)) == ("AccessForbidden", NOT_ENABLED)


def test_actual_answers_carry_the_headers_errors_included(depot, s3, cors_bucket):
    def url(method, key):
        return s3.generate_presigned_url(method, Params={"Bucket": cors_bucket, "Key": key}, ExpiresIn=300)

    # A presigned PUT from the allowed page: stored, and the page may read the answer.
    response = requests.put(url("put_object", "cam-1/upload.mp4"), data=b"browser bytes", timeout=15,
                            headers={"Origin": PAGE})
    assert response.status_code == 200, response.text
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": PAGE, "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "PUT, POST", "Access-Control-Expose-Headers": "ETag, x-amz-request-id",
        "Access-Control-Max-Age": "600"}
    assert "Origin" in response.headers["Vary"]
    assert s3.get_object(Bucket=cors_bucket, Key="cam-1/upload.mp4")["Body"].read() == b"browser bytes"
    # GET and HEAD from any origin (the `*` rule).
    for method, call in (("GET", requests.get), ("HEAD", requests.head)):
        response = call(url("get_object" if method == "GET" else "head_object", "cam-1/clip.mp4"),
                        headers={"Origin": "http://viewer.test"}, timeout=15)
        assert response.status_code == 200
        assert cors_headers(response) == {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD"}
    # Errors carry them too, so the page can read why: a missing key, an unsigned request.
    response = requests.get(url("get_object", "cam-1/missing.mp4"), headers={"Origin": PAGE}, timeout=15)
    assert response.status_code == 404 and error_of(response)[0] == "NoSuchKey"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    response = requests.put(f"{depot.endpoint}/{cors_bucket}/cam-1/anonymous.mp4", data=b"x",
                            headers={"Origin": PAGE}, timeout=15)
    assert response.status_code == 403 and error_of(response)[0] == "AccessDenied"
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=cors_bucket, Key="cam-1/anonymous.mp4")
    # The method decides too (DELETE is in no rule), and so does the origin; no Origin, no headers.
    response = requests.delete(url("delete_object", "cam-1/upload.mp4"), headers={"Origin": PAGE}, timeout=15)
    assert response.status_code == 204 and not cors_headers(response)
    response = requests.put(url("put_object", "cam-1/other.mp4"), data=b"x", headers={"Origin": "http://evil.test"},
                            timeout=15)
    assert response.status_code == 200 and not cors_headers(response)
    response = requests.get(url("get_object", "cam-1/clip.mp4"), timeout=15)
    assert response.status_code == 200 and not cors_headers(response) and "Vary" not in response.headers
    # As in S3 (and the s3-tests CORS cases), Access-Control-Request-Method names the method to match.
    response = requests.get(url("get_object", "cam-1/clip.mp4"), timeout=15,
                            headers={"Origin": PAGE, "Access-Control-Request-Method": "PUT"})
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    # A bucket without a configuration answers without them.
    other = "plain-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=other)
    s3.put_object(Bucket=other, Key="k", Body=b"x")
    response = requests.get(s3.generate_presigned_url("get_object", Params={"Bucket": other, "Key": "k"}),
                            headers={"Origin": PAGE}, timeout=15)
    assert response.status_code == 200 and not cors_headers(response)


def test_configuration_survives_a_restart_and_an_index_rebuild():
    server = DepotServer().start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="player")
        s3.put_bucket_cors(Bucket="player", CORSConfiguration={"CORSRules": RULES})
        s3.create_bucket(Bucket="deleted")
        s3.put_bucket_cors(Bucket="deleted", CORSConfiguration={"CORSRules": RULES})
        s3.delete_bucket_cors(Bucket="deleted")
        server.restart()
        assert server.client().get_bucket_cors(Bucket="player")["CORSRules"] == RULES
        assert preflight(server, "/player/clip.mp4").status_code == 200
        server.stop()
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        server.start()
        s3 = server.client()
        assert s3.get_bucket_cors(Bucket="player")["CORSRules"] == RULES
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.get_bucket_cors(Bucket="deleted")
        assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
        assert preflight(server, "/player/clip.mp4").status_code == 200
    finally:
        server.cleanup()


def test_put_answers_100_continue_before_reading_the_body(depot, s3, bucket):
    """A client that waits for `100 Continue` (curl, SDKs with Expect) is told to send the configuration."""
    body = rule_xml(GET_ANY)
    headers = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest(), "Expect": "100-continue",
               "Content-Length": str(len(body))}
    request = AWSRequest(method="PUT", url=f"{depot.endpoint}/{bucket}?cors", data=body, headers=headers)
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    head = f"PUT /{bucket}?cors HTTP/1.1\r\nHost: 127.0.0.1:{depot.port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in request.headers.items() if name.lower() != "host")
    with socket.create_connection(("127.0.0.1", depot.port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue"), "no 100 Continue within 5 s"
        sock.sendall(body)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]
