"""tus uploads are bounded and never interleave: one upload takes at most N PATCHes (S3's 10,000
parts; DEPOT_TUS_MAX_PATCHES lowers it, here to 5), each kept as one part, so a client sending
tiny PATCHes cannot grow an upload's part list without end (past 10,000 parts the offset would
be read wrong); the last PATCH it may take must bring the rest. And a second PATCH (or DELETE) of
an upload while one is running is refused with 423 Locked, as tusd answers, instead of both
writing at the same offset."""
import base64
import os
import socket
import time

import pytest
import requests

from conftest import DepotServer
from test_bad_input import read_response
from vault_agent_server import ACCESS_KEY, SECRET_KEY, VAULT_HEADERS

TUS = {"Tus-Resumable": "1.0.0"}
LIMIT = 5


@pytest.fixture
def vault(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""buckets: [rec]
accounts:
  - name: agents
    accessKey: {ACCESS_KEY}
    secretKey: {SECRET_KEY}
    allow: [{{ bucket: rec, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: rec }}
""")
    server = DepotServer(config=str(config), extra_env={"DEPOT_TUS_MAX_PATCHES": str(LIMIT)}).start()
    yield server
    server.cleanup()


def create(vault, filename, length):
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"filename": filename, "directory": "cam"}.items())
    r = requests.post(vault.endpoint + "/api/storage/tus/", timeout=10,
                      headers={**VAULT_HEADERS, **TUS, "Upload-Length": str(length), "Upload-Metadata": metadata})
    assert r.status_code == 201, r.text
    return "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]


def patch(vault, path, offset, body):
    return requests.patch(vault.endpoint + path, data=body, timeout=30, headers={
        **VAULT_HEADERS, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)})


def offset_of(vault, path):
    r = requests.head(vault.endpoint + path, headers={**VAULT_HEADERS, **TUS}, timeout=10)
    assert r.status_code == 200, r.status_code
    return int(r.headers["Upload-Offset"])


def test_an_upload_takes_a_bounded_number_of_patches(vault):
    s3 = vault.client()
    body = os.urandom(100)
    path = create(vault, "cam_1_bounded.mp4", len(body))
    for i in range(LIMIT - 1):
        assert patch(vault, path, i, body[i:i + 1]).status_code == 204
    # The last PATCH it may take must bring the rest: refused before its body, offset unchanged.
    short = patch(vault, path, LIMIT - 1, body[LIMIT - 1:LIMIT])
    assert short.status_code == 400, short.text
    assert "last PATCH" in short.json()["data"]
    assert offset_of(vault, path) == LIMIT - 1
    done = patch(vault, path, LIMIT - 1, body[LIMIT - 1:])
    assert done.status_code == 204, done.text
    assert s3.get_object(Bucket="rec", Key="cam/cam_1_bounded.mp4")["Body"].read() == body

    # A chunked last PATCH (no declared size) that stops short leaves an upload that takes no
    # more PATCHes: every later one is refused with a clear 400, and it can be deleted.
    path = create(vault, "cam_1_stuck.mp4", len(body))
    for i in range(LIMIT - 1):
        assert patch(vault, path, i, body[i:i + 1]).status_code == 204
    chunked = patch(vault, path, LIMIT - 1, iter([body[LIMIT - 1:LIMIT]]))
    assert chunked.status_code == 204, chunked.text
    refused = patch(vault, path, LIMIT, body[LIMIT:])
    assert refused.status_code == 400, refused.text
    assert f"taken {LIMIT} PATCHes" in refused.json()["data"]
    assert offset_of(vault, path) == LIMIT
    gone = requests.delete(vault.endpoint + path, headers={**VAULT_HEADERS, **TUS}, timeout=10)
    assert gone.status_code == 204


def patch_head(vault, path, offset, length):
    lines = [f"PATCH {path} HTTP/1.1", f"Host: 127.0.0.1:{vault.port}", "Tus-Resumable: 1.0.0",
             "Content-Type: application/offset+octet-stream", f"Upload-Offset: {offset}", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in VAULT_HEADERS.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_second_patch_of_a_running_upload_is_refused_with_423(vault):
    s3 = vault.client()
    body = os.urandom(3 << 20)
    path = create(vault, "cam_1_locked.mp4", len(body))
    with socket.create_connection(("127.0.0.1", vault.port)) as first:
        # The first PATCH is under way: its head and half its body are in.
        first.sendall(patch_head(vault, path, 0, len(body)) + body[: len(body) // 2])
        time.sleep(0.5)
        second = patch(vault, path, 0, body[:1000])
        assert second.status_code == 423, second.text
        assert "in progress" in second.json()["data"]
        delete = requests.delete(vault.endpoint + path, headers={**VAULT_HEADERS, **TUS}, timeout=10)
        assert delete.status_code == 423, delete.text
        # A HEAD is still answered while the PATCH runs.
        assert offset_of(vault, path) == 0
        first.sendall(body[len(body) // 2:])
        assert read_response(first, timeout=20).startswith(b"HTTP/1.1 204")
    assert s3.get_object(Bucket="rec", Key="cam/cam_1_locked.mp4")["Body"].read() == body
    # Once it has ended the lock is free again: the finished upload is gone (404), not locked.
    after = patch(vault, path, len(body), b"x")
    assert after.status_code == 404, after.text
