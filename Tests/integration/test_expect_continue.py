"""`Expect: 100-continue` on every operation that reads a request body, through every door (S3,
POST forms, the Vault API with tus, the admin API): the client sends the head, waits for
`100 Continue` (curl waits a second, some SDKs much longer or for good), and only then the body.

Raw sockets, so the test sees exactly what a waiting client sees: the interim `100` within a
second, then the final success status once the body is sent. The S3 requests are the ones boto3
would send (its own bodies, checksums and SigV4 signatures, captured before sending and replayed on
the socket), so they are not shaped by Depot's code. A request refused before its body is read
(wrong signature, AccessDenied, no such bucket) gets its final answer with no `100` and changes
nothing; the client never has to send the body."""
import base64
import hashlib
import json
import socket
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER
from vault_agent_server import ACCESS_KEY, SECRET_KEY, start_with_agent

# curl's wait for `100 Continue` before it sends the body anyway.
CONTINUE_WAIT = 1.0
BODY = b"expect-continue " * 64
READER_KEY, READER_SECRET = "READERKEY", "reader-secret-1"
VAULT_BUCKET = "rec"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_with_agent(tmp_path_factory.mktemp("expect-continue"), bucket=VAULT_BUCKET, more_accounts=f"""\
  - name: reader
    accessKey: {READER_KEY}
    secretKey: "{READER_SECRET}"
    allow: [{{ bucket: {VAULT_BUCKET}, actions: [read, list] }}]
""")
    yield server
    server.cleanup()


def client(server, access=ROOT_USER, secret=ROOT_PASSWORD):
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=access,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1},
                      request_checksum_calculation="when_required"))


@pytest.fixture(scope="module")
def s3(server):
    return client(server)


class Captured(Exception):
    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def _capture(request, **_):
    raise Captured(request)


def prepared(s3_client, call):
    """What boto3 would send for `call(client)`: (method, url, headers, body), signed, not sent."""
    s3_client.meta.events.register("before-send.s3", _capture)
    try:
        call(s3_client)
    except Captured as captured:
        request = captured.request
    else:
        raise AssertionError("boto3 sent nothing")
    finally:
        s3_client.meta.events.unregister("before-send.s3", _capture)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = {name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()}
    return request.method, request.url, headers, body


def raw_head(method, url, headers, body):
    """The request head as bytes, asking for `100-continue`, with the body's Content-Length."""
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()
              if name.lower() not in ("host", "expect", "content-length", "transfer-encoding")]
    lines += [f"Content-Length: {len(body)}", "Expect: 100-continue"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Reader:
    """Reads responses off a socket, each within a deadline."""

    def __init__(self, sock):
        self.sock = sock
        self.data = b""

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed; had {self.data[:200]!r}")
        self.data += chunk

    def response(self, within):
        """(status line, headers, body) of the next response, interim or final."""
        deadline = time.monotonic() + within
        while b"\r\n\r\n" not in self.data:
            self._fill(deadline)
        head, _, self.data = self.data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in lines}
        status = int(status_line.split(" ", 2)[1])
        length = 0 if status < 200 or status in (204, 304) else int(headers.get("content-length", "0"))
        while len(self.data) < length:
            self._fill(deadline)
        body, self.data = self.data[:length], self.data[length:]
        return status_line, status, headers, body


def continued(server, request):
    """Sends the head, expects `100 Continue` within CONTINUE_WAIT, then sends the body; returns
    (status, body) of the final answer."""
    method, url, headers, body = request
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw_head(method, url, headers, body))
        reader = Reader(sock)
        try:
            status_line, status, _, _ = reader.response(within=CONTINUE_WAIT)
        except socket.timeout:
            pytest.fail(f"no 100 Continue within {CONTINUE_WAIT} s for {method} {url}")
        assert status_line == "HTTP/1.1 100 Continue", f"{method} {url}: {status_line} before the body was sent"
        sock.sendall(body)
        _, status, _, answer = reader.response(within=10)
        return status, answer


def refused(server, request):
    """Sends only the head: the final answer must come with no `100` (the body is never sent).
    Returns (status, body)."""
    method, url, headers, body = request
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw_head(method, url, headers, body))
        reader = Reader(sock)
        status_line, status, _, answer = reader.response(within=5)
        assert status >= 400, f"{method} {url}: {status_line} for a request that should be refused"
        return status, answer


def new_bucket(s3, **options):
    name = "expect-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, **options)
    return name


