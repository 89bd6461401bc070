"""kill -9 of a cluster node during 20 concurrent uploads (issue 21, "How it is shown to work").

Three real `depot serve` nodes share a private PostgreSQL index and moto_server as the chunk
store (the `cluster` fixture of test_cluster_nodes.py). Twenty distinct multi-MiB objects are
uploaded at once, spread over the three nodes, and node C's process gets SIGKILL while they run.
Node C also reads three objects in a loop meanwhile, so its block cache is being written at the
kill. Then, through the surviving nodes A and B:
- every upload that was answered 200 is listed and reads back byte-identical (sha256);
- no partial object is visible: every listed key is one of the uploads, and whether it was
  acknowledged or not, HEAD gives its full size and GET its exact bytes;
- multipart uploads that node C started (a part sent through it) are listed by A, their parts by B;
  one is completed through A (its part was acknowledged by C, so it must be durable), one aborted
  through B;
- A and B take new uploads;
and node C restarted on the same data directory and configuration (its block cache included)
serves everything byte-identical.
"""
import concurrent.futures
import hashlib
import os
import threading
import time

import pytest

from cluster_support import cluster_nodes, postgres  # noqa: F401 (fixture)

MIB = 1 << 20
UPLOADS = 20
# A Vault agent account (vault_agent_server's keys) for the tus uploads of test_cluster_status.
AGENT_ACCOUNT = """accounts:
  - name: agent
    accessKey: AGENTKEY
    secretKey: "agent-secret-1234"
    allow: [{ bucket: busy, actions: [read, write, delete, list] }]
    vault: { directory: "*", bucket: busy }
"""


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    with cluster_nodes(postgres, tmp_path_factory, ["node-a", "node-b", "node-c"], AGENT_ACCOUNT) as started:
        yield started


def listed(client, bucket, prefix=""):
    keys = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            keys[item["Key"]] = item["Size"]
    return keys


def start_multipart_on(client, key, part):
    upload = client.create_multipart_upload(Bucket="crash", Key=key)["UploadId"]
    etag = client.upload_part(Bucket="crash", Key=key, UploadId=upload, PartNumber=1, Body=part)["ETag"]
    return upload, etag


