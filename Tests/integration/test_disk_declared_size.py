"""Every kind of upload is refused at once, with 507, when its declared size cannot fit above
the space reserve (PutObject, UploadPart, a browser POST, the Vault legacy POST, tus creation and
a tus PATCH), before the client sends its body; and an upload without a declared size (a chunked
Vault POST or tus PATCH) stops with 507 as soon as the room runs out, stores nothing and its
bytes are reclaimed. The data directory sits on a small tmpfs (mounting it needs root; the tests
are skipped otherwise)."""
import json
import os
import socket
import time

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot
from test_bad_input import read_response, signed_put_headers
from vault_agent_server import ACCESS_KEY, SECRET_KEY, VAULT_HEADERS

DECLARED = 8 << 20  # more than the device has left above the reserve once it is nearly full


@pytest.fixture
def server(tmp_path, small_disk):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""storage: {{ segmentSize: 1MiB, reserve: 3MiB }}
buckets: [rec]
accounts:
  - name: agents
    accessKey: {ACCESS_KEY}
    secretKey: {SECRET_KEY}
    allow: [{{ bucket: rec, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: rec }}
""")
    server = DepotServer(data_dir=str(small_disk / "data"), config=str(config)).start()
    yield server
    server.cleanup()


def storage_status(server):
    shown = run_depot("status", "--json", env={"DEPOT_ENDPOINT": server.endpoint})
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["storage"]


def leave_free(small_disk, server, room):
    """Fills the device with a file until `room` bytes are left for uploads above the reserve."""
    time.sleep(1.5)  # the ballast is made on the server's first pass; let it settle first
    available = storage_status(server)["availableForUploadsBytes"]
    filler = small_disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, available - room))
    return filler


def raw_headers(method, path, port, headers):
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer_to_headers_only(server, head):
    """Sends a request's head and none of its body; the answer must come without the body."""
    started = time.time()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head)
        response = read_response(sock, timeout=5)
        sock.settimeout(2)
        try:
            response += sock.recv(65536)
        except OSError:
            pass
    assert time.time() - started < 5, "the server waited for the body"
    return response


def signed_s3_head(server, method, path, query, length):
    url = f"{server.endpoint}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                                                          "Content-Length": str(length)})
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return raw_headers(method, path + (f"?{query}" if query else ""), server.port, headers)


def tus_create(server, length):
    return requests.post(f"{server.endpoint}/api/storage/tus/", timeout=10, headers={
        **VAULT_HEADERS, "Tus-Resumable": "1.0.0", "Upload-Length": str(length), "X-Kerberos-Storage-Directory": "cam",
        "Upload-Metadata": "filename " + __import__("base64").b64encode(b"cam_1_clip.mp4").decode()})


