"""Recovery of versioned and locked data (issue 16 #5): `depot fsck --rebuild-index` restores
versions, delete markers, null versions, Object Lock retentions and legal holds exactly (an
identical `depot index dump`), and kill -9 during concurrent versioned PUTs loses no
acknowledged version and lists none that was not sent in full."""
import datetime
import hashlib
import os
import random
import shutil
import threading
import time

from conftest import DepotServer, run_depot

SEED = int(os.environ.get("DEPOT_CRASH_SEED", "20261205"))


def later(**delta):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(**delta)).replace(microsecond=0)


def lock_config(mode=None, **period):
    config = {"ObjectLockEnabled": "Enabled"}
    if mode:
        config["Rule"] = {"DefaultRetention": {"Mode": mode, **period}}
    return config


def enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def build_versioned_locked_store(s3):
    """Every kind of version and lock the index keeps; returns {(bucket, key, version id): bytes}."""
    rng = random.Random(SEED)
    expected = {}

    def put(bucket, key, size, **extra):
        data = rng.randbytes(size)
        answer = s3.put_object(Bucket=bucket, Key=key, Body=data, **extra)
        expected[(bucket, key, answer.get("VersionId", "null"))] = data
        return answer.get("VersionId", "null")

    # A null version from before versioning, later given a legal hold and a retention.
    s3.create_bucket(Bucket="history")
    put("history", "old.mp4", 70_000)
    enable(s3, "history")
    for i in range(3):
        put("history", "old.mp4", rng.choice([0, 5_000, 300_000]))
    s3.put_object_lock_configuration(Bucket="history", ObjectLockConfiguration=lock_config())
    s3.put_object_legal_hold(Bucket="history", Key="old.mp4", VersionId="null", LegalHold={"Status": "ON"})
    s3.put_object_retention(Bucket="history", Key="old.mp4", VersionId="null",
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later(days=5)})
    # A delete marker on top, and one removed again (undelete).
    s3.delete_object(Bucket="history", Key="old.mp4")
    put("history", "gone.mp4", 1_000)
    marker = s3.delete_object(Bucket="history", Key="gone.mp4")["VersionId"]
    s3.delete_object(Bucket="history", Key="gone.mp4", VersionId=marker)

    # A null version written while versioning was suspended, between real versions.
    s3.create_bucket(Bucket="paused")
    enable(s3, "paused")
    put("paused", "cam/a.mp4", 40_000)
    enable(s3, "paused", "Suspended")
    put("paused", "cam/a.mp4", 50_000)
    put("paused", "cam/b.mp4", 10)
    s3.delete_object(Bucket="paused", Key="cam/b.mp4")  # a null delete marker replaces the null version
    expected.pop(("paused", "cam/b.mp4", "null"))
    enable(s3, "paused")
    put("paused", "cam/a.mp4", 60_000)
    s3.put_object_lock_configuration(Bucket="paused", ObjectLockConfiguration=lock_config())
    s3.put_object_retention(Bucket="paused", Key="cam/a.mp4", VersionId="null",
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(days=2)})

    # A bucket created with Object Lock and a default retention, several versions per key.
    s3.create_bucket(Bucket="evidence", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket="evidence", ObjectLockConfiguration=lock_config("GOVERNANCE", Days=3))
    shared = rng.randbytes(200_000)
    for i in range(12):
        key = f"cam-{i % 3}/clip.mp4"
        if i % 4 == 0:
            data = shared
            answer = s3.put_object(Bucket="evidence", Key=key, Body=data)
            expected[("evidence", key, answer["VersionId"])] = data
        elif i % 4 == 1:
            put("evidence", key, 30_000, ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later(days=1))
        elif i % 4 == 2:
            put("evidence", key, 30_000, ObjectLockLegalHoldStatus="ON")
        else:
            put("evidence", key, 2_500_000, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later(hours=6))
    held = put("evidence", "held.mp4", 100, ObjectLockLegalHoldStatus="ON")
    s3.put_object_legal_hold(Bucket="evidence", Key="held.mp4", VersionId=held, LegalHold={"Status": "OFF"})
    extended = put("evidence", "extended.mp4", 100, ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later(days=1))
    s3.put_object_retention(Bucket="evidence", Key="extended.mp4", VersionId=extended,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(days=9)})
    s3.delete_object(Bucket="evidence", Key="cam-0/clip.mp4")  # a marker above locked versions
    return expected


