"""kill -9 while uploads of every kind run at once: S3 PutObject (plain, and aws-chunked with
signed chunks), multipart (parts sent and parts copied with UploadPartCopy), CopyObject, the
browser POST form, the Vault legacy POST and tus (created, then PATCHed in pieces). Each round
kills the server at a seeded random moment, checks the crashed data with `depot fsck`, restarts
on the same data directory and checks that every upload the client saw acknowledged reads back
with exactly the bytes sent, that nothing partial or empty is listed, and that every unfinished
multipart or tus upload is resumable from what it acknowledged (or gone because it finished).
DEPOT_CRASH_SEED picks another schedule."""
import base64
import hashlib
import os
import random
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import run_depot
from test_s3_streaming import signed_streaming_put
from vault_agent_server import VAULT_HEADERS, start_with_agent

SEED = int(os.environ.get("DEPOT_CRASH_SEED", "20261205"))
ROUNDS = 3
BUCKET = "rec"
MIB = 1 << 20
PART = 5 * MIB  # S3's smallest part that is not the last
SOURCE_KEY = "source/master.bin"
SOURCE = random.Random(SEED).randbytes(PART + MIB)
TUS = {"Tus-Resumable": "1.0.0"}


def sha(data):
    return hashlib.sha256(data).hexdigest()


@dataclass
class Expected:
    """An object some upload will produce, registered before its first byte is sent."""
    kind: str
    digest: str
    size: int
    acknowledged: bool = False


@dataclass
class PendingMultipart:
    """A multipart upload whose create was acknowledged and whose complete was not (yet)."""
    key: str
    upload_id: str
    parts: list  # (number, "bytes" | "copy", data, copy range or None)
    acknowledged: dict = field(default_factory=dict)  # part number -> ETag
    completing: bool = False


@dataclass
class PendingTus:
    """A tus upload whose creation was acknowledged and whose last PATCH was not (yet)."""
    key: str
    path: str
    data: bytes
    offset: int = 0  # acknowledged by the last answered PATCH
    in_flight_end: int = 0  # where the PATCH being sent would take it


