"""Bucket versioning (issue 16 #1) against the real server with boto3: versions, delete markers,
null versions across unversioned -> Enabled -> Suspended, ListObjectVersions paging, errors,
chunk sharing and gc, index rebuild, and a crash during concurrent versioned PUTs."""
import os
import shutil
import threading
import urllib.request
import uuid

import botocore.exceptions
import pytest

from admin_client import Admin
from conftest import DepotServer, run_depot


def enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def error_of(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    return e.value.response


def all_versions(s3, bucket, **kwargs):
    versions, markers = [], []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, **kwargs):
        versions += page.get("Versions", [])
        markers += page.get("DeleteMarkers", [])
    return versions, markers


def test_get_and_put_bucket_versioning(s3, bucket):
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") is None
    enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    # MFA delete is not offered; a wrong status or document is malformed.
    response = error_of(
        s3.put_bucket_versioning, Bucket=bucket, MFA="serial 123456",
        VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert response["Error"]["Code"] == "NotImplemented"
    response = error_of(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "On"})
    assert response["Error"]["Code"] == "MalformedXML"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    response = error_of(s3.put_bucket_versioning, Bucket="no-such-" + uuid.uuid4().hex[:8],
                        VersioningConfiguration={"Status": "Enabled"})
    assert response["Error"]["Code"] == "NoSuchBucket"


def test_overwrite_delete_undelete_round_trip(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="cam/a.mp4", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="cam/a.mp4", Body=b"two")["VersionId"]
    assert v1 != v2 and v1 != "null"
    got = s3.get_object(Bucket=bucket, Key="cam/a.mp4")
    assert got["Body"].read() == b"two" and got["VersionId"] == v2
    assert s3.get_object(Bucket=bucket, Key="cam/a.mp4", VersionId=v1)["Body"].read() == b"one"
    assert s3.head_object(Bucket=bucket, Key="cam/a.mp4", VersionId=v1)["ContentLength"] == 3

    deleted = s3.delete_object(Bucket=bucket, Key="cam/a.mp4")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    response = error_of(s3.get_object, Bucket=bucket, Key="cam/a.mp4")
    assert response["Error"]["Code"] == "NoSuchKey"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    response = error_of(s3.get_object, Bucket=bucket, Key="cam/a.mp4", VersionId=marker)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    # Old versions stay readable behind the marker.
    assert s3.get_object(Bucket=bucket, Key="cam/a.mp4", VersionId=v2)["Body"].read() == b"two"

    versions, markers = all_versions(s3, bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(v2, False), (v1, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in markers] == [(marker, True)]

    # Undelete: remove the marker, the object reappears.
    removed = s3.delete_object(Bucket=bucket, Key="cam/a.mp4", VersionId=marker)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="cam/a.mp4")["Body"].read() == b"two"
    # Remove the current version: the previous one becomes current.
    s3.delete_object(Bucket=bucket, Key="cam/a.mp4", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="cam/a.mp4")["Body"].read() == b"one"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["cam/a.mp4"]
    s3.delete_object(Bucket=bucket, Key="cam/a.mp4", VersionId=v1)
    assert all_versions(s3, bucket) == ([], [])
    s3.delete_bucket(Bucket=bucket)


def test_null_versions_across_states(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    enable(s3, bucket)
    # The object from before versioning is the null version.
    assert s3.head_object(Bucket=bucket, Key="k")["VersionId"] == "null"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"enabled")["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    enable(s3, bucket, "Suspended")
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"suspended-1")["VersionId"] == "null"
    # A second PUT while Suspended replaces the null version; the Enabled version stays.
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"suspended-2")["VersionId"] == "null"
    versions, _ = all_versions(s3, bucket, Prefix="k")
    assert [(v["VersionId"], v["IsLatest"], v["Size"]) for v in versions] == [("null", True, 11), (v1, False, 7)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"suspended-2"
    # DELETE while Suspended: a null delete marker replaces the null version.
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    versions, markers = all_versions(s3, bucket, Prefix="k")
    assert [v["VersionId"] for v in versions] == [v1]
    assert [(m["VersionId"], m["IsLatest"]) for m in markers] == [("null", True)]
    enable(s3, bucket)
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"enabled"


def test_version_errors(s3, bucket):
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for bad in ("nonsense", "0000000000000000", "ABCDEF0123456789"):
        response = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId=bad)
        assert response["Error"]["Code"] == "InvalidArgument", bad
        assert response["Error"]["Message"] == "Invalid version id specified"
    response = error_of(s3.get_object, Bucket=bucket, Key="k", VersionId="00000000000fffff")
    assert response["Error"]["Code"] == "NoSuchVersion"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    response = error_of(s3.head_object, Bucket=bucket, Key="k", VersionId="00000000000fffff")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    response = error_of(s3.delete_object, Bucket=bucket, Key="k", VersionId="nonsense")
    assert response["Error"]["Code"] == "InvalidArgument"
    # A bucket with versions is not empty.
    s3.delete_object(Bucket=bucket, Key="k")
    assert error_of(s3.delete_bucket, Bucket=bucket)["Error"]["Code"] == "BucketNotEmpty"


