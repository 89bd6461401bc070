"""tus is resumable (tus 1.0.0, PATCH: "The Server SHOULD always attempt to store as much of the
received data as possible"): a PATCH cut off mid-body keeps the bytes that arrived, answers a Vault
JSON 400 while the connection is still there, logs how many bytes came, and a HEAD then answers the
true Upload-Offset, also after a kill -9, so the client sends only the rest and the object comes
out byte-identical. A PATCH whose Content-Length cannot fit before Upload-Length is refused before
its body is read. Raw sockets, so the body really stops early."""
import base64
import hashlib
import json
import os
import socket

import pytest
import requests

from vault_agent_server import SECRET_KEY, start_with_agent
from raw_http import exchange

SECRET = SECRET_KEY
MIB = 1 << 20
TOTAL = 3 * MIB
# The second PATCH promises the remaining 2 MiB but stops after a little more than 1 MiB (an odd
# count, so the cut falls inside a chunk rather than on a boundary).
PROMISED = TOTAL - MIB
SENT = MIB + 12345


@pytest.fixture
def vault(tmp_path):
    server = start_with_agent(tmp_path, bucket="recordings")
    yield server
    server.cleanup()


AUTH = {"X-Kerberos-Storage-Accesskey": "AGENTKEY", "X-Kerberos-Storage-Secretaccesskey": SECRET}
TUS = {"Tus-Resumable": "1.0.0"}


def create(vault, filename):
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"filename": filename, "directory": "cedric"}.items())
    r = requests.post(vault.endpoint + "/api/storage/tus/", timeout=10,
                      headers=dict(AUTH, **TUS, **{"Upload-Length": str(TOTAL), "Upload-Metadata": metadata}))
    assert r.status_code == 201, r.text
    return "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]


def patch(vault, path, offset, body):
    return requests.patch(vault.endpoint + path, data=body, timeout=60, headers=dict(
        AUTH, **TUS, **{"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}))


def head_offset(vault, path):
    r = requests.head(vault.endpoint + path, headers=dict(AUTH, **TUS), timeout=10)
    assert r.status_code == 200
    return int(r.headers["Upload-Offset"])


def patch_head(vault, path, offset, length):
    return (f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1:{vault.port}\r\nTus-Resumable: 1.0.0\r\n"
            f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
            f"Content-Length: {length}\r\nX-Kerberos-Storage-Accesskey: AGENTKEY\r\n"
            f"X-Kerberos-Storage-Secretaccesskey: {SECRET}\r\n\r\n").encode()


def cut_off_second_patch(vault, data):
    """Creates the upload, sends the first MiB whole, then cuts the second PATCH after SENT bytes;
    returns the upload's path and the answer to the cut-off PATCH."""
    path = create(vault, "cut.mp4")
    assert patch(vault, path, 0, data[:MIB]).status_code == 204
    answer = exchange(vault.port, patch_head(vault, path, MIB, PROMISED) + data[MIB:MIB + SENT])
    return path, answer


def resume_and_check(vault, path, data, offset):
    r = patch(vault, path, offset, data[offset:])
    assert r.status_code == 204, r.text
    assert int(r.headers["Upload-Offset"]) == TOTAL
    stored = vault.client().get_object(Bucket="recordings", Key="cedric/cut.mp4")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()


def test_cut_off_patch_keeps_what_arrived_and_resumes(vault):
    data = os.urandom(TOTAL)
    path, (status, body) = cut_off_second_patch(vault, data)
    assert status == 400, body
    assert "data" in json.loads(body)
    assert f"received {SENT} of {PROMISED} bytes" in vault.logs()
    # The answer came after the kept bytes were committed: the offset is exact.
    assert head_offset(vault, path) == MIB + SENT
    assert "Contents" not in vault.client().list_objects_v2(Bucket="recordings")
    resume_and_check(vault, path, data, MIB + SENT)


def test_kill_9_after_a_cut_off_patch_keeps_the_offset(vault):
    data = os.urandom(TOTAL)
    path, (status, _) = cut_off_second_patch(vault, data)
    assert status == 400
    vault.kill9()
    vault.start()
    assert head_offset(vault, path) == MIB + SENT
    resume_and_check(vault, path, data, MIB + SENT)


def test_kill_9_racing_a_cut_off_patch_never_claims_unstored_bytes(vault):
    # The client drops the connection without waiting and the server dies at once: the kept part
    # may or may not have been committed, but the offset is one of the two, and resuming from it
    # gives the same bytes.
    data = os.urandom(TOTAL)
    path = create(vault, "cut.mp4")
    assert patch(vault, path, 0, data[:MIB]).status_code == 204
    with socket.create_connection(("127.0.0.1", vault.port)) as sock:
        sock.sendall(patch_head(vault, path, MIB, PROMISED) + data[MIB:MIB + SENT])
    vault.kill9()
    vault.start()
    offset = head_offset(vault, path)
    assert offset in (MIB, MIB + SENT)
    resume_and_check(vault, path, data, offset)


def test_patch_longer_than_what_is_left_is_refused_before_its_body(vault):
    data = os.urandom(TOTAL)
    path = create(vault, "cut.mp4")
    assert patch(vault, path, 0, data[:MIB]).status_code == 204
    # Only the head is sent: the 413 must come without the server waiting for a body.
    status, body = exchange(vault.port, patch_head(vault, path, MIB, TOTAL), half_close=False)
    assert status == 413, body
    assert "Upload-Length" in json.loads(body)["data"]
    assert head_offset(vault, path) == MIB
    resume_and_check(vault, path, data, MIB)