def md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# Every S3 operation that reads a body: (setup, boto3 call, success status, check). `setup(s3)`
# makes what the call needs and returns the names the call and check take.

def plain_bucket(s3):
    return {"bucket": new_bucket(s3)}


def bucket_with_object(s3):
    names = plain_bucket(s3)
    s3.put_object(Bucket=names["bucket"], Key="k", Body=BODY)
    return names


def lock_bucket_with_object(s3):
    bucket = new_bucket(s3, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    return {"bucket": bucket}


def acl_bucket_with_object(s3):
    bucket = new_bucket(s3, ObjectOwnership="BucketOwnerPreferred")
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    return {"bucket": bucket}


def multipart_upload(s3):
    names = plain_bucket(s3)
    names["upload"] = s3.create_multipart_upload(Bucket=names["bucket"], Key="mp")["UploadId"]
    return names


def multipart_with_part(s3):
    names = multipart_upload(s3)
    names["etag"] = s3.upload_part(Bucket=names["bucket"], Key="mp", UploadId=names["upload"], PartNumber=1,
                                   Body=BODY)["ETag"]
    return names


def private_acl():
    return {"Owner": {"ID": ROOT_USER}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": ROOT_USER}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}


def policy(bucket):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"}]})


def retain_until():
    return datetime.now(timezone.utc) + timedelta(days=1)


S3_OPERATIONS = {
    "CreateBucket": (
        lambda s3: {"bucket": "expect-" + uuid.uuid4().hex[:12]},
        lambda c, n: c.create_bucket(Bucket=n["bucket"], CreateBucketConfiguration={"LocationConstraint": "us-east-1"}),
        200, lambda s3, n: s3.head_bucket(Bucket=n["bucket"])),
    "PutObject": (
        plain_bucket, lambda c, n: c.put_object(Bucket=n["bucket"], Key="k", Body=BODY),
        200, lambda s3, n: s3.get_object(Bucket=n["bucket"], Key="k")["Body"].read() == BODY),
    "UploadPart": (
        multipart_upload,
        lambda c, n: c.upload_part(Bucket=n["bucket"], Key="mp", UploadId=n["upload"], PartNumber=1, Body=BODY),
        200, lambda s3, n: s3.list_parts(Bucket=n["bucket"], Key="mp", UploadId=n["upload"])["Parts"][0]["Size"]
        == len(BODY)),
    "CompleteMultipartUpload": (
        multipart_with_part,
        lambda c, n: c.complete_multipart_upload(
            Bucket=n["bucket"], Key="mp", UploadId=n["upload"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": n["etag"]}]}),
        200, lambda s3, n: s3.get_object(Bucket=n["bucket"], Key="mp")["Body"].read() == BODY),
    "PutBucketTagging": (
        plain_bucket, lambda c, n: c.put_bucket_tagging(Bucket=n["bucket"], Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}),
        204, lambda s3, n: s3.get_bucket_tagging(Bucket=n["bucket"])["TagSet"] == [{"Key": "a", "Value": "b"}]),
    "PutObjectTagging": (
        bucket_with_object,
        lambda c, n: c.put_object_tagging(Bucket=n["bucket"], Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}),
        200, lambda s3, n: s3.get_object_tagging(Bucket=n["bucket"], Key="k")["TagSet"] == [{"Key": "a", "Value": "b"}]),
    "DeleteObjects": (
        bucket_with_object, lambda c, n: c.delete_objects(Bucket=n["bucket"], Delete={"Objects": [{"Key": "k"}]}),
        200, lambda s3, n: "Contents" not in s3.list_objects_v2(Bucket=n["bucket"])),
    "PutBucketVersioning": (
        plain_bucket,
        lambda c, n: c.put_bucket_versioning(Bucket=n["bucket"], VersioningConfiguration={"Status": "Enabled"}),
        200, lambda s3, n: s3.get_bucket_versioning(Bucket=n["bucket"])["Status"] == "Enabled"),
    "PutBucketCors": (
        plain_bucket,
        lambda c, n: c.put_bucket_cors(Bucket=n["bucket"], CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}),
        200, lambda s3, n: len(s3.get_bucket_cors(Bucket=n["bucket"])["CORSRules"]) == 1),
    "PutObjectLockConfiguration": (
        lock_bucket_with_object,
        lambda c, n: c.put_object_lock_configuration(Bucket=n["bucket"], ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}),
        200, lambda s3, n: s3.get_object_lock_configuration(Bucket=n["bucket"])["ObjectLockConfiguration"]["Rule"]
        ["DefaultRetention"]["Days"] == 1),
    "PutObjectRetention": (
        lock_bucket_with_object,
        lambda c, n: c.put_object_retention(Bucket=n["bucket"], Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": retain_until()}),
        200, lambda s3, n: s3.get_object_retention(Bucket=n["bucket"], Key="k")["Retention"]["Mode"] == "GOVERNANCE"),
    "PutObjectLegalHold": (
        lock_bucket_with_object,
        lambda c, n: c.put_object_legal_hold(Bucket=n["bucket"], Key="k", LegalHold={"Status": "ON"}),
        200, lambda s3, n: s3.get_object_legal_hold(Bucket=n["bucket"], Key="k")["LegalHold"]["Status"] == "ON"),
    "PutBucketPolicy": (
        plain_bucket, lambda c, n: c.put_bucket_policy(Bucket=n["bucket"], Policy=policy(n["bucket"])),
        204, lambda s3, n: "public/*" in s3.get_bucket_policy(Bucket=n["bucket"])["Policy"]),
    "PutPublicAccessBlock": (
        plain_bucket,
        lambda c, n: c.put_public_access_block(Bucket=n["bucket"], PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}),
        200, lambda s3, n: s3.get_public_access_block(Bucket=n["bucket"])["PublicAccessBlockConfiguration"]
        ["BlockPublicPolicy"] is True),
    "PutBucketOwnershipControls": (
        plain_bucket,
        lambda c, n: c.put_bucket_ownership_controls(Bucket=n["bucket"], OwnershipControls={
            "Rules": [{"ObjectOwnership": "ObjectWriter"}]}),
        200, lambda s3, n: s3.get_bucket_ownership_controls(Bucket=n["bucket"])["OwnershipControls"]["Rules"]
        == [{"ObjectOwnership": "ObjectWriter"}]),
    "PutBucketAcl": (
        acl_bucket_with_object, lambda c, n: c.put_bucket_acl(Bucket=n["bucket"], AccessControlPolicy=private_acl()),
        200, lambda s3, n: len(s3.get_bucket_acl(Bucket=n["bucket"])["Grants"]) == 2),
    "PutObjectAcl": (
        acl_bucket_with_object,
        lambda c, n: c.put_object_acl(Bucket=n["bucket"], Key="k", AccessControlPolicy=private_acl()),
        200, lambda s3, n: len(s3.get_object_acl(Bucket=n["bucket"], Key="k")["Grants"]) == 2),
}


