"""Kerberos Vault API fidelity (issue 13): what an unmodified Kerberos Agent and Vault's consumers
expect, found with the agent's own upload code, against the real server."""
import os
import socket
import time

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import DepotServer, ROOT_USER
from vault_agent_server import start_with_agent

SECRET = "s3cr3t@#!pass"
BODY = os.urandom(20 * 1024 * 1024)


@pytest.fixture
def vault(tmp_path):
    server = start_with_agent(tmp_path, bucket="recordings", secret=SECRET, more_accounts="""\
  - name: camera-1
    accessKey: CAM1KEY
    secretKey: "cam1-secret"
    allow: [{ bucket: recordings, prefix: "cam-1/", actions: [read, write, list] }]
    vault: { directory: cam-1, bucket: recordings }
  - name: camera-2
    accessKey: CAM2KEY
    secretKey: "cam2-secret"
    allow: [{ bucket: recordings, prefix: "cam-2/", actions: [read, write, list] }]
    vault: { directory: cam-2, bucket: recordings }
""")
    yield server
    server.cleanup()


def send_all_then_read(port, head, body, timeout=20):
    """Sends the whole request, then reads the response, as Go's client does: a reset while the
    body is still being written is the failure the Kerberos Agent reported (it never got to read
    the 401), so it is raised. Returns (status, response bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        view = memoryview(body)
        for offset in range(0, len(body), 1 << 20):
            sock.sendall(view[offset:offset + (1 << 20)])
        received = b""
        while b"\r\n\r\n" not in received:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
        header, _, rest = received.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in header.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(rest) < length:
            piece = sock.recv(65536)
            if not piece:
                break
            rest += piece
        return int(header.split(b" ", 2)[1]), rest


def legacy_head(port, secret, length=len(BODY)):
    return (f"POST /api/storage HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: Go-http-client/1.1\r\n"
            f"Content-Length: {length}\r\nContent-Type: video/mp4\r\n"
            f"X-Kerberos-Storage-Accesskey: AGENTKEY\r\nX-Kerberos-Storage-Secretaccesskey: {secret}\r\n"
            f"X-Kerberos-Storage-Provider: \r\nX-Kerberos-Storage-Directory: cedric\r\n"
            f"X-Kerberos-Storage-Filename: 1795549313_6-967003_cam_200-200-400-400_24_769.mp4\r\n\r\n").encode()


def test_refused_legacy_post_reads_401_not_a_reset(vault):
    # Before the fix the connection was closed with the body unread: the kernel answered the
    # rest of the upload with a reset, and the client saw "connection reset" instead of the 401.
    for attempt in range(20):
        status, body = send_all_then_read(vault.port, legacy_head(vault.port, "wrong-secret"), BODY)
        assert status == 401, f"try {attempt}: {status} {body!r}"
        assert b'"data"' in body
    for attempt in range(20):
        r = requests.post(vault.endpoint + "/api/storage", data=BODY, timeout=30,
                          headers=upload_headers("AGENTKEY", "wrong-secret", "cedric", "x.mp4"))
        assert r.status_code == 401 and "data" in r.json(), f"try {attempt}"


def test_refused_chunked_legacy_post_reads_401(vault):
    # The agent sends the recording chunked (an *os.File body has no Content-Length).
    head = legacy_head(vault.port, "wrong-secret").replace(
        f"Content-Length: {len(BODY)}".encode(), b"Transfer-Encoding: chunked")
    chunked = b"".join(b"%x\r\n" % len(BODY[i:i + 32768]) + BODY[i:i + 32768] + b"\r\n"
                       for i in range(0, len(BODY), 32768)) + b"0\r\n\r\n"
    for attempt in range(5):
        status, _ = send_all_then_read(vault.port, head, chunked)
        assert status == 401, f"try {attempt}"


def test_refused_s3_put_with_big_body_reads_signature_error(vault):
    url = f"{vault.endpoint}/recordings/cam/big.bin"
    request = AWSRequest(method="PUT", url=url, headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
                                                          "Content-Length": str(len(BODY))})
    S3SigV4Auth(Credentials(ROOT_USER, "not-the-secret"), "s3", "us-east-1").add_auth(request)
    head = f"PUT /recordings/cam/big.bin HTTP/1.1\r\nHost: 127.0.0.1:{vault.port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host") + "\r\n"
    for attempt in range(5):
        status, body = send_all_then_read(vault.port, head.encode(), BODY)
        assert status == 403 and b"SignatureDoesNotMatch" in body, f"try {attempt}: {status} {body!r}"


def test_the_drain_is_bounded_in_bytes_and_time(vault):
    # A client that keeps sending past the byte bound is cut off once the bound is passed.
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", vault.port), timeout=20) as sock:
        sock.sendall(legacy_head(vault.port, "wrong-secret", length=1 << 30))
        piece = b"\0" * (1 << 20)
        with pytest.raises(OSError):
            while sent < 1 << 30:
                sock.sendall(piece)
                sent += len(piece)
    assert sent < 128 << 20 and time.monotonic() - started < 15
    # A client that trickles its body is cut off after the time bound (5 s).
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", vault.port), timeout=20) as sock:
        sock.sendall(legacy_head(vault.port, "wrong-secret", length=1 << 30))
        received = b""
        with pytest.raises(OSError):
            while time.monotonic() - started < 30:
                sock.sendall(b"x")
                time.sleep(0.2)
                sock.setblocking(False)
                try:
                    while True:
                        data = sock.recv(65536)
                        if not data:
                            raise ConnectionResetError("closed")
                        received += data
                except BlockingIOError:
                    pass
                sock.setblocking(True)
        assert b" 401 " in received.split(b"\r\n", 1)[0]
    assert 4 < time.monotonic() - started < 12


def test_a_broken_body_during_the_drain_closes_at_once(vault):
    head = legacy_head(vault.port, "wrong-secret").replace(
        f"Content-Length: {len(BODY)}".encode(), b"Transfer-Encoding: chunked")
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", vault.port), timeout=10) as sock:
        sock.sendall(head + b"10\r\n0123456789abcdef\r\nnot-a-chunk-size\r\n")
        received = b""
        while True:
            try:
                piece = sock.recv(65536)
            except ConnectionResetError:
                break
            if not piece:
                break
            received += piece
    assert received.startswith(b"HTTP/1.1 401")
    assert time.monotonic() - started < 3, "the connection waited for the drain's time bound"


def auth(access="AGENTKEY", secret=SECRET):
    return {"X-Kerberos-Storage-Accesskey": access, "X-Kerberos-Storage-Secretaccesskey": secret}


def upload_headers(access, secret, directory, filename, device="agent-key-1", provider=""):
    return dict(auth(access, secret), **{
        "X-Kerberos-Storage-Provider": provider, "X-Kerberos-Storage-Directory": directory,
        "X-Kerberos-Storage-Device": device, "X-Kerberos-Storage-Capture": "IPCamera",
        "X-Kerberos-Storage-Cloudkey": "", "X-Kerberos-Storage-Filename": filename, "Content-Type": "video/mp4"})


def test_a_fixed_directory_forces_uploads_into_it(vault):
    # Vault: a fixed directory forces every upload into it, whatever the agent names.
    r = requests.post(vault.endpoint + "/api/storage", data=b"clip one", timeout=10,
                      headers=upload_headers("CAM1KEY", "cam1-secret", "somewhere-else", "one.mp4"))
    assert r.status_code == 200, r.text
    r = requests.post(vault.endpoint + "/api/storage/tus/", timeout=10, headers=dict(
        upload_headers("CAM1KEY", "cam1-secret", "cam-2", "two.mp4"),
        **{"Tus-Resumable": "1.0.0", "Upload-Length": "8", "Upload-Metadata": "directory Y2FtLTI=,filename dHdvLm1wNA=="}))
    assert r.status_code == 201, r.text
    url = vault.endpoint + "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]
    r = requests.patch(url, data=b"clip two", timeout=10, headers=dict(auth("CAM1KEY", "cam1-secret"), **{
        "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}))
    assert r.status_code == 204, r.text
    keys = [o["Key"] for o in vault.client().list_objects_v2(Bucket="recordings").get("Contents", [])]
    assert keys == ["cam-1/one.mp4", "cam-1/two.mp4"]


def test_devices_lists_only_the_callers_devices(vault):
    base = vault.endpoint + "/api"
    for access, secret, device in [("CAM1KEY", "cam1-secret", "device-1"), ("CAM2KEY", "cam2-secret", "device-2")]:
        r = requests.post(base + "/storage", data=b"clip", timeout=10,
                          headers=upload_headers(access, secret, "", device + ".mp4", device=device))
        assert r.status_code == 200, r.text
    for device in ["device-1", "device-2", "device-unclaimed"]:
        assert requests.post(base + "/devices/heartbeat", json={"key": device, "cameraname": device},
                             timeout=10).status_code == 200
    def listed(access, secret):
        r = requests.get(base + "/devices", headers=auth(access, secret), timeout=10)
        assert r.status_code == 200, r.text
        return sorted((d["key"], d["status"]) for d in r.json()["data"])
    assert listed("CAM1KEY", "cam1-secret") == [("device-1", "ONLINE")]
    assert listed("CAM2KEY", "cam2-secret") == [("device-2", "ONLINE")]
    assert listed("AGENTKEY", SECRET) == []
    # A heartbeat that does carry account headers makes the device that account's; wrong ones are refused.
    assert requests.post(base + "/devices/heartbeat", json={"key": "device-3"}, headers=auth(), timeout=10).status_code == 200
    assert requests.post(base + "/devices/heartbeat", json={"key": "device-4"}, headers=auth(secret="wrong"),
                         timeout=10).status_code == 401
    assert listed("AGENTKEY", SECRET) == [("device-3", "ONLINE")]


def account_client(vault, access, secret):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=vault.endpoint, region_name="us-east-1", aws_access_key_id=access,
                        aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))


def test_s3_listing_is_limited_to_the_prefixes_an_account_may_list(vault):
    from botocore.exceptions import ClientError
    root = vault.client()
    for key in ["cam-1/a.mp4", "cam-1/day/b.mp4", "cam-10/c.mp4", "cam-2/secret.mp4"]:
        root.put_object(Bucket="recordings", Key=key, Body=b"x")
    root.create_multipart_upload(Bucket="recordings", Key="cam-2/pending.mp4")
    root.create_multipart_upload(Bucket="recordings", Key="cam-1/pending.mp4")
    cam1 = account_client(vault, "CAM1KEY", "cam1-secret")
    # Inside the allowed prefix: as before.
    keys = [o["Key"] for o in cam1.list_objects_v2(Bucket="recordings", Prefix="cam-1/")["Contents"]]
    assert keys == ["cam-1/a.mp4", "cam-1/day/b.mp4"]
    listed = cam1.list_objects_v2(Bucket="recordings", Prefix="cam-1/", Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["cam-1/day/"]
    assert [o["Key"] for o in cam1.list_objects(Bucket="recordings", Prefix="cam-1/day/")["Contents"]] == ["cam-1/day/b.mp4"]
    uploads = cam1.list_multipart_uploads(Bucket="recordings", Prefix="cam-1/")["Uploads"]
    assert [u["Key"] for u in uploads] == ["cam-1/pending.mp4"]
    # Wider than allowed (the whole bucket, or a prefix that also matches cam-10/): AccessDenied, as MinIO.
    calls = [
        lambda: cam1.list_objects_v2(Bucket="recordings"),
        lambda: cam1.list_objects_v2(Bucket="recordings", Prefix="cam-1"),
        lambda: cam1.list_objects_v2(Bucket="recordings", Prefix="cam-2/"),
        lambda: cam1.list_objects_v2(Bucket="recordings", Delimiter="/"),
        lambda: cam1.list_objects(Bucket="recordings"),
        lambda: cam1.list_object_versions(Bucket="recordings"),
        lambda: cam1.list_multipart_uploads(Bucket="recordings"),
        lambda: cam1.list_multipart_uploads(Bucket="recordings", Prefix="cam-2/"),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDenied", i
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # The other camera's account sees only its own; an account allowed the whole bucket sees everything.
    cam2 = account_client(vault, "CAM2KEY", "cam2-secret")
    assert [o["Key"] for o in cam2.list_objects_v2(Bucket="recordings", Prefix="cam-2/")["Contents"]] == ["cam-2/secret.mp4"]
    agents = account_client(vault, "AGENTKEY", SECRET)
    assert len(agents.list_objects_v2(Bucket="recordings")["Contents"]) == 4


PROVIDERS_CONFIG = """
buckets: [recordings]
tiers:
  - {{ name: nas, type: filesystem, path: {nas} }}
