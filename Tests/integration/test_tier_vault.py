"""The `vault` tier: an edge Depot forwards recordings to a second, real Depot through its Vault
API (tus 1.0.0, in chunkSize PATCHes, with the X-Kerberos-Storage-* fields), as chained Kerberos
Vault sites do. Recordings uploaded to the edge through the Vault API (tus and the legacy POST)
and through S3 arrive byte-identical with their camera metadata; a kill -9 of the remote, and of
the edge, in the middle of a forward ends with the recording complete, and the forward continued
the same tus upload from the offset the remote kept (the edge logs the offset it resumed at, the
remote is left with no second, abandoned upload). Reads of a transitioned recording come back
from the remote (GET /api/storage/blob), deletes propagate (DELETE /api/storage), and
`depot tier check` pings the remote and its tus endpoint. Bytes changed on the way are caught by
the ETag Depot's Vault answers the final PATCH with; a lost answer to the final PATCH is not sent
again; an upload the remote dropped starts over; a graceful stop pauses at a chunk; a remote
without tus gets the legacy POST; on-demand forwarding reaches a remote provider; three Depots
chain (edge → region → HQ). Proxies in front of the real remote make the faults."""
import base64
import hashlib
import http.client
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from admin_client import Admin
from backends import free_port
from conftest import DepotServer, run_depot
from waiting import wait_for_replication

MIB = 1 << 20
ACCESS, SECRET = "AGENTKEY", "agent-secret-1234"
AUTH = {"X-Kerberos-Storage-AccessKey": ACCESS, "X-Kerberos-Storage-SecretAccessKey": SECRET}
ACCOUNT = f"""accounts:
  - name: agents
    accessKey: {ACCESS}
    secretKey: "{SECRET}"
    allow: [{{ bucket: rec, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: rec }}
"""


def start_remote(tmp_path, port=None, config_text=None):
    config = tmp_path / "remote.yaml"
    config.write_text(config_text or "buckets: [rec]\n" + ACCOUNT)
    return DepotServer(config=str(config), address=f"127.0.0.1:{port or free_port()}").start()


def start_edge(tmp_path, remote, tier_extra="", policy_extra="", storage="", via=None,
               replicate="{ to: [hq], deletes: true }"):
    config = tmp_path / "edge.yaml"
    config.write_text(f"""{storage}buckets: [rec]
{ACCOUNT}tiers:
  - {{ name: hq, type: vault, endpoint: "{via or remote.endpoint}/api/", accessKey: {ACCESS}, secretKey: "{SECRET}",
       chunkSize: 1MiB{tier_extra} }}
policies:
  - {{ name: forward, match: {{ bucket: rec }}, replicate: {replicate}{policy_extra} }}
""")
    return DepotServer(config=str(config)).start()


@pytest.fixture
def sites(tmp_path):
    started = []

    def start(proxy=None, remote_config=None, **edge_options):
        remote = start_remote(tmp_path, config_text=remote_config)
        started.append(remote)
        if proxy:
            proxy.target = remote.port
        edge = start_edge(tmp_path, remote, via=proxy and proxy.endpoint, **edge_options)
        started.append(edge)
        return edge, remote

    yield start
    for server in started:
        server.cleanup()