@pytest.mark.parametrize("operation", S3_OPERATIONS)
def test_s3_operation_with_a_body_answers_100_continue_before_reading_it(server, s3, operation):
    setup, call, success, check = S3_OPERATIONS[operation]
    names = setup(s3)
    status, answer = continued(server, prepared(client(server), lambda c: call(c, names)))
    assert status == success, answer
    assert check(s3, names)


def form_upload(server, s3, bucket, key):
    """A browser form upload as boto3 presigns it: (method, url, headers, body)."""
    form = s3.generate_presigned_post(bucket, key, ExpiresIn=300)
    boundary = "expect-continue-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in form["fields"].items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + BODY + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return "POST", form["url"], {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


def test_post_form_upload_answers_100_continue(server, s3):
    bucket = new_bucket(s3)
    status, answer = continued(server, form_upload(server, s3, bucket, "form"))
    assert status == 204, answer
    assert s3.get_object(Bucket=bucket, Key="form")["Body"].read() == BODY


VAULT_AUTH = {"X-Kerberos-Storage-Accesskey": ACCESS_KEY, "X-Kerberos-Storage-Secretaccesskey": SECRET_KEY}


def vault_upload(server, filename, secret=SECRET_KEY):
    headers = dict(VAULT_AUTH, **{"X-Kerberos-Storage-Secretaccesskey": secret, "X-Kerberos-Storage-Directory": "cam",
                                  "X-Kerberos-Storage-Filename": filename, "Content-Type": "video/mp4"})
    return "POST", f"{server.endpoint}/api/storage", headers, BODY


def test_vault_upload_answers_100_continue(server, s3):
    status, answer = continued(server, vault_upload(server, "continued.mp4"))
    assert status == 200, answer
    assert s3.get_object(Bucket=VAULT_BUCKET, Key="cam/continued.mp4")["Body"].read() == BODY


