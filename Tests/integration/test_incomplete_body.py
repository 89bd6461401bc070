"""Issue 14 #9: a body shorter than its Content-Length, then closed by the client, is a client
error (S3 400 IncompleteBody, Vault JSON 400), not a 500; the log names the bytes received, and
nothing is stored. Driven with raw sockets so the body can really stop early."""
import json
import os

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from vault_agent_server import SECRET_KEY, start_with_agent
from conftest import ROOT_PASSWORD, ROOT_USER
from raw_http import exchange

PROMISED = 1 << 20
SENT = 1000
VAULT_SECRET = SECRET_KEY


def signed_head(depot, method, path, length):
    request = AWSRequest(method=method, url=f"{depot.endpoint}{path}",
                         headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-Length": str(length)})
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{depot.port}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def send_short_body(port, head):
    """Sends the head and SENT of the promised bytes, closes the sending side, and returns
    (status, body) of the answer."""
    return exchange(port, head + os.urandom(SENT))


def test_put_object_short_body_is_incomplete_body(depot, s3, bucket):
    status, body = send_short_body(depot.port, signed_head(depot, "PUT", f"/{bucket}/short", PROMISED))
    assert status == 400, body
    assert b"<Code>IncompleteBody</Code>" in body
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert f"received {SENT} of {PROMISED} bytes" in depot.logs()
    s3.put_object(Bucket=bucket, Key="still-alive", Body=b"ok")


def test_upload_part_short_body_is_incomplete_body(depot, s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    path = f"/{bucket}/parts?partNumber=1&uploadId={upload}"
    status, body = send_short_body(depot.port, signed_head(depot, "PUT", path, PROMISED))
    assert status == 400, body
    assert b"<Code>IncompleteBody</Code>" in body
    assert s3.list_parts(Bucket=bucket, Key="parts", UploadId=upload).get("Parts", []) == []


@pytest.fixture
def vault(tmp_path):
    server = start_with_agent(tmp_path, bucket="recordings")
    yield server
    server.cleanup()


def test_vault_legacy_post_short_body_is_json_400(vault):
    head = (f"POST /api/storage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {PROMISED}\r\n"
            f"X-Kerberos-Storage-Accesskey: AGENTKEY\r\nX-Kerberos-Storage-Secretaccesskey: {VAULT_SECRET}\r\n"
            f"X-Kerberos-Storage-Directory: cedric\r\nX-Kerberos-Storage-Filename: short.mp4\r\n\r\n").encode()
    status, body = send_short_body(vault.port, head)
    assert status == 400, body
    assert "data" in json.loads(body)
    assert f"received {SENT} of {PROMISED} bytes" in vault.logs()
    assert "Contents" not in vault.client().list_objects_v2(Bucket="recordings")


def test_vault_legacy_post_cut_off_chunked_body_is_json_400(vault):
    # The agent sends its recordings chunked: a body cut off inside the chunks is the same case.
    head = (f"POST /api/storage HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            f"X-Kerberos-Storage-Accesskey: AGENTKEY\r\nX-Kerberos-Storage-Secretaccesskey: {VAULT_SECRET}\r\n"
            f"X-Kerberos-Storage-Directory: cedric\r\nX-Kerberos-Storage-Filename: chunked.mp4\r\n\r\n").encode()
    status, body = send_short_body(vault.port, head + f"{SENT:x}\r\n".encode())
    assert status == 400, body
    assert "data" in json.loads(body)
    assert "received 1000 bytes of a chunked body" in vault.logs()
    assert "Contents" not in vault.client().list_objects_v2(Bucket="recordings")