def test_kill_9_of_a_node_during_20_uploads_loses_no_acknowledged_object_and_shows_no_partial_one(cluster):
    a, b, c = cluster.nodes
    clients = [node.client() for node in cluster.nodes]
    clients[0].create_bucket(Bucket="crash")
    # Multipart uploads in progress on the node about to die: one part each, acknowledged by C.
    parts = {"mp/complete-me.mp4": os.urandom(5 * MIB + 1234), "mp/abort-me.mp4": os.urandom(64 * 1024)}
    multipart = {key: start_multipart_on(clients[2], key, part) for key, part in parts.items()}

    # Objects node C reads while it dies: its block cache is being written at the kill, and what
    # it holds after the restart must still read back exact.
    warm = {f"warm/{i}.mp4": os.urandom(3 * MIB + i) for i in range(3)}
    for key, body in warm.items():
        clients[0].put_object(Bucket="crash", Key=key, Body=body)
    stop_reading = threading.Event()

    def read_through_c():
        while not stop_reading.is_set():
            for key in warm:
                try:
                    clients[2].get_object(Bucket="crash", Key=key)["Body"].read()
                except Exception:  # noqa: BLE001 - the kill ends these reads with some error
                    return

    reader = threading.Thread(target=read_through_c, daemon=True)
    reader.start()

    bodies = {f"cam-{i % 4}/clip-{i:02}.mp4": os.urandom(2 * MIB + 97_531 * i) for i in range(UPLOADS)}
    acknowledged, failed = set(), {}
    lock = threading.Lock()
    first_answers = threading.Event()

    def upload(item):
        index, (key, body) = item
        try:
            clients[index % 3].put_object(Bucket="crash", Key=key, Body=body)
            with lock:
                acknowledged.add(key)
                if len(acknowledged) >= 3:
                    first_answers.set()
        except Exception as error:  # noqa: BLE001 - the kill ends C's uploads with some error
            with lock:
                failed[key] = repr(error)

    with concurrent.futures.ThreadPoolExecutor(UPLOADS) as pool:
        futures = [pool.submit(upload, item) for item in enumerate(bodies.items())]
        assert first_answers.wait(60), f"no upload was answered: {failed}"
        c.kill9()
        concurrent.futures.wait(futures, timeout=120)
    stop_reading.set()
    reader.join(30)
    survivors = [clients[0], clients[1]]
    through_c = {key for index, key in enumerate(bodies) if index % 3 == 2}
    # Uploads through A and B do not depend on C: all of them are acknowledged.
    assert set(bodies) - through_c <= acknowledged, failed
    assert through_c & set(failed), "the kill came after every upload through C had finished"

    for client in survivors:
        keys = listed(client, "crash", "cam-")
        assert {key for key in listed(client, "crash") if not key.startswith("cam-")} == set(warm)
        assert acknowledged <= set(keys), sorted(acknowledged - set(keys))
        for key, size in keys.items():
            # No partial object: whatever is listed, acknowledged or not, is whole and correct.
            assert key in bodies, key
            assert size == len(bodies[key]), key
            assert client.head_object(Bucket="crash", Key=key)["ContentLength"] == len(bodies[key]), key
            assert sha(client.get_object(Bucket="crash", Key=key)["Body"].read()) == sha(bodies[key]), key
        for key in set(bodies) - set(keys):
            with pytest.raises(client.exceptions.ClientError):
                client.head_object(Bucket="crash", Key=key)

    # C's multipart uploads: listed and their parts shown by the others, completed and aborted there.
    in_progress = {u["Key"]: u["UploadId"] for u in clients[0].list_multipart_uploads(Bucket="crash")["Uploads"]}
    assert in_progress == {key: upload for key, (upload, _) in multipart.items()}
    for key, (upload, etag) in multipart.items():
        listed_parts = clients[1].list_parts(Bucket="crash", Key=key, UploadId=upload)["Parts"]
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed_parts] == [(1, etag, len(parts[key]))]
    upload, etag = multipart["mp/complete-me.mp4"]
    clients[0].complete_multipart_upload(
        Bucket="crash", Key="mp/complete-me.mp4", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert sha(clients[1].get_object(Bucket="crash", Key="mp/complete-me.mp4")["Body"].read()) == sha(
        parts["mp/complete-me.mp4"])
    clients[1].abort_multipart_upload(Bucket="crash", Key="mp/abort-me.mp4", UploadId=multipart["mp/abort-me.mp4"][0])
    assert "Uploads" not in clients[0].list_multipart_uploads(Bucket="crash")

    # The survivors keep taking uploads.
    after = {f"after/{i}.mp4": os.urandom(MIB + i) for i in range(4)}
    for index, (key, body) in enumerate(after.items()):
        survivors[index % 2].put_object(Bucket="crash", Key=key, Body=body)
    for index, (key, body) in enumerate(after.items()):
        assert survivors[(index + 1) % 2].get_object(Bucket="crash", Key=key)["Body"].read() == body

    # C restarted on its data directory and configuration serves everything.
    started = time.time()
    c.start()
    assert time.time() - started < 30
    revived = c.client()
    keys = listed(revived, "crash")
    expected = acknowledged | set(after) | set(warm) | {"mp/complete-me.mp4"}
    assert expected <= set(keys), sorted(expected - set(keys))
    everything = {**bodies, **after, **warm, "mp/complete-me.mp4": parts["mp/complete-me.mp4"]}
    for key in keys:
        assert sha(revived.get_object(Bucket="crash", Key=key)["Body"].read()) == sha(everything[key]), key
    revived.put_object(Bucket="crash", Key="after/revived.mp4", Body=b"back")
    assert clients[0].get_object(Bucket="crash", Key="after/revived.mp4")["Body"].read() == b"back"
