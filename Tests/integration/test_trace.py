"""`GET /admin/v1/trace` (and `depot trace`): live requests as they finish, one JSON line each,
with filters (errors only, an account, a bucket), bounded (at most 4 readers, each with its own
buffer), ending when the reader goes away."""
import contextlib
import http.client
import json
import os
import socket
import subprocess
import queue
import re
import threading
import time

import boto3
import botocore
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import DEPOT_BIN, ROOT_PASSWORD, ROOT_USER, DepotServer

CONFIG = """buckets: [rec, other]
accounts:
  - name: camera7
    accessKey: CAM7KEY
    secretKey: camera7-secret-1234
    allow: [{ bucket: rec, prefix: "cam7/", actions: [read, write] }, { bucket: other, actions: [read, write] }]
"""


@pytest.fixture
def server(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text(CONFIG)
    server = DepotServer(config=str(config)).start()
    yield server
    server.cleanup()


def camera(server):
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="CAM7KEY",
        aws_secret_access_key="camera7-secret-1234",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))


class Trace:
    """One trace stream read on a thread: its lines (parsed) arrive in `lines`. A raw
    http.client connection, so that `close` shuts the socket at once, as a client going away does."""

    def __init__(self, server, query="", access=ROOT_USER, secret=ROOT_PASSWORD):
        url = f"{server.endpoint}/admin/v1/trace" + (f"?{query}" if query else "")
        request = AWSRequest(method="GET", url=url, data=b"")
        S3SigV4Auth(Credentials(access, secret), "s3", "us-east-1").add_auth(request)
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.connection.request("GET", url.split(str(server.port), 1)[1], headers=dict(request.headers))
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.lines = queue.Queue()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    break
                if raw.strip():
                    self.lines.put(json.loads(raw))
        except Exception:  # the test closed the stream
            pass
        self.lines.put(None)

    def next(self, timeout=5):
        return self.lines.get(timeout=timeout)

    def requests_within(self, seconds):
        """The request lines that arrive within `seconds`."""
        found, deadline = [], time.time() + seconds
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            if "notice" not in line:
                found.append(line)
        return found

    def close(self):
        with contextlib.suppress(OSError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def subscribers(server):
    text = requests.get(f"{server.endpoint}/metrics", timeout=10).text
    match = re.search(r"^depot_trace_subscribers(?:\{\})? (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0


def test_errors_only_trace_sees_a_refusal_live(server):
    trace = Trace(server, "errors=true")
    try:
        assert trace.status == 200
        assert trace.response.getheader("content-type") == "application/x-ndjson"
        assert trace.next() == {"notice": "tracing", "errorsOnly": True}
        cam = camera(server)
        cam.put_object(Bucket="rec", Key="cam7/ok.mp4", Body=b"x" * 100)
        with pytest.raises(botocore.exceptions.ClientError):
            cam.put_object(Bucket="rec", Key="cam8/no.mp4", Body=b"x")
        seen = trace.requests_within(3)
        assert len(seen) == 1, seen
        line = seen[0]
        assert line["status"] == 403 and line["error_code"] == "AccessDenied" and line["access_key"] == "CAM7KEY", line
        assert line["account"] == "camera7" and line["bucket"] == "rec" and line["key"] == "cam8/no.mp4"
        assert line["operation"] == "PutObject" and isinstance(line["duration_ms"], float) and line["time"]
    finally:
        trace.close()


def test_filters_by_account_and_bucket(server):
    by_bucket = Trace(server, "bucket=other")
    by_account = Trace(server, "account=camera7")
    try:
        assert by_bucket.next()["bucket"] == "other" and by_account.next()["account"] == "camera7"
        root = server.client()
        root.put_object(Bucket="rec", Key="root.txt", Body=b"r")
        cam = camera(server)
        cam.put_object(Bucket="other", Key="o.txt", Body=b"o")
        cam.put_object(Bucket="rec", Key="cam7/c.txt", Body=b"c")
        bucket_lines = by_bucket.requests_within(2)
        assert [(l["bucket"], l["key"]) for l in bucket_lines] == [("other", "o.txt")], bucket_lines
        account_lines = by_account.requests_within(1)
        assert sorted(l["key"] for l in account_lines) == ["cam7/c.txt", "o.txt"], account_lines
    finally:
        by_bucket.close()
        by_account.close()


def test_at_most_four_traces_and_a_closed_trace_ends(server):
    traces = [Trace(server) for _ in range(4)]
    try:
        assert [t.status for t in traces] == [200] * 4
        for t in traces:
            assert t.next()["notice"] == "tracing"
        fifth = Trace(server)
        assert fifth.status == 429
        assert "4 traces" in json.loads(fifth.response.read())["error"]
        assert subscribers(server) == 4
        traces[0].close()
        # The server notices the reader went away (the connection closed) and frees its place.
        deadline = time.time() + 10
        while subscribers(server) > 3 and time.time() < deadline:
            time.sleep(0.2)
        assert subscribers(server) == 3
        again = Trace(server)
        assert again.status == 200
        traces[0] = again
    finally:
        for t in traces:
            t.close()


def test_trace_needs_the_admin_action(server):
    refused = Trace(server, access="CAM7KEY", secret="camera7-secret-1234")
    assert refused.status == 403
    assert requests.get(f"{server.endpoint}/admin/v1/trace", timeout=10).status_code == 401


def test_depot_trace_errors_prints_a_refusal_live_and_ends_with_the_client(server):
    env = dict(os.environ, DEPOT_ROOT_USER=ROOT_USER, DEPOT_ROOT_PASSWORD=ROOT_PASSWORD)
    process = subprocess.Popen([DEPOT_BIN, "trace", "--errors", "--endpoint", server.endpoint],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # It says on stderr when the server has started tracing.
        assert "tracing failed requests" in process.stderr.readline()
        cam = camera(server)
        cam.put_object(Bucket="rec", Key="cam7/fine.mp4", Body=b"x")
        with pytest.raises(botocore.exceptions.ClientError):
            cam.put_object(Bucket="rec", Key="cam8/refused.mp4", Body=b"x")
        line = process.stdout.readline()
        assert " 403 AccessDenied s3 PutObject CAM7KEY (camera7) rec/cam8/refused.mp4 " in line, line
        assert "fine.mp4" not in line and "127.0.0.1" in line
    finally:
        process.terminate()
        process.wait(timeout=10)
    deadline = time.time() + 10
    while subscribers(server) > 0 and time.time() < deadline:
        time.sleep(0.2)
    assert subscribers(server) == 0


def test_depot_trace_json_with_a_bucket_filter_and_a_refusal(server):
    env = dict(os.environ, DEPOT_ROOT_USER=ROOT_USER, DEPOT_ROOT_PASSWORD=ROOT_PASSWORD)
    process = subprocess.Popen([DEPOT_BIN, "trace", "--json", "--bucket", "other", "--endpoint", server.endpoint],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert "bucket other" in process.stderr.readline()
        camera(server).put_object(Bucket="rec", Key="cam7/a", Body=b"x")
        camera(server).put_object(Bucket="other", Key="b", Body=b"yy")
        line = json.loads(process.stdout.readline())
        assert line["bucket"] == "other" and line["key"] == "b" and line["bytes_in"] == 2, line
    finally:
        process.terminate()
        process.wait(timeout=10)
    # Without the admin action the command prints the server's refusal and exits 1.
    done = subprocess.run([DEPOT_BIN, "trace", "--endpoint", server.endpoint, "--access-key", "CAM7KEY",
                           "--secret-key", "camera7-secret-1234"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "admin action" in done.stderr and "403" in done.stderr, done


def test_a_reader_that_falls_behind_loses_lines_and_is_told_how_many(server):
    """The reader takes 100 KB/s while 12000 requests finish: its buffer (1000 lines) and the
    socket's fill up, the rest are dropped (never waited for: the requests stay fast), and the
    reader is told how many it lost."""
    request = AWSRequest(method="GET", url=f"{server.endpoint}/admin/v1/trace", data=b"")
    S3SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server's send backs up soon
    reader.connect(("127.0.0.1", server.port))
    head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    reader.sendall(f"GET /admin/v1/trace HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{head}\r\n".encode())
    received, loading = [b""], [True]

    def read_slowly():
        reader.settimeout(15)
        deadline = time.time() + 40
        # Stop only once the notice's whole line is in: a read may end inside it.
        while not re.search(rb'"dropped"[^\n]*\n', received[0]) and time.time() < deadline:
            chunk = reader.recv(1024)
            if not chunk:
                break
            received[0] += chunk
            if loading[0]:
                time.sleep(0.01)

    thread = threading.Thread(target=read_slowly, daemon=True)
    thread.start()
    time.sleep(0.3)
    try:
        load = socket.create_connection(("127.0.0.1", server.port))
        started = time.time()
        for batch in range(120):
            load.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n" * 100)
            answers = b""
            while answers.count(b"HTTP/1.1 200") < 100:
                answers += load.recv(65536)
        elapsed = time.time() - started
        loading[0] = False
        load.close()
        assert elapsed < 30, elapsed
        thread.join(timeout=30)
        data = received[0]
        notice = next((line for line in data.split(b"\n") if b'"dropped"' in line), None)
        assert notice, (len(data), data[-500:])
        # Each notice counts what was lost since the reader last took a line.
        assert json.loads(notice[notice.index(b"{"):])["dropped"] >= 1, notice
        metrics = requests.get(f"{server.endpoint}/metrics", timeout=10).text
        total = re.search(r"^depot_trace_dropped_total(?:\{\})? (\S+)$", metrics, re.M)
        assert total and float(total.group(1)) > 1000, metrics[-2000:]
    finally:
        reader.close()