def test_rebuilt_index_keeps_versions_and_locks(tmp_path):
    server = DepotServer(data_dir=str(tmp_path / "data")).start()
    try:
        s3 = server.client()
        expected = build_versioned_locked_store(s3)
        answers = {}
        for bucket in ("history", "paused", "evidence"):
            listed = s3.list_object_versions(Bucket=bucket)
            answers[bucket] = (listed.get("Versions", []), listed.get("DeleteMarkers", []))
        server.stop()

        # Every lock the index holds is proven by the log (fsck names any that is not).
        checked = run_depot("fsck", "--data", server.data_dir)
        assert checked.returncode == 0 and "clean" in checked.stdout, checked.stdout + checked.stderr
        before = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        after = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        assert after.splitlines() == before.splitlines()
        checked = run_depot("fsck", "--data", server.data_dir)
        assert checked.returncode == 0, checked.stdout + checked.stderr

        server.start()
        s3 = server.client()
        for bucket, (versions, markers) in answers.items():
            listed = s3.list_object_versions(Bucket=bucket)
            assert listed.get("Versions", []) == versions
            assert listed.get("DeleteMarkers", []) == markers
        for (bucket, key, version), data in expected.items():
            assert s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read() == data, (key, version)
        held = s3.get_object_legal_hold(Bucket="history", Key="old.mp4", VersionId="null")
        assert held["LegalHold"]["Status"] == "ON"
        retention = s3.get_object_retention(Bucket="paused", Key="cam/a.mp4", VersionId="null")["Retention"]
        assert retention["Mode"] == "COMPLIANCE"
    finally:
        server.cleanup()


THREADS = 20
KEYS = [f"cam-{i}/latest.mp4" for i in range(4)]
BUCKET = "versions"


def sha(data):
    return hashlib.sha256(data).hexdigest()


class VersionLedger:
    """Bodies the threads began to send, per key, and the versions the server acknowledged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = {key: set() for key in KEYS}
        self.acknowledged = {}  # (key, version id) -> digest
        self.failed = 0  # PUTs that got no answer: cut off by the kill, or sent after it

    def sending(self, key, data):
        with self.lock:
            self.sent[key].add(sha(data))

    def acknowledge(self, key, version, data):
        with self.lock:
            assert (key, version) not in self.acknowledged, f"version id {version} of {key} was answered twice"
            self.acknowledged[(key, version)] = sha(data)


def put_until_killed(server, ledger, stop, round_number, index):
    rng = random.Random(f"{SEED}-{round_number}-{index}")
    s3 = server.client()
    while not stop.is_set():
        key = rng.choice(KEYS)
        data = rng.randbytes(rng.choice([1, 4096, 90_000, 700_000, 1_600_000]))
        ledger.sending(key, data)
        try:
            answer = s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        except Exception:  # noqa: BLE001 - the kill ends every thread with some error
            with ledger.lock:
                ledger.failed += 1
            return
        ledger.acknowledge(key, answer["VersionId"], data)


def listed_versions(s3):
    versions, markers = [], []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 50}):
        versions += page.get("Versions", [])
        markers += page.get("DeleteMarkers", [])
    return versions, markers


def check_versions(s3, ledger):
    versions, markers = listed_versions(s3)
    assert markers == [], "no thread deleted anything"
    listed = {}
    for v in versions:
        assert v["Key"] in KEYS, v["Key"]
        assert (v["Key"], v["VersionId"]) not in listed, f"version {v['VersionId']} listed twice"
        body = s3.get_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
        assert len(body) == v["Size"], (v["Key"], v["VersionId"])
        digest = sha(body)
        assert digest in ledger.sent[v["Key"]], f"{v['Key']} {v['VersionId']} holds bytes no thread sent for it"
        listed[(v["Key"], v["VersionId"])] = digest
        if v["IsLatest"]:
            assert sha(s3.get_object(Bucket=BUCKET, Key=v["Key"])["Body"].read()) == digest
    missing = [k for k in ledger.acknowledged if k not in listed]
    assert not missing, f"acknowledged versions lost: {missing}"
    for version, digest in ledger.acknowledged.items():
        assert listed[version] == digest, f"{version} reads back other bytes than acknowledged"
    return len(listed)


def test_kill_9_during_concurrent_versioned_puts(tmp_path):
    from test_crash_every_upload_kind import check_fsck

    started = time.monotonic()
    server = DepotServer(data_dir=str(tmp_path / "data")).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket=BUCKET)
        enable(s3, BUCKET)
        ledger = VersionLedger()
        rng = random.Random(SEED)
        for round_number in range(2):
            stop = threading.Event()
            threads = [threading.Thread(target=put_until_killed, args=(server, ledger, stop, round_number, i), daemon=True)
                       for i in range(THREADS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(1.0, 2.5))
            server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=40)
            assert not any(t.is_alive() for t in threads), "a PUT thread did not stop within 40 s of the kill"
            check_fsck(server.data_dir)
            server.start()
            s3 = server.client()
            count = check_versions(s3, ledger)
            print(f"round {round_number}: {len(ledger.acknowledged)} versions acknowledged, {count} listed, "
                  f"{ledger.failed} PUTs unanswered")
        assert ledger.failed > 0, "no PUT was left unanswered by a kill"
        assert len(ledger.acknowledged) >= THREADS, "too few PUTs answered before the kills to show anything"
        server.stop()
        check_fsck(server.data_dir)
    finally:
        server.cleanup()
    assert time.monotonic() - started < 60, "the crash test outgrew its time budget"
