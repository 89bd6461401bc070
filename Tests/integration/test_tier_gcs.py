"""Google Cloud Storage as a tier, against `gcp-storage-emulator` (PyPI) started here: resumable
uploads in several chunks, metadata, read-through of transitioned objects with ranges,
`depot tier check`; and the OAuth2 path: a service-account key whose JWT (RS256) a local token
endpoint verifies before it hands out the token the requests must carry."""
import base64
import hashlib
import json
import os
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from backends import free_port, wait_for_port
from conftest import DepotServer, run_depot
from waiting import wait_for_replication


@pytest.fixture
def emulator():
    port = free_port()
    process = subprocess.Popen(["gcp-storage-emulator", "start", "--host", "127.0.0.1", "--port", str(port),
                                "--in-memory", "--default-bucket", "archive", "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def remote(emulator, name, media=True):
    encoded = urllib.parse.quote(name, safe="")
    if media:
        return requests.get(f"{emulator}/download/storage/v1/b/archive/o/{encoded}?alt=media", timeout=30)
    return requests.get(f"{emulator}/storage/v1/b/archive/o/{encoded}", timeout=30)


def test_gcs_tier_replicates_reads_through_and_checks(tmp_path, emulator):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
storage: {{ lifecycleInterval: 1s }}
buckets: [rec]
tiers:
  - {{ name: gcs, type: gcs, endpoint: "{emulator}", bucket: archive, prefix: site-a/, chunkSize: 1MiB }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [gcs] }} }}
  - {{ name: old, match: {{ bucket: rec, prefix: "old/" }}, replicate: {{ to: [gcs] }}, transition: {{ after: 7d }} }}
""")
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    try:
        s3 = server.client()
        objects = {"cam 1/small.mp4": os.urandom(1000), "cam1/big.mp4": os.urandom(3 * 1024 * 1024 + 12345),
                   "old/evicted.mp4": os.urandom(2 * 1024 * 1024 + 7), "cam1/empty.mp4": b""}
        for key, data in objects.items():
            s3.put_object(Bucket="rec", Key=key, Body=data, ContentType="video/mp4",
                          Metadata={"event-instancename": "front door"})
        for key in objects:
            wait_for_replication(s3, "rec", key)
        for key, data in objects.items():
            got = remote(emulator, "site-a/" + key)
            assert got.status_code == 200 and got.content == data, key
        info = remote(emulator, "site-a/cam1/big.mp4", media=False).json()
        assert info["metadata"] == {"event-instancename": "front door"} and info["contentType"] == "video/mp4"
        # Transition: the local copy goes, reads come from GCS, whole and ranged.
        deadline = time.time() + 30
        while time.time() < deadline:
            head = s3.head_object(Bucket="rec", Key="old/evicted.mp4")
            if head["ResponseMetadata"]["HTTPHeaders"].get("x-depot-local-copy") == "evicted":
                break
            time.sleep(0.3)
        data = objects["old/evicted.mp4"]
        assert s3.get_object(Bucket="rec", Key="old/evicted.mp4")["Body"].read() == data
        part = s3.get_object(Bucket="rec", Key="old/evicted.mp4", Range="bytes=1000000-1099999")["Body"].read()
        assert part == data[1000000:1100000]
        check = run_depot("tier", "check", "gcs", env={"DEPOT_ENDPOINT": server.endpoint})
        assert check.returncode == 0 and "ok" in check.stdout, check.stderr
    finally:
        server.cleanup()


class TokenEndpoint:
    """Checks the service account's JWT with its public key and hands out a token."""

    def __init__(self, public_key, email):
        self.port = free_port()
        self.calls = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["content-length"])).decode())
                assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
                header, claims, signature = form["assertion"][0].split(".")
                pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
                public_key.verify(base64.urlsafe_b64decode(pad(signature)), f"{header}.{claims}".encode(),
                                  padding.PKCS1v15(), hashes.SHA256())  # raises if the signature is wrong
                decoded = json.loads(base64.urlsafe_b64decode(pad(claims)))
                assert json.loads(base64.urlsafe_b64decode(pad(header)))["alg"] == "RS256"
                assert decoded["iss"] == email and decoded["aud"] == endpoint.url
                assert "devstorage" in decoded["scope"] and decoded["exp"] > decoded["iat"]
                endpoint.calls.append(decoded)
                body = json.dumps({"access_token": "token-from-test", "expires_in": 3600, "token_type": "Bearer"}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/token"


class RecordingProxy:
    """Forwards to the emulator and records each request's Authorization header."""

    def __init__(self, target):
        self.port = free_port()
        self.authorizations = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self):
                proxy.authorizations.append(self.headers.get("authorization"))
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")}
                request = urllib.request.Request(target + self.path, data=body, method=self.command, headers=headers)
                try:
                    response = urllib.request.urlopen(request, timeout=30)
                    status, reply_headers, data = response.status, response.headers, response.read()
                except urllib.error.HTTPError as e:
                    status, reply_headers, data = e.code, e.headers, e.read()
                self.send_response(status)
                for k, v in reply_headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_service_account_key_gets_a_token_the_requests_carry(tmp_path, emulator):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    email = "depot-tier@project.iam.gserviceaccount.com"
    tokens = TokenEndpoint(key.public_key(), email)
    proxy = RecordingProxy(emulator)
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"type": "service_account", "client_email": email, "private_key": pem,
                                    "token_uri": tokens.url}))
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: gcs, type: gcs, endpoint: "http://127.0.0.1:{proxy.port}", bucket: archive, credentialsFile: "{key_file}" }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [gcs] }} }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        for i in range(3):
            s3.put_object(Bucket="rec", Key=f"k{i}", Body=b"signed" * 100)
        for i in range(3):
            wait_for_replication(s3, "rec", f"k{i}")
        assert len(tokens.calls) == 1  # the token is reused
        assert proxy.authorizations and set(proxy.authorizations) == {"Bearer token-from-test"}
    finally:
        server.cleanup()
        tokens.server.shutdown()
        proxy.server.shutdown()


@pytest.mark.parametrize("tier, field", [
    ('{ name: g, type: gcs, bucket: b }', "tiers[0].credentialsFile"),
    ('{ name: g, type: gcs, bucket: b, credentialsFile: /nonexistent.json }', "tiers[0].credentialsFile"),
    ('{ name: g, type: gcs, bucket: b, endpoint: "http://x", chunkSize: 100KiB }', "tiers[0].chunkSize"),
    ('{ name: a, type: azure, account: acc, container: c }', "tiers[0].accountKey"),
    ('{ name: a, type: azure, account: acc, container: c, accountKey: "not base64!" }', "tiers[0].accountKey"),
    ('{ name: a, type: azure, container: c, sas: "sv=1" }', "tiers[0].account"),
])
def test_bad_cloud_tier_settings_name_the_field(tmp_path, tier, field):
    path = tmp_path / "bad.yaml"
    path.write_text(f"tiers:\n  - {tier}\n")
    result = run_depot("config", "check", str(path))
    assert result.returncode != 0 and field in result.stdout + result.stderr, result.stdout + result.stderr