def tus_upload(server, directory, filename, data, fields, patch_size=2 * MIB):
    """An agent's tus upload (Fps, Duration and Timestamp only in Upload-Metadata, as it sends them)."""
    values = dict(fields, filename=filename, directory=directory)
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in sorted(values.items()))
    tus = {"Tus-Resumable": "1.0.0"}
    r = requests.post(server.endpoint + "/api/storage/tus/", timeout=10, headers=dict(
        AUTH, **tus, **{"Upload-Length": str(len(data)), "Upload-Metadata": metadata}))
    assert r.status_code == 201, r.text
    path = "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]
    for offset in range(0, len(data), patch_size):
        r = requests.patch(server.endpoint + path, data=data[offset:offset + patch_size], timeout=60, headers=dict(
            AUTH, **tus, **{"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}))
        assert r.status_code == 204, r.text


def legacy_upload(server, directory, filename, data, headers):
    r = requests.post(server.endpoint + "/api/storage", data=data, timeout=60, headers=dict(
        AUTH, **{"X-Kerberos-Storage-FileName": filename, "X-Kerberos-Storage-Directory": directory}, **headers))
    assert r.status_code == 200, r.text


def full_log(server):
    """The server's whole log (`logs()` keeps only its tail, which access log lines fill)."""
    with open(server.log_path, "rb") as f:
        return f.read().decode(errors="replace")


def metadata_without_upload_time(server, key):
    return {k: v for k, v in server.client().head_object(Bucket="rec", Key=key)["Metadata"].items() if k != "uploadtime"}


def assert_arrived(edge, remote, key, data):
    got = remote.client().get_object(Bucket="rec", Key=key)
    assert hashlib.sha256(got["Body"].read()).hexdigest() == hashlib.sha256(data).hexdigest(), key
    assert got["ContentType"] == "video/mp4"
    edge_metadata = metadata_without_upload_time(edge, key)
    remote_metadata = metadata_without_upload_time(remote, key)
    # The remote also reads the Kerberos file-name fields, which an S3 upload to the edge lacks.
    assert remote_metadata.items() >= edge_metadata.items(), (key, edge_metadata, remote_metadata)
    return edge_metadata, remote_metadata


CAMERA = {"device": "agent-7", "capture": "IPCamera", "fps": "25", "duration": "20452",
          "timestamp": "1785934709414", "cloudkey": "hub-public-7"}


def test_recordings_arrive_byte_identical_with_their_metadata(sites):
    edge, remote = sites()
    recordings = {
        # tus, more than 3 chunks of the tier's 1 MiB, and not a multiple of it
        "cedric/1700000000_6-967003_front door_200-200-400-400_24_769.mp4": (os.urandom(3 * MIB + 654321), "tus"),
        "cedric/1700000001_6-967003_front door_0-0-0-0_-1_20452.mp4": (os.urandom(MIB), "tus"),  # exactly one
        "yard/1700000002_6-967003_yard_0-0-0-0_3_1000.mp4": (os.urandom(777), "legacy"),
        "yard/1700000003_6-967003_yard_0-0-0-0_3_1000.mp4": (os.urandom(2 * MIB + 1), "legacy"),
        "s3cam/clip.mp4": (os.urandom(1 * MIB + 99), "s3"),
    }
    s3 = edge.client()
    for key, (data, door) in recordings.items():
        directory, filename = key.split("/")
        if door == "tus":
            tus_upload(edge, directory, filename, data, CAMERA)
        elif door == "legacy":
            legacy_upload(edge, directory, filename, data, {
                "X-Kerberos-Storage-Device": "agent-9", "X-Kerberos-Storage-Capture": "IPCamera",
                "X-Kerberos-Storage-Fps": "15"})
        else:
            s3.put_object(Bucket="rec", Key=key, Body=data, ContentType="video/mp4",
                          Metadata={"productid": "s3-cam", "fps": "30", "capture": "IPCamera"})
    for key in recordings:
        wait_for_replication(s3, "rec", key)
    for key, (data, door) in recordings.items():
        edge_metadata, remote_metadata = assert_arrived(edge, remote, key, data)
        if door != "s3":
            assert remote_metadata == edge_metadata, key
    tus_key = next(iter(recordings))
    assert metadata_without_upload_time(remote, tus_key)["productid"] == "agent-7"
    assert metadata_without_upload_time(remote, tus_key)["event-timestamp-ms"] == "1785934709414"
    assert metadata_without_upload_time(remote, tus_key)["event-instancename"] == "front door"
    # Every forward went through without a restart; the remote holds no unfinished upload.
    assert "resuming upload" not in full_log(edge) and "from the start" not in full_log(edge)
    assert remote.client().list_multipart_uploads(Bucket="rec").get("Uploads", []) == []


REMOTE_WITH_PROVIDERS = f"""buckets: [rec, archive]
providers:
  - {{ name: main, bucket: rec }}
  - {{ name: archive, bucket: archive }}
accounts:
  - name: agents
    accessKey: {ACCESS}
    secretKey: "{SECRET}"
    allow: [{{ bucket: "*", actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", providers: [main, archive] }}
"""


def test_on_demand_forward_to_a_remote_provider(sites):
    # Kerberos Vault's on-demand forwarding: nothing goes until POST /api/storage/forward/media
    # asks for a recording; it then lands in the remote provider the tier names.
    edge, remote = sites(remote_config=REMOTE_WITH_PROVIDERS, tier_extra=", provider: archive",
                         replicate="{ to: [hq], mode: on-demand }")
    data = os.urandom(MIB + 17)
    key = "cedric/1700000000_6-967003_porch_0-0-0-0_-1_3000.mp4"
    legacy_upload(edge, "cedric", key.split("/")[1], data, {"X-Kerberos-Storage-Device": "agent-3"})
    s3 = edge.client()
    time.sleep(1)
    assert "ReplicationStatus" not in s3.head_object(Bucket="rec", Key=key)
    assert "Contents" not in remote.client().list_objects_v2(Bucket="archive")
    r = requests.post(edge.endpoint + "/api/storage/forward/media", timeout=10,
                      headers=dict(AUTH, **{"X-Kerberos-Storage-FileName": key}))
    assert r.status_code == 200, r.text
    wait_for_replication(s3, "rec", key)
    got = remote.client().get_object(Bucket="archive", Key=key)
    assert got["Body"].read() == data and got["Metadata"]["productid"] == "agent-3"
    assert got["Metadata"]["provider"] == "archive"
    assert "Contents" not in remote.client().list_objects_v2(Bucket="rec")


def test_three_chained_sites(tmp_path):
    # edge → region → HQ, each a Depot: the region's own vault tier forwards what arrived from the edge.
    (tmp_path / "region").mkdir()
    (tmp_path / "edge").mkdir()
    servers = [start_remote(tmp_path)]
    try:
        servers.append(start_edge(tmp_path / "region", servers[0]))
        servers.append(start_edge(tmp_path / "edge", servers[1]))
        hq, region, edge = servers
        data = os.urandom(2 * MIB + 11)
        key = "cedric/1700000000_6-967003_gate_0-0-0-0_-1_9000.mp4"
        tus_upload(edge, "cedric", key.split("/")[1], data, CAMERA)
        wait_for_replication(edge.client(), "rec", key)
        wait_for_replication(region.client(), "rec", key)
        _, at_hq = assert_arrived(edge, hq, key, data)
        assert at_hq == metadata_without_upload_time(edge, key)
    finally:
        for server in servers:
            server.cleanup()


def test_read_through_delete_and_check(sites):
    edge, remote = sites(storage="storage: { lifecycleInterval: 1s }\n",
                         policy_extra=", transition: { after: 1s }")
    s3 = edge.client()
    data = os.urandom(2 * MIB + 4321)
    key = "cam1/1700000000_6-967003_cam1_0-0-0-0_-1_5000.mp4"
    s3.put_object(Bucket="rec", Key=key, Body=data, ContentType="video/mp4")
    wait_for_replication(s3, "rec", key)
    deadline = time.time() + 20
    while s3.head_object(Bucket="rec", Key=key)["ResponseMetadata"]["HTTPHeaders"].get("x-depot-local-copy") != "evicted":
        assert time.time() < deadline, "the recording was not evicted"
        time.sleep(0.3)
    # The edge no longer holds the bytes: whole and ranged reads come from the remote's Vault API.
    assert s3.get_object(Bucket="rec", Key=key)["Body"].read() == data
    part = s3.get_object(Bucket="rec", Key=key, Range="bytes=1048570-1148569")["Body"].read()
    assert part == data[1048570:1148570]
    check = run_depot("tier", "check", "hq", env={"DEPOT_ENDPOINT": edge.endpoint})
    assert check.returncode == 0 and "ok" in check.stdout, check.stdout + check.stderr
    # deletes: true removes the remote's copy.
    s3.delete_object(Bucket="rec", Key=key)
    deadline = time.time() + 20
    while "Contents" in remote.client().list_objects_v2(Bucket="rec"):
        assert time.time() < deadline, "the remote copy was not deleted"
        time.sleep(0.2)


def remote_upload_offset(remote):
    """The bytes the remote has committed of its one tus upload (its parts, through S3)."""
    s3 = remote.client()
    uploads = s3.list_multipart_uploads(Bucket="rec").get("Uploads", [])
    if not uploads:
        return 0
    upload = uploads[0]
    parts = s3.list_parts(Bucket="rec", Key=upload["Key"], UploadId=upload["UploadId"]).get("Parts", [])
    return sum(p["Size"] for p in parts)


def wait_for_remote_offset(remote, at_least, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if remote_upload_offset(remote) >= at_least:
            return
        time.sleep(0.1)
    raise AssertionError(f"the remote did not reach offset {at_least}")


def resumed_offsets(edge):
    return [int(m) for m in re.findall(r"resuming upload \S+ of \S+ at offset (\d+)", full_log(edge))]


SLOW = ", bandwidth: 1MiB"
BIG = 10 * MIB + 12345
KEY = "cedric/1700000009_6-967003_gate_0-0-0-0_-1_60000.mp4"


def test_remote_killed_mid_forward_resumes_at_its_offset(sites):
    edge, remote = sites(tier_extra=SLOW)
    data = os.urandom(BIG)
    tus_upload(edge, "cedric", KEY.split("/")[1], data, CAMERA, patch_size=4 * MIB)
    wait_for_remote_offset(remote, 2 * MIB)
    remote.kill9()
    remote.start()  # same port and data: the edge's tier still points at it
    kept = remote_upload_offset(remote)
    assert kept >= 2 * MIB
    wait_for_replication(edge.client(), "rec", KEY, timeout=40)
    assert_arrived(edge, remote, KEY, data)
    # The edge asked the restarted remote for the offset and sent only the rest.
    assert any(offset >= kept for offset in resumed_offsets(edge)), full_log(edge)[-3000:]
    assert "from the start" not in full_log(edge)
    assert remote.client().list_multipart_uploads(Bucket="rec").get("Uploads", []) == []


def test_edge_killed_mid_forward_resumes_after_its_restart(sites):
    edge, remote = sites(tier_extra=SLOW)
    data = os.urandom(BIG)
    tus_upload(edge, "cedric", KEY.split("/")[1], data, CAMERA, patch_size=4 * MIB)
    wait_for_remote_offset(remote, 2 * MIB)
    edge.kill9()
    edge.start()  # the same data: the task is still queued, and the tus upload's id is in the index
    wait_for_replication(edge.client(), "rec", KEY, timeout=40)
    assert_arrived(edge, remote, KEY, data)
    assert any(offset >= 2 * MIB for offset in resumed_offsets(edge)), full_log(edge)[-3000:]
    assert "from the start" not in full_log(edge)
    assert remote.client().list_multipart_uploads(Bucket="rec").get("Uploads", []) == []


class Proxy:
    """Passes the edge's requests to the remote. `corrupt`: flips the first byte of every tus
    PATCH body that starts at offset 0, so the remote stores (and answers for) bytes the edge
    never had. `without_tus`: answers 404 to everything under /api/storage/tus, as a Vault that
    offers no tus uploads. `lose_final_answer`: the remote's answer to the final PATCH (the one
    with an ETag) never reaches the edge, once: the connection closes instead."""

    def __init__(self, corrupt=False, without_tus=False, lose_final_answer=False):
        self.answers_lost = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if without_tus and self.path.startswith("/api/storage/tus"):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if corrupt and self.command == "PATCH" and self.headers.get("Upload-Offset") == "0" and body:
                    body = bytes([body[0] ^ 0xFF]) + body[1:]
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.target, timeout=30)
                upstream.request(self.command, self.path, body=body, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                if (lose_final_answer and not proxy.answers_lost and self.command == "PATCH"
                        and reply.getheader("ETag")):
                    proxy.answers_lost += 1
                    upstream.close()
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PATCH = do_HEAD = do_DELETE = do_OPTIONS = forward

            def log_message(self, *args):
                pass

        self.target = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_bytes_changed_on_the_way_fail_the_copy(sites):
    proxy = Proxy(corrupt=True)
    try:
        edge, remote = sites(proxy=proxy, tier_extra=", maxAttempts: 1")
        s3 = edge.client()
        key = "cam1/changed.mp4"
        s3.put_object(Bucket="rec", Key=key, Body=os.urandom(MIB + 5), ContentType="video/mp4")
        deadline = time.time() + 20
        while s3.head_object(Bucket="rec", Key=key).get("ReplicationStatus") != "FAILED":
            assert time.time() < deadline, "the changed copy was not refused"
            time.sleep(0.2)
        assert "but the recording's is" in full_log(edge)
    finally:
        proxy.server.shutdown()


def test_a_vault_tier_made_through_the_admin_api(tmp_path):
    remote = start_remote(tmp_path)
    config = tmp_path / "plain-edge.yaml"
    config.write_text("buckets: [rec]\n" + ACCOUNT)
    edge = DepotServer(config=str(config)).start()
    try:
        admin = Admin(edge.endpoint)
        status, tier = admin.put("/admin/v1/tiers/hq", {
            "type": "vault", "endpoint": remote.endpoint + "/api", "accessKey": ACCESS, "secretKey": SECRET,
            "chunkSize": "2MiB", "prefix": "edge-1/"})
        assert status == 201, tier
        assert tier["secretKey"] == "********" and tier["chunkSize"] == 2 * MIB and tier["type"] == "vault"
        # A document read back (masked secret) keeps the stored secret: the check still gets in.
        settings = ("type", "endpoint", "accessKey", "secretKey", "provider", "chunkSize", "prefix", "concurrency")
        document = {k: v for k, v in tier.items() if k in settings}  # not the read-only status fields
        status, body = admin.put("/admin/v1/tiers/hq", document)
        assert status == 200, body
        status, check = admin.post("/admin/v1/tiers/hq/check")
        assert status == 200 and check["ok"] is True, check
        status, policy = admin.post("/admin/v1/policies", {
            "name": "forward", "match": {"bucket": "rec"}, "replicate": {"to": ["hq"]}})
        assert status == 201, policy
        data = os.urandom(3 * MIB + 3)
        legacy_upload(edge, "cam", "1700000000_6-967003_cam_0-0-0-0_-1_100.mp4", data, {})
        key = "cam/1700000000_6-967003_cam_0-0-0-0_-1_100.mp4"
        wait_for_replication(edge.client(), "rec", key)
        assert remote.client().get_object(Bucket="rec", Key="edge-1/" + key)["Body"].read() == data
        # Wrong credentials: the check says what the remote answered.
        status, _ = admin.put("/admin/v1/tiers/hq", dict(document, secretKey="wrong"))
        assert status == 200
        status, check = admin.post("/admin/v1/tiers/hq/check")
        assert check["ok"] is False and "HTTP 401" in check["error"], check
        status, body = admin.put("/admin/v1/tiers/bad", {"type": "vault", "endpoint": "http://x/api", "accessKey": "a",
                                                          "secretKey": "b", "chunkSize": "100KiB"})
        assert status == 400 and body.get("field") == "chunkSize", body
    finally:
        edge.cleanup()
        remote.cleanup()


def test_an_upload_gone_on_the_remote_starts_over(sites):
    edge, remote = sites(tier_extra=SLOW)
    data = os.urandom(4 * MIB + 1)
    tus_upload(edge, "cedric", KEY.split("/")[1], data, CAMERA)
    wait_for_remote_offset(remote, MIB)
    # The remote drops the upload (as an expiry would): the next PATCH or HEAD gets 404.
    s3 = remote.client()
    upload = s3.list_multipart_uploads(Bucket="rec")["Uploads"][0]
    s3.abort_multipart_upload(Bucket="rec", Key=upload["Key"], UploadId=upload["UploadId"])
    wait_for_replication(edge.client(), "rec", KEY, timeout=30)
    assert_arrived(edge, remote, KEY, data)
    assert re.search(r"upload \S+ is gone \(HTTP 404\); uploading \S+ from the start", full_log(edge)), full_log(edge)[-3000:]
    assert s3.list_multipart_uploads(Bucket="rec").get("Uploads", []) == []


def test_a_graceful_stop_pauses_the_forward_at_a_chunk_and_it_resumes(sites):
    edge, remote = sites(tier_extra=SLOW)
    data = os.urandom(BIG)
    tus_upload(edge, "cedric", KEY.split("/")[1], data, CAMERA, patch_size=4 * MIB)
    wait_for_remote_offset(remote, 2 * MIB)
    started = time.time()
    assert edge.stop() == 0
    # The rest would take several seconds at 1 MiB/s: the copy paused at its chunk's end.
    assert time.time() - started < 4
    assert "for the shutdown" in full_log(edge)
    edge.start()
    wait_for_replication(edge.client(), "rec", KEY, timeout=40)
    assert_arrived(edge, remote, KEY, data)
    assert any(offset >= 2 * MIB for offset in resumed_offsets(edge)), full_log(edge)[-3000:]
    assert remote.client().list_multipart_uploads(Bucket="rec").get("Uploads", []) == []


def test_a_lost_answer_to_the_final_patch_is_not_sent_again(sites):
    proxy = Proxy(lose_final_answer=True)
    try:
        edge, remote = sites(proxy=proxy)
        s3 = edge.client()
        data = os.urandom(2 * MIB + 3)
        s3.put_object(Bucket="rec", Key="cam1/lost.mp4", Body=data, ContentType="video/mp4")
        wait_for_replication(s3, "rec", "cam1/lost.mp4")
        assert proxy.answers_lost == 1
        assert_arrived(edge, remote, "cam1/lost.mp4", data)
        # The HEAD after the cut found the upload finished, and the remote's copy its MD5.
        assert "the remote holds cam1/lost.mp4 with its MD5" in full_log(edge)
        assert "from the start" not in full_log(edge)
    finally:
        proxy.server.shutdown()


def test_a_remote_without_tus_gets_the_legacy_post(sites):
    proxy = Proxy(without_tus=True)
    try:
        edge, remote = sites(proxy=proxy)
        s3 = edge.client()
        recordings = {"cedric/1700000000_6-967003_front door_200-200-400-400_24_769.mp4": os.urandom(3 * MIB + 5),
                      "s3cam/clip.mp4": os.urandom(1000)}
        for key, data in recordings.items():
            directory, filename = key.split("/")
            if directory == "cedric":
                tus_upload(edge, directory, filename, data, CAMERA)
            else:
                s3.put_object(Bucket="rec", Key=key, Body=data, ContentType="video/mp4", Metadata={"productid": "s3-cam"})
        for key, data in recordings.items():
            wait_for_replication(s3, "rec", key)
            edge_metadata, remote_metadata = assert_arrived(edge, remote, key, data)
            if key.startswith("cedric/"):
                assert remote_metadata == edge_metadata, key
        assert "the remote has no tus uploads (HTTP 404)" in full_log(edge)
    finally:
        proxy.server.shutdown()


@pytest.mark.parametrize("tier, field", [
    ('{ name: v, type: vault, accessKey: a, secretKey: b }', "tiers[0].endpoint"),
    ('{ name: v, type: vault, endpoint: "vault:80/api", accessKey: a, secretKey: b }', "tiers[0].endpoint"),
    ('{ name: v, type: vault, endpoint: "http://v/api", secretKey: b }', "tiers[0].accessKey"),
    ('{ name: v, type: vault, endpoint: "http://v/api", accessKey: a }', "tiers[0].secretKey"),
    ('{ name: v, type: vault, endpoint: "http://v/api", accessKey: a, secretKey: b, chunkSize: 512KiB }',
     "tiers[0].chunkSize"),
    ('{ name: v, type: vault, endpoint: "http://v/api", accessKey: a, secretKey: b, chunkSize: 2GiB }',
     "tiers[0].chunkSize"),
])
def test_bad_vault_tier_settings_name_the_field(tmp_path, tier, field):
    path = tmp_path / "bad.yaml"
    path.write_text(f"tiers:\n  - {tier}\n")
    result = run_depot("config", "check", str(path))
    assert result.returncode != 0 and field in result.stdout + result.stderr, result.stdout + result.stderr