def test_every_upload_kind_declaring_too_much_is_refused_before_its_body(server, small_disk):
    s3 = server.client()
    upload_id = s3.create_multipart_upload(Bucket="rec", Key="parts")["UploadId"]
    created = tus_create(server, DECLARED)
    assert created.status_code == 201, created.text
    tus_path = created.headers["Location"]
    leave_free(small_disk, server, 1 << 20)

    refused = {
        "PutObject": signed_put_headers(server, "rec", "too-big", DECLARED),
        "UploadPart": signed_s3_head(server, "PUT", "/rec/parts", f"partNumber=1&uploadId={upload_id}", DECLARED),
        "POST form": raw_headers("POST", "/rec", server.port, {
            "Content-Type": "multipart/form-data; boundary=xyz", "Content-Length": str(DECLARED)}),
        "Vault POST": raw_headers("POST", "/api/storage", server.port, {
            **VAULT_HEADERS, "X-Kerberos-Storage-FileName": "cam_1_clip.mp4", "X-Kerberos-Storage-Directory": "cam",
            "Content-Length": str(DECLARED)}),
        "tus PATCH": raw_headers("PATCH", tus_path, server.port, {
            **VAULT_HEADERS, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream", "Content-Length": str(DECLARED)}),
    }
    for kind, head in refused.items():
        response = answer_to_headers_only(server, head)
        assert response.startswith(b"HTTP/1.1 507"), (kind, response[:400])
        if kind.startswith("Vault") or kind.startswith("tus"):
            assert b'{"data":' in response, (kind, response[:400])
        else:
            assert b"<Code>InsufficientStorage</Code>" in response, (kind, response[:400])

    # tus: the size is declared when the upload is created, so that is when it is refused.
    late = tus_create(server, DECLARED)
    assert late.status_code == 507, late.text
    assert "data" in late.json()

    # Nothing was stored; an upload that fits is still taken.
    assert "Contents" not in s3.list_objects_v2(Bucket="rec")
    assert s3.list_parts(Bucket="rec", Key="parts", UploadId=upload_id).get("Parts", []) == []
    s3.put_object(Bucket="rec", Key="small", Body=b"fits")


def chunked_until_refused(server, head, limit=40 << 20):
    """Streams random chunks (Transfer-Encoding: chunked) until the server answers or `limit`."""
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head)
        sock.settimeout(0.001)
        response = b""
        try:
            while sent < limit:
                sock.settimeout(10)
                piece = os.urandom(256 << 10)  # new bytes each time: repeated ones would be deduplicated
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                sent += len(piece)
                sock.settimeout(0.01)
                try:
                    response = sock.recv(65536)
                    if response:
                        break
                except socket.timeout:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        if not response:
            response = read_response(sock, timeout=5)
    return response, sent


def test_uploads_without_a_declared_size_stop_when_the_room_runs_out(server, small_disk):
    s3 = server.client()
    s3.put_object(Bucket="rec", Key="kept", Body=b"kept")
    time.sleep(1.5)
    before = storage_status(server)["availableForUploadsBytes"]
    assert before < 30 << 20

    # The Vault agent's legacy POST is chunked, with no Content-Length.
    response, sent = chunked_until_refused(server, raw_headers("POST", "/api/storage", server.port, {
        **VAULT_HEADERS, "X-Kerberos-Storage-FileName": "cam_1_clip.mp4", "X-Kerberos-Storage-Directory": "cam",
        "Transfer-Encoding": "chunked"}))
    assert response.startswith(b"HTTP/1.1 507"), (response[:400], sent, server.logs()[-3000:])
    assert sent < before + (16 << 20), "the server read far more than the device could hold"

    # Its bytes are reclaimed within seconds, and no partial recording is visible.
    deadline = time.time() + 15
    while storage_status(server)["availableForUploadsBytes"] < before - (2 << 20):
        assert time.time() < deadline, f"the refused upload's bytes were not reclaimed: {storage_status(server)}"
        time.sleep(0.3)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="rec")["Contents"]] == ["kept"]

    # A chunked tus PATCH likewise: 507, and the upload's offset does not move.
    # (the upload is made while it fits; then something else takes most of the room)
    created = tus_create(server, before - (1 << 20))
    assert created.status_code == 201, created.text
    tus_path = created.headers["Location"]
    filler = leave_free(small_disk, server, 2 << 20)
    response, _ = chunked_until_refused(server, raw_headers("PATCH", tus_path, server.port, {
        **VAULT_HEADERS, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream", "Transfer-Encoding": "chunked"}))
    assert response.startswith(b"HTTP/1.1 507"), response[:400]
    head = requests.head(f"{server.endpoint}{tus_path}", headers={**VAULT_HEADERS, "Tus-Resumable": "1.0.0"}, timeout=10)
    assert head.headers["Upload-Offset"] == "0"
    filler.unlink()
    deadline = time.time() + 15
    while storage_status(server)["availableForUploadsBytes"] < before - (2 << 20):
        assert time.time() < deadline, f"the refused PATCH's bytes were not reclaimed: {storage_status(server)}"
        time.sleep(0.3)
    s3.put_object(Bucket="rec", Key="after", Body=os.urandom(1 << 20))
