"""Azure Blob Storage as a tier. No Azure Blob emulator installs here (Azurite needs npm), so this
test runs a small receiver of its own that speaks the part of the Blob REST API Depot uses (Put
Blob, Put Block, Put Block List, Get Blob with ranges, Get Blob Properties, Delete Blob) and
checks EVERY request's Shared Key signature with the official `azure-storage-blob` package's own
signing code (its SharedKeyCredentialPolicy), so Depot's signing is held to Microsoft's
implementation, not to a copy of it. SAS requests are checked for the token instead."""
import base64
import hashlib
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

from backends import free_port
from conftest import DepotServer, run_depot
from waiting import wait_for_replication

ACCOUNT = "depotacct"
KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
SAS = "sv=2021-08-06&ss=b&srt=co&sp=rwdc&sig=test-signature"


class BlobReceiver:
    def __init__(self, key=KEY):
        self.port = free_port()
        self.blobs = {}      # name -> (bytes, headers)
        self.blocks = {}     # (name, id) -> bytes
        self.refused = []
        self.requests = 0
        policy = SharedKeyCredentialPolicy(ACCOUNT, key)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def authorized(self, body):
                receiver.requests += 1
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if "sig" in query:
                    return query.get("sig") == ["test-signature"]
                url = f"http://127.0.0.1:{receiver.port}{self.path}"
                headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
                request = PipelineRequest(HttpRequest(self.command, url, headers=headers), PipelineContext(None))
                policy.on_request(request)
                expected = request.http_request.headers["Authorization"]
                if self.headers.get("authorization") != expected:
                    receiver.refused.append((self.command, self.path, self.headers.get("authorization"), expected))
                    return False
                return True

            def reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def name(self):
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                prefix = f"/{ACCOUNT}/archive/"
                assert path.startswith(prefix), path
                return path[len(prefix):]

            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if not self.authorized(body):
                    return self.reply(403, b"<Error><Code>AuthenticationFailed</Code><Message>bad signature</Message></Error>")
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                name = self.name()
                if query.get("comp") == "block":
                    receiver.blocks[(name, query["blockid"])] = body
                    return self.reply(201)
                if query.get("comp") == "blocklist":
                    ids = [part.split("</Latest>")[0] for part in body.decode().split("<Latest>")[1:]]
                    data = b"".join(receiver.blocks[(name, i)] for i in ids)
                    receiver.blobs[name] = (data, dict(self.headers))
                    return self.reply(201)
                md5 = self.headers.get("content-md5")
                if md5 and base64.b64decode(md5) != hashlib.md5(body).digest():
                    return self.reply(400, b"<Error><Code>Md5Mismatch</Code><Message>md5</Message></Error>")
                receiver.blobs[name] = (body, dict(self.headers))
                self.reply(201)

            def do_GET(self):
                if not self.authorized(b""):
                    return self.reply(403)
                name = self.name()
                if name not in receiver.blobs:
                    return self.reply(404)
                data = receiver.blobs[name][0]
                wanted = self.headers.get("x-ms-range")
                if wanted:
                    start, end = (int(x) for x in wanted.split("=")[1].split("-"))
                    return self.reply(206, data[start:end + 1])
                self.reply(200, data)

            def do_HEAD(self):
                if not self.authorized(b""):
                    return self.reply(403)
                name = self.name()
                if name not in receiver.blobs:
                    return self.reply(404)
                self.send_response(200)
                self.send_header("content-length", str(len(receiver.blobs[name][0])))
                self.end_headers()

            def do_DELETE(self):
                if not self.authorized(b""):
                    return self.reply(403)
                self.reply(202 if receiver.blobs.pop(self.name(), None) is not None else 404)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"


@pytest.fixture
def receiver():
    r = BlobReceiver()
    yield r
    r.server.shutdown()


def start(tmp_path, endpoint, auth):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: azure, type: azure, account: {ACCOUNT}, container: archive, endpoint: "{endpoint}", {auth},
       blockThreshold: 1MiB, blockSize: 256KiB, maxAttempts: 2 }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [azure] }} }}
""")
    return DepotServer(config=str(config)).start()


def status(s3, key):
    return s3.head_object(Bucket="rec", Key=key).get("ReplicationStatus")


def test_put_blob_and_block_list_with_shared_key(tmp_path, receiver):
    server = start(tmp_path, receiver.endpoint, f"accountKey: \"{KEY}\"")
    try:
        s3 = server.client()
        objects = {"cam 1/small.mp4": os.urandom(5000), "cam1/big.mp4": os.urandom(1024 * 1024 * 3 + 999)}
        for key, data in objects.items():
            s3.put_object(Bucket="rec", Key=key, Body=data, ContentType="video/mp4",
                          Metadata={"event-instancename": "front"})
        for key in objects:
            wait_for_replication(s3, "rec", key, "COMPLETED")
        assert receiver.refused == [] and receiver.requests >= 1 + 13 + 1 + 1  # Put Blob; blocks, list, properties
        for key, data in objects.items():
            stored, headers = receiver.blobs[key]
            assert stored == data
            headers = {k.lower(): v for k, v in headers.items()}
            assert headers["x-ms-meta-event_instancename"] == "front"
        assert len([k for k in receiver.blocks if k[0] == "cam1/big.mp4"]) == 13
        check = run_depot("tier", "check", "azure", env={"DEPOT_ENDPOINT": server.endpoint})
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        server.cleanup()


def test_a_wrong_key_is_refused_and_recorded(tmp_path):
    receiver = BlobReceiver(key=base64.b64encode(b"another key entirely, not depot's").decode())
    server = start(tmp_path, receiver.endpoint, f"accountKey: \"{KEY}\"")
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="k.mp4", Body=b"x" * 10)
        wait_for_replication(s3, "rec", "k.mp4", "FAILED", timeout=90)
        assert receiver.refused and "k.mp4" not in receiver.blobs
        check = run_depot("tier", "check", "azure", env={"DEPOT_ENDPOINT": server.endpoint})
        assert check.returncode != 0 and "AuthenticationFailed" in check.stdout + check.stderr
    finally:
        server.cleanup()
        receiver.server.shutdown()


def test_sas_token(tmp_path, receiver):
    server = start(tmp_path, receiver.endpoint, f"sas: \"?{SAS}\"")
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="sas.mp4", Body=b"s" * 100)
        wait_for_replication(s3, "rec", "sas.mp4", "COMPLETED")
        assert receiver.blobs["sas.mp4"][0] == b"s" * 100
    finally:
        server.cleanup()