def test_listing_10000_versions_in_pages(depot, s3, bucket):
    """The issue's scale: 10,000 versions (25 keys x 400, written by 8 threads, each key in
    order), listed 100 at a time by boto3's paginator."""
    enable(s3, bucket)
    keys, per_key = [f"cam-{k:02d}/clip.mp4" for k in range(25)], 400
    ids = {}

    def write(mine):
        client = depot.client()
        for key in mine:
            ids[key] = [client.put_object(Bucket=bucket, Key=key, Body=b"%d" % i)["VersionId"] for i in range(per_key)]

    threads = [threading.Thread(target=write, args=(keys[t::8],)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = [(key, vid) for key in keys for vid in reversed(ids[key])]
    assert len(expected) == 10_000
    s3.delete_object(Bucket=bucket, Key="cam-02/clip.mp4")
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 100}))
    assert len(pages) == 101
    assert all(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) <= 100 for p in pages)
    versions = [(v["Key"], v["VersionId"]) for p in pages for v in p.get("Versions", [])]
    assert versions == expected
    latest = [(v["Key"], v["VersionId"]) for p in pages for v in p.get("Versions", []) if v["IsLatest"]]
    assert latest == [(key, ids[key][-1]) for key in keys if key != "cam-02/clip.mp4"]
    # Delimiter rolls keys up; key-marker alone starts after every version of that key.
    page = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == [f"cam-{k:02d}/" for k in range(25)]
    page = s3.list_object_versions(Bucket=bucket, KeyMarker="cam-23/clip.mp4", MaxKeys=5)
    assert [v["Key"] for v in page["Versions"]] == ["cam-24/clip.mp4"] * 5
    assert page["Versions"][0]["IsLatest"] is True
    newest = list(reversed(ids["cam-24/clip.mp4"]))
    page = s3.list_object_versions(Bucket=bucket, KeyMarker="cam-24/clip.mp4", VersionIdMarker=newest[0], MaxKeys=2)
    assert [v["VersionId"] for v in page["Versions"]] == newest[1:3]
    assert page["Versions"][0]["IsLatest"] is False
    assert page["NextVersionIdMarker"] == newest[2]


def segment_bytes(data_dir):
    """Bytes the segment files hold on disk (holes punched by compaction do not count)."""
    directory = os.path.join(data_dir, "segments")
    return sum(os.stat(os.path.join(directory, name)).st_blocks * 512 for name in os.listdir(directory))


def dump_lines(server, kind):
    dump = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
    return [line for line in dump.splitlines() if line.startswith(kind + " ")]