def tus_create(server, filename):
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"filename": filename, "directory": "cam"}.items())
    created = requests.post(f"{server.endpoint}/api/storage/tus/", timeout=10, headers=dict(
        VAULT_AUTH, **{"Tus-Resumable": "1.0.0", "Upload-Length": str(len(BODY)), "Upload-Metadata": metadata}))
    assert created.status_code == 201, created.text
    return "/api/storage/tus/" + created.headers["Location"].rsplit("/", 1)[-1]


def tus_patch(server, path, secret=SECRET_KEY):
    headers = dict(VAULT_AUTH, **{"X-Kerberos-Storage-Secretaccesskey": secret, "Tus-Resumable": "1.0.0",
                                  "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
    return "PATCH", server.endpoint + path, headers, BODY


def tus_offset(server, path):
    answer = requests.head(server.endpoint + path, headers=dict(VAULT_AUTH, **{"Tus-Resumable": "1.0.0"}), timeout=10)
    assert answer.status_code == 200
    return int(answer.headers["Upload-Offset"])


def test_tus_patch_answers_100_continue(server, s3):
    path = tus_create(server, "tus.mp4")
    status, answer = continued(server, tus_patch(server, path))
    assert status == 204, answer
    assert s3.get_object(Bucket=VAULT_BUCKET, Key="cam/tus.mp4")["Body"].read() == BODY


def admin_put_tier(server, name, path, secret=ROOT_PASSWORD):
    """PUT /admin/v1/tiers/{name}, signed as the admin client signs (botocore's S3SigV4Auth)."""
    body = json.dumps({"type": "filesystem", "path": str(path)}).encode()
    url = f"{server.endpoint}/admin/v1/tiers/{name}"
    request = AWSRequest(method="PUT", url=url, data=body, headers={"content-type": "application/json"})
    S3SigV4Auth(Credentials(ROOT_USER, secret), "s3", "us-east-1").add_auth(request)
    return "PUT", url, dict(request.headers), body


def admin_tier_status(server, name):
    request = AWSRequest(method="GET", url=f"{server.endpoint}/admin/v1/tiers/{name}")
    S3SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    return requests.get(request.url, headers=dict(request.headers), timeout=10).status_code


def test_admin_put_answers_100_continue(server, tmp_path):
    status, answer = continued(server, admin_put_tier(server, "nas", tmp_path))
    assert status == 201, answer
    assert admin_tier_status(server, "nas") == 200


def test_requests_refused_before_their_body_get_the_final_answer_without_100(server, s3, tmp_path):
    """A waiting client is told no at once and never sends the body; nothing is changed."""
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="kept", Body=BODY)
    wrong = client(server, secret="not-the-secret")

    tagging = prepared(wrong, lambda c: c.put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}))
    status, answer = refused(server, tagging)
    assert status == 403 and b"SignatureDoesNotMatch" in answer
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket=bucket)

    reader = client(server, READER_KEY, READER_SECRET)
    s3.put_object(Bucket=VAULT_BUCKET, Key="reader/kept", Body=BODY)
    for call in [lambda c: c.put_object(Bucket=VAULT_BUCKET, Key="reader/new", Body=BODY),
                 lambda c: c.put_object_tagging(Bucket=VAULT_BUCKET, Key="reader/kept",
                                                Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}),
                 lambda c: c.put_bucket_versioning(Bucket=VAULT_BUCKET, VersioningConfiguration={"Status": "Enabled"})]:
        status, answer = refused(server, prepared(reader, call))
        assert status == 403 and b"AccessDenied" in answer
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=VAULT_BUCKET, Prefix="reader/")["Contents"]] == ["reader/kept"]
    assert s3.get_object_tagging(Bucket=VAULT_BUCKET, Key="reader/kept")["TagSet"] == []
    assert "Status" not in s3.get_bucket_versioning(Bucket=VAULT_BUCKET)

    status, answer = refused(server, prepared(client(server), lambda c: c.put_object(
        Bucket="expect-missing-bucket", Key="k", Body=BODY)))
    assert status == 404 and b"NoSuchBucket" in answer

    status, _ = refused(server, vault_upload(server, "refused.mp4", secret="wrong"))
    assert status == 401
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchKey|Not Found|404"):
        s3.head_object(Bucket=VAULT_BUCKET, Key="cam/refused.mp4")

    path = tus_create(server, "refused-tus.mp4")
    status, _ = refused(server, tus_patch(server, path, secret="wrong"))
    assert status == 401
    assert tus_offset(server, path) == 0

    status, answer = refused(server, admin_put_tier(server, "refused", tmp_path, secret="wrong"))
    assert status == 403 and b"signature" in answer
    assert admin_tier_status(server, "refused") == 404
