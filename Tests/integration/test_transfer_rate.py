"""Issue 14 #6: bodies slower than server.minTransferRate (averaged over
server.transferRateWindow of the server waiting on the client) are cut: a PUT trickling at
1 byte/s gets S3's 400 RequestTimeout and stores nothing; a GET whose client does not read has its
connection closed. Before, every byte reset the idle timer and both stayed open for good."""
import json
import select
import socket
import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot

WINDOW = 2
VAULT_SECRET = "vault-secret-6"


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    config = tmp_path_factory.mktemp("cfg") / "depot.yaml"
    config.write_text(f"""
server: {{ minTransferRate: 1KiB, transferRateWindow: {WINDOW}s }}
buckets: [rec]
accounts:
  - name: agents
    accessKey: AGENTKEY
    secretKey: "{VAULT_SECRET}"
    allow: [{{ bucket: rec, actions: [read, write, list] }}]
    vault: {{ directory: "*", bucket: rec }}
""")
    server = DepotServer(config=str(config)).start()
    yield server
    server.cleanup()


def signed_request(server, method, path, length=None):
    headers = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    if length is not None:
        headers["Content-Length"] = str(length)
    request = AWSRequest(method=method, url=f"{server.endpoint}{path}", headers=headers)
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_until_closed(sock, timeout=5):
    """What arrives until the server closes the connection (EOF or reset) or `timeout` passes
    without a byte; and whether the server closed it."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def read_answer(sock, timeout=5):
    return read_until_closed(sock, timeout)[0]


def trickle(port, head):
    """Sends `head`, then one body byte a second until the server answers; returns the answer,
    the seconds it took and the bytes sent."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < 6 * WINDOW:
            readable, _, _ = select.select([sock], [], [], 1.0)
            if readable:
                break
            sock.sendall(b"x")
            sent += 1
        elapsed = time.monotonic() - started
        return read_answer(sock), elapsed, sent


def test_trickling_put_is_answered_request_timeout_and_stores_nothing(strict):
    s3 = strict.client()
    answer, elapsed, sent = trickle(strict.port, signed_request(strict, "PUT", "/rec/trickle", length=1000))
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b"<Code>RequestTimeout</Code>" in answer
    assert b"not read from or written to within the timeout period" in answer
    assert elapsed < 3 * WINDOW, elapsed
    assert sent < 1000
    assert "Contents" not in s3.list_objects_v2(Bucket="rec", Prefix="trickle")
    assert "the request body came slower than 1024 bytes/s" in strict.logs()
    # A normal upload at full speed is not affected.
    s3.put_object(Bucket="rec", Key="fast", Body=b"f" * 200_000)
    assert s3.get_object(Bucket="rec", Key="fast")["Body"].read() == b"f" * 200_000


def test_trickling_vault_upload_is_answered_408_json(strict):
    head = ("POST /api/storage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
            f"X-Kerberos-Storage-Accesskey: AGENTKEY\r\nX-Kerberos-Storage-Secretaccesskey: {VAULT_SECRET}\r\n"
            "X-Kerberos-Storage-Directory: cam\r\nX-Kerberos-Storage-Filename: 1_2_3_4_5_6.mp4\r\n\r\n").encode()
    answer, elapsed, _ = trickle(strict.port, head)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert "slower than 1024 bytes/s" in json.loads(answer.partition(b"\r\n\r\n")[2])["data"]
    assert elapsed < 3 * WINDOW
    assert "Contents" not in strict.client().list_objects_v2(Bucket="rec", Prefix="cam/")


def test_response_the_client_does_not_read_is_closed(strict):
    size = 48 << 20
    s3 = strict.client()
    s3.put_object(Bucket="rec", Key="big", Body=b"b" * size)
    with socket.create_connection(("127.0.0.1", strict.port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(signed_request(strict, "GET", "/rec/big"))
        time.sleep(4 * WINDOW)  # not reading: the server's queue stays full
        data, closed = read_until_closed(sock, timeout=3)
    assert closed and len(data) < size, "the server kept the unread response open"
    assert "closing a connection whose client does not read its response" in strict.logs()


def test_a_slow_server_side_does_not_count_against_the_client(strict):
    # A client waiting for 100-continue sends nothing until told: its silence is not slowness.
    s3 = strict.client()
    with socket.create_connection(("127.0.0.1", strict.port)) as sock:
        head = signed_request(strict, "PUT", "/rec/continued", length=5)
        sock.sendall(head.replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n", 1))
        sock.settimeout(5)
        assert sock.recv(4096).startswith(b"HTTP/1.1 100")
        sock.sendall(b"hello")
        assert read_answer(sock, timeout=2).startswith(b"HTTP/1.1 200")
    assert s3.get_object(Bucket="rec", Key="continued")["Body"].read() == b"hello"


def test_transfer_rate_settings_are_validated(tmp_path):
    for text, field, reason in [
        ("minTransferRate: fast", "server.minTransferRate", "must be a size"),
        ("transferRateWindow: 0s", "server.transferRateWindow", "must be at least 1s"),
    ]:
        config = tmp_path / "depot.yaml"
        config.write_text(f"server:\n  {text}\n")
        check = run_depot("config", "check", str(config))
        assert check.returncode != 0
        assert field in check.stderr and reason in check.stderr, check.stderr
    config = tmp_path / "off.yaml"
    config.write_text("server:\n  minTransferRate: 0\n")
    assert run_depot("config", "check", str(config)).returncode == 0
