"""The Kerberos Vault API, driven the way Kerberos Agent drives it (Go canonical header names,
empty settings sent as empty headers, chunked legacy POST, tus with 8 MiB PATCHes)."""
import base64
import hashlib
import os
import socket
import time

import pytest
import requests

from vault_agent_server import start_with_agent

SECRET = "s3cr3t@#!pass"
FILENAME = "1795549313_6-967003_Front Door_200-200-400-400_24_769.mp4"


@pytest.fixture
def vault(tmp_path):
    server = start_with_agent(tmp_path, bucket="recordings", secret=SECRET, more_accounts="""\
  - name: fixed
    accessKey: FIXEDKEY
    secretKey: "fixed-secret-1"
    allow: [{ bucket: recordings, prefix: "site-b/", actions: [read, write] }]
    vault: { directory: site-b, bucket: recordings }
  - name: disabled
    accessKey: OFFKEY
    secretKey: "disabled-secret"
    enabled: false
    vault: { directory: "*", bucket: recordings }
""")
    yield server
    server.cleanup()


def auth(access="AGENTKEY", secret=SECRET):
    return {"X-Kerberos-Storage-Accesskey": access, "X-Kerberos-Storage-Secretaccesskey": secret}


def route(directory="cedric"):
    return {"X-Kerberos-Storage-Provider": "", "X-Kerberos-Storage-Directory": directory,
            "X-Kerberos-Storage-Device": "agent-key-1", "X-Kerberos-Storage-Capture": "IPCamera",
            "X-Kerberos-Storage-Cloudkey": ""}


def chunked(data, piece=1 << 20):
    for i in range(0, len(data), piece):
        yield data[i:i + piece]


def tus_metadata(values):
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in sorted(values.items()) if v)


def test_ping_heartbeat_devices_health(vault):
    base = vault.endpoint + "/api"
    assert requests.post(base + "/ping", headers=auth(), timeout=10).status_code == 200
    bad = requests.post(base + "/ping", headers=auth(secret="wrong"), timeout=10)
    assert bad.status_code == 401 and "data" in bad.json()
    assert requests.post(base + "/ping", headers=auth("OFFKEY", "disabled-secret"), timeout=10).status_code in (401, 403)
    hb = requests.post(base + "/devices/heartbeat", json={"key": "agent-key-1", "cameraname": "Front Door", "timestamp": 1564747908},
                       timeout=10)
    assert hb.status_code == 200
    # A device is listed to the account whose uploads name it (heartbeats carry no credentials).
    assert requests.post(base + "/storage", headers=dict(auth(), **route(), **{"X-Kerberos-Storage-Filename": "hb.mp4"}),
                         data=b"clip", timeout=10).status_code == 200
    devices = requests.get(base + "/devices", headers=auth(), timeout=10).json()["data"]
    assert devices[0]["key"] == "agent-key-1" and devices[0]["status"] == "ONLINE"
    assert requests.get(base + "/health", timeout=10).status_code == 200


def test_legacy_post_then_both_doors(vault):
    data = os.urandom(20 * 1024 * 1024)
    headers = dict(auth(), **route(), **{"X-Kerberos-Storage-Filename": FILENAME, "Content-Type": "video/mp4",
                                         "X-Kerberos-Storage-Fps": "25", "X-Kerberos-Storage-Duration": "20452"})
    r = requests.post(vault.endpoint + "/api/storage", headers=headers, data=chunked(data), timeout=60)
    assert r.status_code == 200, r.text
    key = "cedric/" + FILENAME
    s3 = vault.client()
    got = s3.get_object(Bucket="recordings", Key=key)
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(data).digest()
    meta = got["Metadata"]
    assert meta["event-instancename"] == "Front Door" and meta["event-regioncoordinates"] == "200-200-400-400"
    assert meta["productid"] == "agent-key-1" and meta["fps"] == "25" and meta["duration"] == "20452"
    blob = requests.get(vault.endpoint + "/api/storage/blob", headers=dict(auth(), **{"X-Kerberos-Storage-Filename": key}), timeout=60)
    assert blob.status_code == 200 and blob.content == data
    ranged = requests.get(vault.endpoint + "/api/storage/blob",
                          headers=dict(auth(), **{"X-Kerberos-Storage-Filename": key, "Range": "bytes=100-199"}), timeout=10)
    assert ranged.status_code == 206 and ranged.content == data[100:200]
    # And the reverse door: an S3 upload is readable through the Vault API.
    s3.put_object(Bucket="recordings", Key="cedric/from-s3.mp4", Body=b"s3 bytes")
    blob = requests.get(vault.endpoint + "/api/storage/blob",
                        headers=dict(auth(), **{"X-Kerberos-Storage-Filename": "cedric/from-s3.mp4"}), timeout=10)
    assert blob.content == b"s3 bytes"
    deleted = requests.delete(vault.endpoint + "/api/storage", headers=dict(auth(), **{"X-Kerberos-Storage-Filename": key}), timeout=10)
    assert deleted.status_code == 200
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="recordings")["Contents"]] == ["cedric/from-s3.mp4"]


