"""Uploads that move between the nodes of a cluster (issue 21: "a tus upload started on A
completes on B"). Three `depot serve` nodes over one private PostgreSQL (the shared index) and
moto_server (the shared chunk store), each with the same Vault agent account: a tus upload
(Vault API, /api/storage/tus/) created and partly sent through node A is continued and finished
through node B and reads byte-identical through C; an S3 multipart upload created on A takes
parts through B and C, is listed the same on every node and is completed on A. A tus PATCH or
DELETE has its upload to itself across the cluster (a PostgreSQL advisory lock per upload,
AdvisoryUploadLocks): a second PATCH of the same upload on another node is refused 423 Locked
while the first runs, and a node killed mid-PATCH frees the lock for the others."""
import base64
import concurrent.futures
import hashlib
import os
import socket
import time

import pytest
import requests

from backends import Moto
from cluster_support import chunks_section, cluster_config, postgres  # noqa: F401 (fixture)
from conftest import DepotServer
from test_bad_input import read_response
from vault_agent_server import ACCESS_KEY, SECRET_KEY, VAULT_HEADERS

MIB = 1 << 20
TUS = {"Tus-Resumable": "1.0.0"}
BUCKET = "rec"


@pytest.fixture(scope="module")
def nodes(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    database = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {database}")
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/" + database
    moto = Moto()
    servers = []
    try:
        moto.client.create_bucket(Bucket="depot-chunks")
        for name in ["node-a", "node-b", "node-c"]:
            directory = tmp_path_factory.mktemp(name)
            config = cluster_config(directory / "depot.yaml", dsn, name, chunks_section(moto, directory / "cache"))
            with open(config, "a") as f:
                f.write(f"""buckets: [{BUCKET}]
accounts:
  - name: agents
    accessKey: {ACCESS_KEY}
    secretKey: "{SECRET_KEY}"
    allow: [{{ bucket: {BUCKET}, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: {BUCKET} }}
""")
            servers.append(DepotServer(config=config).start())
        assert all("index in PostgreSQL at" in server.logs() for server in servers)
        yield servers
    finally:
        for server in servers:
            server.cleanup()
        moto.stop()


def tus_create(node, filename, length):
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"filename": filename, "directory": "cam"}.items())
    r = requests.post(node.endpoint + "/api/storage/tus/", timeout=10, headers={
        **VAULT_HEADERS, **TUS, "Upload-Length": str(length), "Upload-Metadata": metadata})
    assert r.status_code == 201, r.text
    return "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]


def tus_patch(node, path, offset, body):
    return requests.patch(node.endpoint + path, data=body, timeout=60, headers={
        **VAULT_HEADERS, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)})


def tus_head(node, path):
    r = requests.head(node.endpoint + path, headers={**VAULT_HEADERS, **TUS}, timeout=10)
    return r.status_code, int(r.headers.get("Upload-Offset", -1)), int(r.headers.get("Upload-Length", -1))


def patch_head(node, path, offset, length):
    """The head of a PATCH sent over a raw socket, so its body can stop half-way."""
    lines = [f"PATCH {path} HTTP/1.1", f"Host: 127.0.0.1:{node.port}", "Tus-Resumable: 1.0.0",
             "Content-Type: application/offset+octet-stream", f"Upload-Offset: {offset}", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in VAULT_HEADERS.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_tus_upload_started_on_a_is_continued_and_completed_on_b_and_reads_on_c(nodes):
    a, b, c = nodes
    data = os.urandom(7 * MIB + 4321)
    path = tus_create(a, "a-to-b.mp4", len(data))
    first = tus_patch(a, path, 0, data[:3 * MIB])
    assert first.status_code == 204, first.text
    assert int(first.headers["Upload-Offset"]) == 3 * MIB
    # Every node answers the offset A reached: the upload lives in the shared index.
    for node in (b, c):
        assert tus_head(node, path) == (200, 3 * MIB, len(data))
    second = tus_patch(b, path, 3 * MIB, data[3 * MIB:5 * MIB])
    assert second.status_code == 204, second.text
    assert tus_head(a, path) == (200, 5 * MIB, len(data))
    # A PATCH at a stale offset is refused wherever it arrives (409, tus's mismatch).
    stale = tus_patch(c, path, 3 * MIB, data[3 * MIB:4 * MIB])
    assert stale.status_code == 409, stale.text
    last = tus_patch(b, path, 5 * MIB, data[5 * MIB:])
    assert last.status_code == 204, last.text
    assert int(last.headers["Upload-Offset"]) == len(data)
    assert last.headers["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    # Completed: the upload is gone on every node, the recording reads the same through C.
    for node in (a, c):
        assert tus_head(node, path)[0] == 404
    stored = c.client().get_object(Bucket=BUCKET, Key="cam/a-to-b.mp4")
    assert stored["Body"].read() == data
    ranged = a.client().get_object(Bucket=BUCKET, Key="cam/a-to-b.mp4", Range="bytes=3145000-3146000")
    assert ranged["Body"].read() == data[3_145_000:3_146_001]


def test_a_multipart_upload_takes_parts_through_every_node_and_lists_the_same_on_all(nodes):
    clients = [node.client() for node in nodes]
    a, b, c = clients
    key = "cam/multi-node.mp4"
    upload = a.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = {1: os.urandom(5 * MIB), 2: os.urandom(5 * MIB + 17), 3: os.urandom(123_456)}
    etags = {}
    for number, client in [(1, b), (2, c), (3, b)]:
        etags[number] = client.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=parts[number])["ETag"]
    assert etags == {n: '"%s"' % hashlib.md5(body).hexdigest() for n, body in parts.items()}
    for client in clients:
        listed = client.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
            (n, etags[n], len(parts[n])) for n in (1, 2, 3)]
        uploads = client.list_multipart_uploads(Bucket=BUCKET, Prefix="cam/multi")["Uploads"]
        assert [(u["Key"], u["UploadId"]) for u in uploads] == [(key, upload)]
    # A part sent again through another node replaces the first everywhere.
    parts[3] = os.urandom(99_999)
    etags[3] = c.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=3, Body=parts[3])["ETag"]
    assert [p["ETag"] for p in b.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)["Parts"]] == [
        etags[1], etags[2], etags[3]]
    done = a.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]})
    whole = b"".join(parts[n] for n in (1, 2, 3))
    digest = hashlib.md5(b"".join(hashlib.md5(parts[n]).digest() for n in (1, 2, 3))).hexdigest()
    assert done["ETag"] == f'"{digest}-3"'
    for client in clients:
        assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == whole
        assert "Uploads" not in client.list_multipart_uploads(Bucket=BUCKET, Prefix="cam/multi")
        with pytest.raises(client.exceptions.NoSuchUpload):
            client.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)