class Ledger:
    """What the clients sent and what the server acknowledged, shared by the upload threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.objects = {}
        self.multipart = {}
        self.tus = {}
        self.errors = []  # (time, kind, error) of requests that failed

    def expect(self, key, kind, data):
        with self.lock:
            self.objects[key] = Expected(kind, sha(data), len(data))

    def acknowledge(self, key):
        with self.lock:
            self.objects[key].acknowledged = True

    def failed(self, kind, error):
        with self.lock:
            self.errors.append((time.monotonic(), kind, repr(error)[:300]))


class Uploads:
    """One method per upload kind; each sends one upload and records it in the ledger. A failed
    request raises, which ends that kind's thread (the server is gone)."""

    def __init__(self, server, ledger, round_number):
        self.server = server
        self.ledger = ledger
        self.round = round_number
        self.s3 = server.client()
        self.base = server.endpoint

    def key(self, kind, n):
        return f"{kind}/r{self.round}-{n}"

    def put(self, rng, n):
        key, data = self.key("put", n), rng.randbytes(rng.randint(1, 2 * MIB))
        self.ledger.expect(key, "put", data)
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        self.ledger.acknowledge(key)

    def chunked(self, rng, n):
        key, data = self.key("chunked", n), rng.randbytes(rng.randint(1, MIB))
        self.ledger.expect(key, "chunked", data)
        status, response = signed_streaming_put(self.server, BUCKET, key, data, chunk_size=rng.choice([8192, 65536]))
        if status != "HTTP/1.1 200 OK":
            raise RuntimeError(f"aws-chunked PUT answered {status!r}: {response[:300]!r}")
        self.ledger.acknowledge(key)

    def multipart(self, rng, n):
        key = self.key("multipart", n)
        # One full part and a last, shorter one; either may be copied from the source object.
        last_size = rng.randint(1, MIB)
        first_copied, last_copied = rng.random() < 0.5, rng.random() < 0.5
        parts = [(1, "copy", SOURCE[:PART], (0, PART - 1)) if first_copied else (1, "bytes", rng.randbytes(PART), None),
                 (2, "copy", SOURCE[:last_size], (0, last_size - 1)) if last_copied
                 else (2, "bytes", rng.randbytes(last_size), None)]
        self.ledger.expect(key, "multipart", b"".join(p[2] for p in parts))
        upload_id = self.s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        pending = PendingMultipart(key, upload_id, parts)
        with self.ledger.lock:
            self.ledger.multipart[upload_id] = pending
        for part in parts:
            pending.acknowledged[part[0]] = send_part(self.s3, key, upload_id, part)
        pending.completing = True
        complete(self.s3, key, upload_id, pending.acknowledged)
        self.ledger.acknowledge(key)
        with self.ledger.lock:
            del self.ledger.multipart[upload_id]

    def copy(self, rng, n):
        key = self.key("copy", n)
        self.ledger.expect(key, "copy", SOURCE)
        self.s3.copy_object(Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": SOURCE_KEY})
        self.ledger.acknowledge(key)

    def post_form(self, rng, n):
        key, data = self.key("form", n), rng.randbytes(rng.randint(1, MIB))
        self.ledger.expect(key, "post-form", data)
        post = self.s3.generate_presigned_post(BUCKET, key, ExpiresIn=600)
        r = requests.post(post["url"], data=post["fields"], files={"file": ("clip.mp4", data)}, timeout=30)
        if r.status_code != 204:
            raise RuntimeError(f"POST form answered {r.status_code}: {r.text[:300]}")
        self.ledger.acknowledge(key)

    def vault_post(self, rng, n):
        directory, filename = "legacy", f"r{self.round}-{n}.mp4"
        data = rng.randbytes(rng.randint(1, 2 * MIB))
        self.ledger.expect(f"{directory}/{filename}", "vault-post", data)
        r = requests.post(self.base + "/api/storage", data=data, timeout=30, headers=dict(
            VAULT_HEADERS, **{"X-Kerberos-Storage-Directory": directory, "X-Kerberos-Storage-Filename": filename}))
        if r.status_code != 200:
            raise RuntimeError(f"Vault POST answered {r.status_code}: {r.text[:300]}")
        self.ledger.acknowledge(f"{directory}/{filename}")

    def tus(self, rng, n):
        directory, filename = "tus", f"r{self.round}-{n}.mp4"
        key, data = f"{directory}/{filename}", rng.randbytes(rng.randint(MIB, 3 * MIB))
        self.ledger.expect(key, "tus", data)
        metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                            for k, v in {"filename": filename, "directory": directory}.items())
        r = requests.post(self.base + "/api/storage/tus/", timeout=30, headers=dict(
            VAULT_HEADERS, **TUS, **{"Upload-Length": str(len(data)), "Upload-Metadata": metadata}))
        if r.status_code != 201:
            raise RuntimeError(f"tus creation answered {r.status_code}: {r.text[:300]}")
        pending = PendingTus(key, "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1], data)
        with self.ledger.lock:
            self.ledger.tus[pending.path] = pending
        cuts = sorted(rng.sample(range(1, len(data)), 2)) + [len(data)]
        for end in cuts:
            pending.in_flight_end = end
            pending.offset = tus_patch(self.base, pending.path, pending.offset, data[pending.offset:end])
        self.ledger.acknowledge(key)
        with self.ledger.lock:
            del self.ledger.tus[pending.path]


def send_part(s3, key, upload_id, part):
    number, how, data, copy_range = part
    if how == "copy":
        answer = s3.upload_part_copy(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number,
                                     CopySource={"Bucket": BUCKET, "Key": SOURCE_KEY},
                                     CopySourceRange=f"bytes={copy_range[0]}-{copy_range[1]}")
        return answer["CopyPartResult"]["ETag"]
    return s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"]


def complete(s3, key, upload_id, etags):
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": number, "ETag": etag} for number, etag in sorted(etags.items())]})


def tus_patch(base, path, offset, body):
    r = requests.patch(base + path, data=body, timeout=30, headers=dict(
        VAULT_HEADERS, **TUS, **{"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}))
    if r.status_code != 204:
        raise RuntimeError(f"tus PATCH at {offset} answered {r.status_code}: {r.text[:300]}")
    return int(r.headers["Upload-Offset"])


def tus_offset(base, path):
    r = requests.head(base + path, headers=dict(VAULT_HEADERS, **TUS), timeout=30)
    return int(r.headers["Upload-Offset"]) if r.status_code == 200 else None


KINDS = ["put", "put", "chunked", "multipart", "copy", "post_form", "vault_post", "tus"]


def run_round(server, ledger, round_number, rng):
    """Starts one thread per upload kind, kills the server at a random moment and returns the
    moment of the kill once every thread has stopped."""
    stop = threading.Event()
    uploads = Uploads(server, ledger, round_number)

    def worker(index, kind):
        worker_rng = random.Random(f"{SEED}-{round_number}-{index}")
        n = 0
        while not stop.is_set():
            try:
                getattr(uploads, kind)(worker_rng, f"w{index}-{n:03d}")
            except Exception as error:  # noqa: BLE001 - the kill ends every kind with some error
                ledger.failed(kind, error)
                return
            n += 1

    threads = [threading.Thread(target=worker, args=(i, kind), daemon=True) for i, kind in enumerate(KINDS)]
    for t in threads:
        t.start()
    time.sleep(rng.uniform(1.0, 3.0))
    killed_at = time.monotonic()
    server.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=40)
    assert not any(t.is_alive() for t in threads), "an upload thread did not stop within 40 s of the kill"
    return killed_at


def check_fsck(data_dir):
    fsck = run_depot("fsck", "--data", data_dir, timeout=120)
    assert fsck.returncode == 0 and "clean" in fsck.stdout, fsck.stdout + fsck.stderr


def listed_objects(s3):
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        objects.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
    return objects


def check_objects(s3, ledger, read_all):
    """Every acknowledged object is listed; every listed object is one an upload meant, whole."""
    listed = listed_objects(s3)
    for key, expected in ledger.objects.items():
        if expected.acknowledged:
            assert key in listed, f"acknowledged {expected.kind} upload {key} is lost"
    for key, size in listed.items():
        assert key in ledger.objects, f"{key} is listed but no client sent it"
        expected = ledger.objects[key]
        assert size == expected.size and size > 0, f"{expected.kind} {key} is listed with {size} of {expected.size} bytes"
        if read_all or not key.startswith(("copy/", "source/")):
            body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            assert sha(body) == expected.digest, f"{expected.kind} {key} reads back other bytes"
        if not expected.acknowledged:  # it committed, only the answer was lost
            expected.acknowledged = True


def resume_multipart(s3, ledger):
    """Each unfinished multipart upload still lists every part it acknowledged, and completes;
    or, if its complete was sent, it may have finished (then the object was checked above)."""
    for upload_id, pending in list(ledger.multipart.items()):
        try:
            listed = {p["PartNumber"]: p for p in s3.list_parts(Bucket=BUCKET, Key=pending.key, UploadId=upload_id).get("Parts", [])}
        except ClientError as error:
            assert error.response["Error"]["Code"] == "NoSuchUpload"
            assert pending.completing, f"multipart {pending.key} lost its upload before it was completed"
            assert ledger.objects[pending.key].acknowledged, f"multipart {pending.key} is neither resumable nor complete"
            del ledger.multipart[upload_id]
            continue
        for number, etag in pending.acknowledged.items():
            assert number in listed and listed[number]["ETag"] == etag, f"{pending.key} lost acknowledged part {number}"
        etags = {}
        for part in pending.parts:
            number, data = part[0], part[2]
            if number in listed and listed[number]["Size"] == len(data) and \
                    listed[number]["ETag"].strip('"') == hashlib.md5(data).hexdigest():
                etags[number] = listed[number]["ETag"]
            else:
                assert number not in pending.acknowledged
                etags[number] = send_part(s3, pending.key, upload_id, part)
        complete(s3, pending.key, upload_id, etags)
        body = s3.get_object(Bucket=BUCKET, Key=pending.key)["Body"].read()
        assert sha(body) == ledger.objects[pending.key].digest, f"resumed multipart {pending.key} reads back other bytes"
        ledger.objects[pending.key].acknowledged = True
        del ledger.multipart[upload_id]
    # Uploads whose create committed but whose answer was lost (tus ones too, which are multipart
    # uploads inside: resume_tus has finished every acknowledged one) are resumable too; then cleared.
    for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        s3.list_parts(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
        s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])


def resume_tus(server, s3, ledger):
    """Each unfinished tus upload answers an offset between what was acknowledged and what was
    being sent, and completes from there; or it finished with its last PATCH."""
    for path, pending in list(ledger.tus.items()):
        offset = tus_offset(server.endpoint, path)
        if offset is None:
            assert pending.in_flight_end == len(pending.data), f"tus {pending.key} vanished before its last PATCH"
            assert ledger.objects[pending.key].acknowledged, f"tus {pending.key} is neither resumable nor complete"
        else:
            assert pending.offset <= offset <= pending.in_flight_end, \
                f"tus {pending.key} answers offset {offset}; acknowledged {pending.offset}, sent up to {pending.in_flight_end}"
            assert tus_patch(server.endpoint, path, offset, pending.data[offset:]) == len(pending.data)
            body = s3.get_object(Bucket=BUCKET, Key=pending.key)["Body"].read()
            assert sha(body) == ledger.objects[pending.key].digest, f"resumed tus {pending.key} reads back other bytes"
            ledger.objects[pending.key].acknowledged = True
        del ledger.tus[path]


@pytest.fixture
def server(tmp_path):
    server = start_with_agent(tmp_path, bucket=BUCKET)
    yield server
    server.cleanup()


def test_kill_9_during_uploads_of_every_kind(server):
    started = time.monotonic()
    ledger = Ledger()
    ledger.expect(SOURCE_KEY, "source", SOURCE)
    server.client().put_object(Bucket=BUCKET, Key=SOURCE_KEY, Body=SOURCE)
    ledger.acknowledge(SOURCE_KEY)
    rng = random.Random(SEED)
    cut_off = 0  # uploads the kills caught in flight
    for round_number in range(ROUNDS):
        killed_at = run_round(server, ledger, round_number, rng)
        early = [e for e in ledger.errors if e[0] < killed_at]
        assert not early, f"uploads failed before the kill: {early}"
        ledger.errors.clear()
        cut_off += sum(not e.acknowledged for e in ledger.objects.values()) + len(ledger.multipart) + len(ledger.tus)
        print(f"after round {round_number}: {sum(e.acknowledged for e in ledger.objects.values())} uploads acknowledged, "
              f"{sum(not e.acknowledged for e in ledger.objects.values())} cut off before their answer, "
              f"{len(ledger.multipart)} multipart and {len(ledger.tus)} tus uploads unfinished")
        # The crashed state itself is consistent, before any recovery at start.
        check_fsck(server.data_dir)
        server.start()
        s3 = server.client()
        check_objects(s3, ledger, read_all=round_number == ROUNDS - 1)
        resume_tus(server, s3, ledger)
        resume_multipart(s3, ledger)
    assert cut_off > 0, "no kill caught an upload in flight"
    kinds_acknowledged = {e.kind for e in ledger.objects.values() if e.acknowledged}
    assert kinds_acknowledged >= {"put", "chunked", "multipart", "copy", "post-form", "vault-post", "tus"}, kinds_acknowledged
    server.stop()
    check_fsck(server.data_dir)
    assert time.monotonic() - started < 90, "the crash test outgrew its time budget"