def tus_create(vault, length, filename=FILENAME, directory="cedric"):
    values = {"filename": filename, "device": "agent-key-1", "directory": directory, "capture": "IPCamera",
              "fps": "25", "duration": "20452", "timestamp": "1785934709414"}
    r = requests.post(vault.endpoint + "/api/storage/tus/", timeout=10,
                      headers=dict(auth(), **route(directory), **{"Tus-Resumable": "1.0.0", "Upload-Length": str(length),
                                                                   "Upload-Metadata": tus_metadata(values),
                                                                   "X-Kerberos-Storage-Filename": filename}))
    assert r.status_code == 201, r.text
    assert r.headers["Tus-Resumable"] == "1.0.0" and r.headers["Upload-Expires"].endswith("GMT")
    return vault.endpoint + "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]


def tus_patch(url, offset, body):
    return requests.patch(url, data=body, timeout=60, headers=dict(auth(), **route(), **{
        "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}))


def tus_head(url):
    r = requests.head(url, headers=dict(auth(), **route(), **{"Tus-Resumable": "1.0.0"}), timeout=10)
    return r.status_code, int(r.headers.get("Upload-Offset", -1))


def test_tus_upload_in_8_mib_patches(vault):
    data = os.urandom(20 * 1024 * 1024)
    url = tus_create(vault, len(data))
    assert tus_head(url) == (200, 0)
    offset = 0
    while offset < len(data):
        piece = data[offset:offset + 8 * 1024 * 1024]
        r = tus_patch(url, offset, piece)
        assert r.status_code == 204, r.text
        offset += len(piece)
        assert int(r.headers["Upload-Offset"]) == offset
    head = vault.client().head_object(Bucket="recordings", Key="cedric/" + FILENAME)
    assert head["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert head["Metadata"]["event-instancename"] == "Front Door" and head["Metadata"]["fps"] == "25"
    assert vault.client().get_object(Bucket="recordings", Key="cedric/" + FILENAME)["Body"].read() == data


def test_tus_resumes_after_kill_9(vault):
    data = os.urandom(20 * 1024 * 1024)
    url = tus_create(vault, len(data))
    assert tus_patch(url, 0, data[:8 * 1024 * 1024]).status_code == 204
    # The second PATCH breaks off after 3 MiB, then the server is killed.
    host, port = "127.0.0.1", vault.port
    path = url.split(str(port), 1)[1]
    head = (f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\nTus-Resumable: 1.0.0\r\n"
            f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {8 * 1024 * 1024}\r\n"
            f"Content-Length: {8 * 1024 * 1024}\r\nX-Kerberos-Storage-Accesskey: AGENTKEY\r\n"
            f"X-Kerberos-Storage-Secretaccesskey: {SECRET}\r\n\r\n")
    with socket.create_connection((host, port)) as sock:
        sock.sendall(head.encode() + data[8 * 1024 * 1024:11 * 1024 * 1024])
        time.sleep(0.5)
    time.sleep(0.5)
    vault.kill9()
    vault.start()
    url = vault.endpoint + path
    status, offset = tus_head(url)
    assert status == 200 and 8 * 1024 * 1024 <= offset <= 11 * 1024 * 1024
    assert "Contents" not in vault.client().list_objects_v2(Bucket="recordings")
    while offset < len(data):
        piece = data[offset:offset + 8 * 1024 * 1024]
        r = tus_patch(url, offset, piece)
        assert r.status_code == 204, r.text
        offset += len(piece)
    assert vault.client().get_object(Bucket="recordings", Key="cedric/" + FILENAME)["Body"].read() == data


def test_vault_errors(vault):
    base = vault.endpoint + "/api"
    body = os.urandom(1000)
    r = requests.post(base + "/storage", headers=dict(auth(secret="nope"), **route(), **{"X-Kerberos-Storage-Filename": "a.mp4"}),
                      data=body, timeout=10)
    assert r.status_code == 401 and "data" in r.json()
    r = requests.post(base + "/storage", headers=dict(auth(), **route()), data=body, timeout=10)
    assert r.status_code == 400 and "FileName" in r.json()["data"]
    r = requests.post(base + "/storage", headers=dict(auth(), **route(""), **{"X-Kerberos-Storage-Filename": "a.mp4"}), data=body, timeout=10)
    assert r.status_code == 400
    r = requests.post(base + "/storage", headers=dict(auth("FIXEDKEY", "fixed-secret-1"), **route(""),
                                                      **{"X-Kerberos-Storage-Filename": "ok.mp4"}), data=body, timeout=10)
    assert r.status_code == 200
    # A truncated body: Content-Length promises more than arrives.
    with socket.create_connection(("127.0.0.1", vault.port)) as sock:
        sock.sendall((f"POST /api/storage HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nX-Kerberos-Storage-Accesskey: AGENTKEY\r\n"
                      f"X-Kerberos-Storage-Secretaccesskey: {SECRET}\r\nX-Kerberos-Storage-Directory: cedric\r\n"
                      f"X-Kerberos-Storage-Filename: truncated.mp4\r\n\r\n").encode() + body)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(5)
        try:
            sock.recv(1000)
        except OSError:
            pass
    url = tus_create(vault, 3000, filename="t.mp4")
    assert tus_patch(url, 100, b"x" * 10).status_code == 409
    assert tus_patch(url.rsplit("/", 1)[0] + "/" + "0" * 32, 0, b"x").status_code == 404
    keys = [o["Key"] for o in vault.client().list_objects_v2(Bucket="recordings").get("Contents", [])]
    assert keys == ["site-b/ok.mp4"]


def test_signed_urls_work_until_they_expire(vault):
    s3 = vault.client()
    s3.put_object(Bucket="recordings", Key="cedric/clip.mp4", Body=b"recording bytes")
    r = requests.get(vault.endpoint + "/api/storage", timeout=10,
                     headers=dict(auth(), **{"X-Kerberos-Storage-Filename": "cedric/clip.mp4"}))
    assert r.status_code == 200
    url = r.json()["data"]
    assert requests.get(url, timeout=10).content == b"recording bytes"
    tampered = url.replace("clip.mp4", "clip2.mp4")
    assert requests.get(tampered, timeout=10).status_code == 403
    short = requests.get(vault.endpoint + "/api/storage", timeout=10, headers=dict(
        auth(), **{"X-Kerberos-Storage-Filename": "cedric/clip.mp4", "X-Kerberos-Storage-Expiry": "1"})).json()["data"]
    assert requests.get(short, timeout=10).status_code == 200
    time.sleep(2.1)
    assert requests.get(short, timeout=10).status_code == 403
    bulk = requests.post(vault.endpoint + "/api/storage/bulk", headers=auth(), timeout=10,
                         json=[{"provider": "", "filename": "cedric/clip.mp4", "uriExpiryTime": 60},
                               {"provider": "", "filename": "cedric/missing.mp4", "uriExpiryTime": 60}]).json()["data"]
    assert list(bulk) == ["cedric/clip.mp4"]
    assert requests.get(bulk["cedric/clip.mp4"], timeout=10).content == b"recording bytes"


def test_accounts_added_with_the_cli_work_after_a_restart(vault):
    from conftest import run_depot
    vault.stop()
    # With the server's configuration: a cluster node's accounts are in the shared index.
    store = ["--data", vault.data_dir, "--config", vault.config_in_use]
    added = run_depot("account", "add", *store, "--name", "cam-7", "--access-key", "CAM7",
                      "--secret-key", "cam7-s3cr3t!", "--bucket", "recordings", "--prefix", "cam7/",
                      "--vault-directory", "cam7", "--vault-bucket", "recordings")
    assert added.returncode == 0 and "cam7-s3cr3t!" in added.stdout, added.stderr
    listed = run_depot("account", "list", *store)
    assert "CAM7" in listed.stdout and "index" in listed.stdout
    vault.start()
    r = requests.post(vault.endpoint + "/api/storage", timeout=10, data=b"clip",
                      headers=dict(auth("CAM7", "cam7-s3cr3t!"), **route(""), **{"X-Kerberos-Storage-Filename": "c.mp4"}))
    assert r.status_code == 200, r.text
    assert vault.client().get_object(Bucket="recordings", Key="cam7/c.mp4")["Body"].read() == b"clip"
    vault.stop()
    removed = run_depot("account", "remove", *store, "CAM7")
    assert removed.returncode == 0, removed.stderr
    vault.start()
    r = requests.post(vault.endpoint + "/api/ping", headers=auth("CAM7", "cam7-s3cr3t!"), timeout=10)
    assert r.status_code == 401
