"""server.maxObjectSize is enforced wherever an object is made: PutObject (by its declared length,
before the body is read, also aws-chunked), UploadPart, CompleteMultipartUpload (the sum of the
parts), browser POST, and the Vault API's legacy POST and tus (which advertises it)."""
import base64
import datetime
import hashlib
import hmac
import json
import socket
import urllib.parse

import botocore
import pytest
import requests

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer

MAX = 6 * 1024 * 1024  # above S3's 5 MiB part minimum, so a two-part upload can pass it in total
SECRET = "vault-secret-1"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    config = tmp_path_factory.mktemp("cfg") / "depot.yaml"
    config.write_text(f"""
server:
  maxObjectSize: 6MiB
buckets: [limited]
accounts:
  - name: agents
    accessKey: AGENTKEY
    secretKey: "{SECRET}"
    allow: [{{ bucket: limited, actions: [read, write, list] }}]
    vault: {{ directory: "*", bucket: limited }}
""")
    server = DepotServer(config=str(config)).start()
    yield server
    server.cleanup()


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def assert_absent(s3, key):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="limited", Key=key)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def raw_exchange(server, head, timeout=10):
    """Sends only the request head (no body) and returns the answer: a size refusal must come
    before the server waits for the body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        answer = b""
        while b"</Error>" not in answer:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
    return answer.decode(errors="replace")


def test_put_at_the_limit_passes_and_one_byte_more_is_entity_too_large(small):
    s3 = small.client()
    s3.put_object(Bucket="limited", Key="exact", Body=b"a" * MAX)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="limited", Key="over", Body=b"a" * (MAX + 1))
    assert error_code(e) == ("EntityTooLarge", 400)
    assert_absent(s3, "over")


def test_declared_length_is_refused_before_the_body(small):
    url = small.client().generate_presigned_url("put_object", Params={"Bucket": "limited", "Key": "early"}, ExpiresIn=300)
    parsed = urllib.parse.urlsplit(url)
    head = (f"PUT {parsed.path}?{parsed.query} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
            f"Content-Length: {MAX + 1}\r\n\r\n")
    answer = raw_exchange(small, head)
    assert answer.startswith("HTTP/1.1 400"), answer
    assert "<Code>EntityTooLarge</Code>" in answer and f"<MaxSizeAllowed>{MAX}</MaxSizeAllowed>" in answer


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def test_aws_chunked_declared_length_above_the_limit_is_refused(small):
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/us-east-1/s3/aws4_request"
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    headers = {"host": f"127.0.0.1:{small.port}", "x-amz-date": amz_date, "x-amz-content-sha256": mode,
               "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(MAX + 1),
               "content-length": str(MAX + 1 + 200)}
    signed = sorted(headers)
    canonical = "\n".join(["PUT", "/limited/chunked", "", "".join(f"{h}:{headers[h]}\n" for h in signed),
                           ";".join(signed), mode])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + ROOT_PASSWORD).encode(), day), "us-east-1"), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ROOT_USER}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    head = "PUT /limited/chunked HTTP/1.1\r\n" + "".join(f"{h}: {v}\r\n" for h, v in headers.items()) + "\r\n"
    answer = raw_exchange(small, head)
    assert answer.startswith("HTTP/1.1 400") and "<Code>EntityTooLarge</Code>" in answer, answer
    assert_absent(small.client(), "chunked")


def test_multipart_part_and_total_are_held_to_the_limit(small):
    s3 = small.client()
    upload = s3.create_multipart_upload(Bucket="limited", Key="multi")["UploadId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket="limited", Key="multi", UploadId=upload, PartNumber=1, Body=b"p" * (MAX + 1))
    assert error_code(e) == ("EntityTooLarge", 400)
    first = s3.upload_part(Bucket="limited", Key="multi", UploadId=upload, PartNumber=1, Body=b"p" * (5 << 20))
    second = s3.upload_part(Bucket="limited", Key="multi", UploadId=upload, PartNumber=2, Body=b"q" * (2 << 20))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(
            Bucket="limited", Key="multi", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first["ETag"]},
                                       {"PartNumber": 2, "ETag": second["ETag"]}]})
    assert error_code(e) == ("EntityTooLarge", 400)
    assert_absent(s3, "multi")
    # Within the limit in total, the same upload completes.
    small_part = s3.upload_part(Bucket="limited", Key="multi", UploadId=upload, PartNumber=2, Body=b"q" * 1024)
    s3.complete_multipart_upload(
        Bucket="limited", Key="multi", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first["ETag"]},
                                   {"PartNumber": 2, "ETag": small_part["ETag"]}]})
    assert s3.head_object(Bucket="limited", Key="multi")["ContentLength"] == (5 << 20) + 1024


def test_browser_post_above_the_limit_is_refused(small):
    s3 = small.client()
    post = s3.generate_presigned_post("limited", "form-upload", ExpiresIn=300)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("clip.mp4", b"f" * (MAX + 1))}, timeout=30)
    assert r.status_code == 400 and "<Code>EntityTooLarge</Code>" in r.text, r.text
    assert_absent(s3, "form-upload")


def vault_headers(**extra):
    headers = {"X-Kerberos-Storage-Accesskey": "AGENTKEY", "X-Kerberos-Storage-Secretaccesskey": SECRET,
               "X-Kerberos-Storage-Provider": "", "X-Kerberos-Storage-Directory": "cam",
               "X-Kerberos-Storage-Device": "agent-1", "X-Kerberos-Storage-Capture": "IPCamera"}
    headers.update(extra)
    return headers


def test_vault_tus_advertises_and_enforces_the_limit(small):
    options = requests.options(small.endpoint + "/api/storage/tus/", headers={"Tus-Resumable": "1.0.0"}, timeout=10)
    assert options.headers.get("Tus-Max-Size") == str(MAX), options.headers
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"filename": "big.mp4", "directory": "cam", "device": "agent-1"}.items())
    r = requests.post(small.endpoint + "/api/storage/tus/", timeout=10, headers=vault_headers(**{
        "Tus-Resumable": "1.0.0", "Upload-Length": str(MAX + 1), "Upload-Metadata": metadata,
        "X-Kerberos-Storage-Filename": "big.mp4"}))
    assert r.status_code == 413, r.text
    assert "data" in r.json() and str(MAX) in r.json()["data"]


def test_vault_legacy_post_above_the_limit_is_413_and_stores_nothing(small):
    def body():
        for _ in range(7):
            yield b"v" * (1 << 20)
    r = requests.post(small.endpoint + "/api/storage", data=body(), timeout=30,
                      headers=vault_headers(**{"X-Kerberos-Storage-Filename": "legacy.mp4"}))
    assert r.status_code == 413, r.text
    assert "data" in r.json()
    assert_absent(small.client(), "cam/legacy.mp4")


def test_copy_of_an_object_above_a_lowered_limit_is_refused(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("buckets: [copies]\n")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        s3.put_object(Bucket="copies", Key="big", Body=b"b" * (MAX + 1))
        s3.put_object(Bucket="copies", Key="fits", Body=b"f" * 1024)
        server.stop()
        config.write_text("server:\n  maxObjectSize: 6MiB\nbuckets: [copies]\n")
        server.start()
        s3 = server.client()
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.copy_object(Bucket="copies", Key="big-copy", CopySource={"Bucket": "copies", "Key": "big"})
        assert error_code(e) == ("EntityTooLarge", 400)
        assert_absent_in(s3, "copies", "big-copy")
        s3.copy_object(Bucket="copies", Key="fits-copy", CopySource={"Bucket": "copies", "Key": "fits"})
    finally:
        server.cleanup()


def assert_absent_in(s3, bucket, key):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
