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