providers:
  - {{ name: edge-minio, bucket: recordings }}
  - {{ name: long-term, bucket: archive, forwardTo: [nas] }}
accounts:
  - name: routed
    accessKey: ROUTEDKEY
    secretKey: "routed-secret"
    allow: [{{ bucket: "*", actions: [read, write, list] }}]
    vault: {{ directory: "*", providers: [edge-minio, long-term] }}
{events}"""


@pytest.fixture
def providers(tmp_path):
    from event_receiver import Receiver
    receiver = Receiver().start()
    config = tmp_path / "depot.yaml"
    config.write_text(PROVIDERS_CONFIG.format(nas=tmp_path / "nas", events=f"""events:
  sinks:
    - {{ name: kerberos, type: webhook, url: "{receiver.url}/kerberos", format: kerberos, provider: edge-vault,
        match: {{ events: [created] }} }}
"""))
    server = DepotServer(config=str(config)).start()
    server.nas = tmp_path / "nas"
    server.receiver = receiver
    yield server
    server.cleanup()
    receiver.stop()


def test_providers_route_uploads_forward_them_and_refuse_unknown_names(providers):
    base = providers.endpoint + "/api"

    def legacy(name, provider):
        return requests.post(base + "/storage", data=b"clip " + name.encode(), timeout=10,
                             headers=upload_headers("ROUTEDKEY", "routed-secret", "cedric", name, provider=provider))

    # A provider's bucket is created at start like the listed buckets ("archive" is only a provider's).
    # No provider, or the default one by name: the default provider's bucket, as before.
    assert legacy("a.mp4", "").status_code == 200
    assert legacy("b.mp4", "edge-minio").status_code == 200
    # Another provider of the account: its bucket, and forwarded to its tiers.
    stored = legacy("c.mp4", "long-term")
    assert stored.status_code == 200 and stored.json()["data"]["bucket"] == "archive"
    # A name that is not one of the account's providers: 400, Vault's error, nothing stored.
    refused = legacy("d.mp4", "gcp-europe-west1")
    assert refused.status_code == 400 and "storage_provider_not_found" in refused.json()["data"]
    r = requests.post(base + "/storage/tus/", timeout=10, headers=dict(
        upload_headers("ROUTEDKEY", "routed-secret", "cedric", "e.mp4", provider="nope"),
        **{"Tus-Resumable": "1.0.0", "Upload-Length": "4"}))
    assert r.status_code == 400 and "storage_provider_not_found" in r.json()["data"]
    # tus names the provider in Upload-Metadata (empty header, as the agent sends it).
    r = requests.post(base + "/storage/tus/", timeout=10, headers=dict(
        upload_headers("ROUTEDKEY", "routed-secret", "cedric", "f.mp4"),
        **{"Tus-Resumable": "1.0.0", "Upload-Length": "6",
           "Upload-Metadata": "directory Y2Vkcmlj,filename Zi5tcDQ=,provider bG9uZy10ZXJt"}))
    assert r.status_code == 201, r.text
    url = base + "/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]
    r = requests.patch(url, data=b"clip f", timeout=10, headers=dict(auth("ROUTEDKEY", "routed-secret"), **{
        "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}))
    assert r.status_code == 204, r.text
    s3 = providers.client()
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="recordings")["Contents"]) == ["cedric/a.mp4", "cedric/b.mp4"]
    archived = s3.get_object(Bucket="archive", Key="cedric/c.mp4")
    assert archived["Body"].read() == b"clip c.mp4" and archived["Metadata"]["provider"] == "long-term"
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="archive")["Contents"]) == ["cedric/c.mp4", "cedric/f.mp4"]
    # Reads go through the provider named too.
    blob = requests.get(base + "/storage/blob", timeout=10, headers=dict(
        auth("ROUTEDKEY", "routed-secret"), **{"X-Kerberos-Storage-Filename": "cedric/c.mp4",
                                               "X-Kerberos-Storage-Provider": "long-term"}))
    assert blob.status_code == 200 and blob.content == b"clip c.mp4"
    default = requests.get(base + "/storage/blob", timeout=10, headers=dict(
        auth("ROUTEDKEY", "routed-secret"), **{"X-Kerberos-Storage-Filename": "cedric/c.mp4"}))
    assert default.status_code == 404
    bulk = requests.post(base + "/storage/bulk", headers=auth("ROUTEDKEY", "routed-secret"), timeout=10, json=[
        {"provider": "long-term", "filename": "cedric/c.mp4", "uriExpiryTime": 60},
        {"provider": "", "filename": "cedric/a.mp4", "uriExpiryTime": 60}])
    assert bulk.status_code == 200, bulk.text
    links = bulk.json()["data"]
    assert requests.get(links["cedric/c.mp4"], timeout=10).content == b"clip c.mp4"
    assert requests.get(links["cedric/a.mp4"], timeout=10).content == b"clip a.mp4"
    unknown = requests.post(base + "/storage/bulk", headers=auth("ROUTEDKEY", "routed-secret"), timeout=10,
                            json=[{"provider": "nope", "filename": "cedric/c.mp4", "uriExpiryTime": 60}])
    assert unknown.status_code == 400 and "storage_provider_not_found" in unknown.json()["data"]
    # The long-term provider forwards to the nas tier.
    deadline = time.time() + 20
    while time.time() < deadline:
        copies = sorted(p.name for p in providers.nas.rglob("*.mp4")) if providers.nas.exists() else []
        if copies == ["c.mp4", "f.mp4"]:
            break
        time.sleep(0.2)
    assert copies == ["c.mp4", "f.mp4"]
    # Vault events name the provider each recording went through, which consumers send back.
    deadline = time.time() + 20
    while time.time() < deadline and len(providers.receiver.bodies("/kerberos")) < 4:
        time.sleep(0.1)
    sources = {e["payload"]["key"]: e["source"] for e in providers.receiver.bodies("/kerberos")}
    assert sources == {"cedric/a.mp4": "edge-minio", "cedric/b.mp4": "edge-minio", "cedric/c.mp4": "long-term",
                       "cedric/f.mp4": "long-term"}


def test_provider_configuration_errors_name_the_field(tmp_path):
    from conftest import run_depot
    cases = [
        (PROVIDERS_CONFIG.replace("providers: [edge-minio, long-term]", "providers: [edge-minio, missing]"),
         "accounts[0].vault.providers[1]"),
        (PROVIDERS_CONFIG.replace("forwardTo: [nas]", "forwardTo: [cloud]"), "providers[1].forwardTo[0]"),
        (PROVIDERS_CONFIG.replace("name: long-term, bucket: archive", "name: edge-minio, bucket: archive"),
         "providers[1].name"),
        (PROVIDERS_CONFIG.replace('directory: "*", providers', 'directory: "*", bucket: archive, providers'),
         "accounts[0].vault.bucket"),
        (PROVIDERS_CONFIG.replace("bucket: archive,", "bucket: Not_A_Bucket,"), "providers[1].bucket"),
    ]
    for i, (text, field) in enumerate(cases):
        path = tmp_path / f"bad-{i}.yaml"
        path.write_text(text.format(nas=tmp_path / "nas", events=""))
        checked = run_depot("config", "check", str(path))
        assert checked.returncode == 1 and field in checked.stdout + checked.stderr, (field, checked.stdout + checked.stderr)
    good = tmp_path / "good.yaml"
    good.write_text(PROVIDERS_CONFIG.format(nas=tmp_path / "nas", events=""))
    assert run_depot("config", "check", str(good)).returncode == 0