def test_versions_share_chunks_and_gc_reclaims_them(tmp_path):
    server = DepotServer(data_dir=str(tmp_path / "data")).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="rec")
        enable(s3, "rec")
        base = bytearray(os.urandom(6 << 20))
        s3.put_object(Bucket="rec", Key="big", Body=bytes(base))
        base[-10:] = b"0123456789"  # only the last chunk differs
        s3.put_object(Bucket="rec", Key="big", Body=bytes(base))
        # The admin API's bucket usage counts the older version and the chunks it holds.
        status, usage = Admin(server.endpoint).get("/admin/v1/buckets/rec")
        assert status == 200, usage
        assert usage["objects"] == 1 and usage["noncurrentVersions"] == 1
        assert usage["logicalBytes"] == usage["noncurrentBytes"] == 6 << 20
        assert (6 << 20) < usage["storedBytes"] <= (6 << 20) + (4 << 20)  # at most one (4 MiB) chunk more
        server.stop()
        manifests = [line.split("manifest=[")[1].rstrip("]").split(",") for line in dump_lines(server, "version")]
        assert len(manifests) == 2 and len(manifests[0]) == len(manifests[1]) > 1
        shared = set(manifests[0]) & set(manifests[1])
        assert len(shared) == len(manifests[0]) - 1  # the new version stores one chunk more
        assert len(dump_lines(server, "chunk")) == len(manifests[0]) + 1
        stored = segment_bytes(server.data_dir)

        server.start()
        s3 = server.client()
        versions, _ = all_versions(s3, "rec")
        assert len(versions) == 2
        for v in versions:
            assert len(s3.get_object(Bucket="rec", Key="big", VersionId=v["VersionId"])["Body"].read()) == 6 << 20
        s3.delete_object(Bucket="rec", Key="big", VersionId=versions[0]["VersionId"])
        server.stop()
        # Deleting one version drops only the chunk no other version holds.
        assert len(dump_lines(server, "chunk")) == len(manifests[0])
        server.start()
        s3 = server.client()
        s3.delete_object(Bucket="rec", Key="big", VersionId=versions[1]["VersionId"])
        server.stop()
        assert dump_lines(server, "chunk") == []
        gc = run_depot("gc", "--data", server.data_dir)
        assert gc.returncode == 0, gc.stdout + gc.stderr
        # Both versions' bytes (6 MiB and the one changed chunk) leave the disk.
        freed = stored - segment_bytes(server.data_dir)
        assert freed >= (6 << 20) + 1000, (stored, freed, gc.stdout)
        fsck = run_depot("fsck", "--data", server.data_dir)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    finally:
        server.cleanup()


def test_rebuild_index_restores_versions(tmp_path):
    server = DepotServer(data_dir=str(tmp_path / "data")).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="rec")
        s3.put_object(Bucket="rec", Key="old", Body=b"from before versioning")
        s3.put_object(Bucket="rec", Key="gone", Body=b"x")
        enable(s3, "rec")
        ids = [s3.put_object(Bucket="rec", Key="cam/a", Body=os.urandom(1000 + i))["VersionId"] for i in range(5)]
        s3.delete_object(Bucket="rec", Key="cam/a", VersionId=ids[2])
        s3.delete_object(Bucket="rec", Key="gone")
        s3.put_object(Bucket="rec", Key="old", Body=b"new")
        enable(s3, "rec", "Suspended")
        s3.put_object(Bucket="rec", Key="cam/b", Body=b"null one")
        s3.put_object(Bucket="rec", Key="cam/b", Body=b"null two")
        s3.delete_object(Bucket="rec", Key="cam/c")
        listed = s3.list_object_versions(Bucket="rec")
        server.stop()

        fsck = run_depot("fsck", "--data", server.data_dir)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        before = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        assert "version rec/cam/a" in before and "versioning=suspended" in before
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        after = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        assert after == before

        server.start()
        s3 = server.client()
        again = s3.list_object_versions(Bucket="rec")
        for part in ("Versions", "DeleteMarkers"):
            assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in again.get(part, [])] == [
                (v["Key"], v["VersionId"], v["IsLatest"]) for v in listed.get(part, [])]
        assert s3.get_object(Bucket="rec", Key="cam/b")["Body"].read() == b"null two"
        assert s3.get_bucket_versioning(Bucket="rec")["Status"] == "Suspended"
    finally:
        server.cleanup()


def test_kill9_during_concurrent_versioned_puts(tmp_path):
    server = DepotServer(data_dir=str(tmp_path / "data")).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="rec")
        enable(s3, "rec")
        acknowledged = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            client = server.client()
            i = 0
            while not stop.is_set():
                body = f"{n}-{i}".encode() * 100
                try:
                    vid = client.put_object(Bucket="rec", Key=f"cam-{n % 4}", Body=body)["VersionId"]
                except Exception:
                    return
                with lock:
                    acknowledged.append((f"cam-{n % 4}", vid, body))
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        deadline = threading.Event()
        deadline.wait(1.5)
        server.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert len(acknowledged) > 20
        server.start()
        s3 = server.client()
        versions, _ = all_versions(s3, "rec")
        listed = {(v["Key"], v["VersionId"]) for v in versions}
        for key, vid, body in acknowledged:
            assert (key, vid) in listed
            assert s3.get_object(Bucket="rec", Key=key, VersionId=vid)["Body"].read() == body
        fsck = run_depot("fsck", "--data", server.data_dir)
        server.stop()
        fsck = run_depot("fsck", "--data", server.data_dir)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    finally:
        server.cleanup()