def test_a_second_patch_of_a_running_upload_on_another_node_is_refused_423(nodes):
    a, b, c = nodes
    data = os.urandom(3 * MIB)
    path = tus_create(a, "locked.mp4", len(data))
    with socket.create_connection(("127.0.0.1", a.port)) as first:
        # A's PATCH is under way: its head and half its body are in, its lock taken.
        first.sendall(patch_head(a, path, 0, len(data)) + data[:len(data) // 2])
        time.sleep(1.0)
        for node in (b, c, a):
            second = tus_patch(node, path, 0, data[:1000])
            assert second.status_code == 423, (node.endpoint, second.status_code, second.text)
            assert "in progress" in second.json()["data"]
        delete = requests.delete(b.endpoint + path, headers={**VAULT_HEADERS, **TUS}, timeout=10)
        assert delete.status_code == 423, delete.text
        # A HEAD is answered anywhere meanwhile; nothing was appended by the refused PATCHes.
        assert tus_head(c, path) == (200, 0, len(data))
        first.sendall(data[len(data) // 2:])
        assert read_response(first, timeout=20).startswith(b"HTTP/1.1 204")
    assert b.client().get_object(Bucket=BUCKET, Key="cam/locked.mp4")["Body"].read() == data
    # Unlocked once it answered: the finished upload is gone (404) on the other nodes, not locked.
    assert tus_patch(b, path, len(data), b"x").status_code == 404


def test_concurrent_patches_of_one_upload_through_three_nodes_append_once_each(nodes):
    # Many agents' retries at once: each PATCH either appends at the offset it named or is
    # refused (423 while another runs, 409 once the offset moved), never two at one offset.
    a, _, _ = nodes
    data = os.urandom(2 * MIB)
    path = tus_create(a, "raced.mp4", len(data))
    piece = 256 * 1024

    def attempt(node):
        status, offset, _ = tus_head(node, path)
        if status != 200:
            return None
        return tus_patch(node, path, offset, data[offset:offset + piece]).status_code

    answers = []
    deadline = time.time() + 60
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        while tus_head(a, path)[0] == 200 and time.time() < deadline:
            answers += [f.result() for f in [pool.submit(attempt, node) for node in nodes + nodes]]
    assert set(answers) <= {204, 409, 423, 404, None}, answers
    assert answers.count(204) == len(data) // piece, answers
    assert a.client().get_object(Bucket=BUCKET, Key="cam/raced.mp4")["Body"].read() == data


def test_a_node_killed_mid_patch_frees_the_uploads_lock_for_the_others(nodes):
    a, b, _ = nodes
    data = os.urandom(2 * MIB)
    path = tus_create(b, "killed.mp4", len(data))
    assert tus_patch(b, path, 0, data[:MIB]).status_code == 204
    try:
        sock = socket.create_connection(("127.0.0.1", a.port))
        sock.sendall(patch_head(a, path, MIB, MIB) + data[MIB:MIB + 1000])
        time.sleep(1.0)
        assert tus_patch(b, path, MIB, data[MIB:]).status_code == 423
        a.kill9()
        sock.close()
        # PostgreSQL ends the dead node's session and frees its lock: B takes the PATCH.
        deadline = time.time() + 20
        while True:
            answer = tus_patch(b, path, MIB, data[MIB:])
            if answer.status_code != 423 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert answer.status_code == 204, answer.text
        assert b.client().get_object(Bucket=BUCKET, Key="cam/killed.mp4")["Body"].read() == data
    finally:
        a.start()
    assert a.client().get_object(Bucket=BUCKET, Key="cam/killed.mp4")["Body"].read() == data
