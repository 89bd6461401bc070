"""Version-specific operations (issue 16 #1) against the real server: CopyObject from a version,
tagging and GetObjectAttributes with versionId, DeleteObjects with VersionId entries, multipart
completion in an Enabled bucket, the minio client's version calls, and a Vault DELETE in a
versioned bucket writing a delete marker."""
import io

import botocore.exceptions
import pytest
import requests
from minio import Minio
from minio.commonconfig import ENABLED, CopySource
from minio.versioningconfig import VersioningConfig

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_versioning import all_versions, enable, error_of
from vault_agent_server import start_with_agent


def test_copy_from_a_version(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"second")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1
    assert copied["VersionId"] not in (None, "null", v1)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"first"
    # Copying a version onto its own key restores it as the newest version.
    restored = s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert s3.get_object(Bucket=bucket, Key="src")["VersionId"] == restored["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"first"
    assert len(all_versions(s3, bucket, Prefix="src")[0]) == 3
    # A delete marker cannot be copied; a missing version is NoSuchVersion.
    marker = s3.delete_object(Bucket=bucket, Key="src")["VersionId"]
    response = error_of(s3.copy_object, Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src", "VersionId": marker})
    assert response["Error"]["Code"] == "InvalidRequest"
    response = error_of(
        s3.copy_object, Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src", "VersionId": "00000000000fffff"})
    assert response["Error"]["Code"] == "NoSuchVersion"
    response = error_of(s3.copy_object, Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src"})
    assert response["Error"]["Code"] == "NoSuchKey"


def test_tagging_and_attributes_of_a_version(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one", Tagging="camera=front")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two!")["VersionId"]
    got = s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
    assert got["TagSet"] == [{"Key": "camera", "Value": "front"}] and got["VersionId"] == v1
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging={"TagSet": [{"Key": "case", "Value": "17"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"] == [{"Key": "case", "Value": "17"}]
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v2)["TagSet"] == []
    s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v2, Tagging={"TagSet": [{"Key": "now", "Value": "1"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "now", "Value": "1"}]
    s3.delete_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"] == []
    attributes = s3.get_object_attributes(Bucket=bucket, Key="k", VersionId=v1, ObjectAttributes=["ObjectSize", "ETag"])
    assert attributes["ObjectSize"] == 3 and attributes["VersionId"] == v1
    assert s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])["ObjectSize"] == 4
    response = error_of(s3.get_object_tagging, Bucket=bucket, Key="k", VersionId="00000000000fffff")
    assert response["Error"]["Code"] == "NoSuchVersion"
    response = error_of(s3.get_object_tagging, Bucket=bucket, Key="k", VersionId="bad")
    assert response["Error"]["Code"] == "InvalidArgument"
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    response = error_of(s3.get_object_tagging, Bucket=bucket, Key="k", VersionId=marker)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 405


def test_delete_objects_with_version_ids(s3, bucket):
    enable(s3, bucket)
    ids = [s3.put_object(Bucket=bucket, Key="a", Body=b"%d" % i)["VersionId"] for i in range(3)]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "VersionId": ids[0]}, {"Key": "a", "VersionId": ids[1]}, {"Key": "b"},
        {"Key": "a", "VersionId": "not-a-version"}]})
    deleted = {(d["Key"], d.get("VersionId")): d for d in result["Deleted"]}
    assert set(deleted) == {("a", ids[0]), ("a", ids[1]), ("b", None)}
    assert deleted[("b", None)]["DeleteMarker"] is True
    marker = deleted[("b", None)]["DeleteMarkerVersionId"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("a", "InvalidArgument")]
    versions, markers = all_versions(s3, bucket)
    assert [(v["Key"], v["VersionId"]) for v in versions] == [("a", ids[2]), ("b", versions[1]["VersionId"])]
    assert [m["VersionId"] for m in markers] == [marker]
    # Removing the marker through DeleteObjects says it was one.
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert result["Deleted"][0]["DeleteMarker"] is True and result["Deleted"][0]["DeleteMarkerVersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"b"


def test_multipart_completion_makes_a_version(s3, bucket):
    enable(s3, bucket)
    first = s3.put_object(Bucket=bucket, Key="mp", Body=b"small")["VersionId"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 1000)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["VersionId"] not in (None, "null", first)
    assert s3.get_object(Bucket=bucket, Key="mp", VersionId=first)["Body"].read() == b"small"
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"p" * 1000
    # partNumber reads a part of the version named.
    s3.put_object(Bucket=bucket, Key="mp", Body=b"newest")
    part = s3.get_object(Bucket=bucket, Key="mp", VersionId=done["VersionId"], PartNumber=1)
    assert part["Body"].read() == b"p" * 1000 and part["PartsCount"] == 1 and part["VersionId"] == done["VersionId"]


def test_minio_client_version_calls(depot, s3, bucket):
    client = Minio(f"127.0.0.1:{depot.port}", ROOT_USER, ROOT_PASSWORD, secure=False)
    client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
    assert client.get_bucket_versioning(bucket).status == ENABLED
    one = client.put_object(bucket, "clip", io.BytesIO(b"one"), 3).version_id
    two = client.put_object(bucket, "clip", io.BytesIO(b"two"), 3).version_id
    assert client.stat_object(bucket, "clip", version_id=one).size == 3
    assert client.get_object(bucket, "clip", version_id=one).read() == b"one"
    listed = [(o.object_name, o.version_id, o.is_latest) for o in client.list_objects(bucket, include_version=True)]
    assert listed == [("clip", two, "true"), ("clip", one, "false")]
    client.remove_object(bucket, "clip", version_id=two)
    assert client.get_object(bucket, "clip").read() == b"one"
    # A browser form upload (POST Object) makes a version too and names it.
    import datetime

    from minio.datatypes import PostPolicy

    policy = PostPolicy(bucket, datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5))
    policy.add_starts_with_condition("key", "forms/")
    form = client.presigned_post_policy(policy)
    posted = requests.post(f"http://127.0.0.1:{depot.port}/{bucket}", data=dict(form, key="forms/a.bin"),
                           files={"file": ("a.bin", b"form data", "application/octet-stream")}, timeout=10)
    assert posted.status_code == 204, posted.text
    version = posted.headers["x-amz-version-id"]
    assert s3.head_object(Bucket=bucket, Key="forms/a.bin")["VersionId"] == version != "null"


def test_vault_delete_in_a_versioned_bucket_writes_a_delete_marker(tmp_path):
    server = start_with_agent(tmp_path, bucket="recordings", secret="s3cr3t-key")
    try:
        s3 = server.client()
        enable(s3, "recordings")
        version = s3.put_object(Bucket="recordings", Key="cam/clip.mp4", Body=b"evidence")["VersionId"]
        headers = {"X-Kerberos-Storage-Accesskey": "AGENTKEY", "X-Kerberos-Storage-Secretaccesskey": "s3cr3t-key",
                   "X-Kerberos-Storage-Filename": "cam/clip.mp4"}
        assert requests.delete(server.endpoint + "/api/storage", headers=headers, timeout=10).status_code == 200
        with pytest.raises(botocore.exceptions.ClientError):
            s3.head_object(Bucket="recordings", Key="cam/clip.mp4")
        versions, markers = all_versions(s3, "recordings")
        assert [v["VersionId"] for v in versions] == [version] and len(markers) == 1
        assert s3.get_object(Bucket="recordings", Key="cam/clip.mp4", VersionId=version)["Body"].read() == b"evidence"
    finally:
        server.cleanup()


def test_every_version_counts_toward_the_owners_quota(tmp_path):
    from test_quota import KEY, SECRET, client, refused, usage

    config = tmp_path / "depot.yaml"
    config.write_text(f"""buckets: [rec]
accounts:
  - name: camera
    accessKey: {KEY}
    secretKey: {SECRET}
    allow: [{{ bucket: rec, actions: [read, write, delete, list] }}]
    quota: {{ bytes: 250, objects: 10 }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        enable(server.client(), "rec")
        camera = client(server, KEY, SECRET)
        camera.put_object(Bucket="rec", Key="clip", Body=b"a" * 100)
        camera.put_object(Bucket="rec", Key="clip", Body=b"b" * 100)
        assert usage(server)[0]["bytes"] == 200
        # A third version would take the account past 250 bytes, though it "overwrites".
        assert refused(lambda: camera.put_object(Bucket="rec", Key="clip", Body=b"c" * 100)) == ("QuotaExceeded", 403)
        # A delete marker frees nothing; removing a version does.
        camera.delete_object(Bucket="rec", Key="clip")
        assert usage(server)[0]["bytes"] == 200
        oldest = all_versions(camera, "rec")[0][-1]["VersionId"]
        camera.delete_object(Bucket="rec", Key="clip", VersionId=oldest)
        assert usage(server)[0]["bytes"] == 100
        camera.put_object(Bucket="rec", Key="clip", Body=b"d" * 100)
    finally:
        server.cleanup()


def test_replication_follows_the_current_version(tmp_path):
    """With `replicate.versions: current` tier copies follow the current version: a new version
    replaces the copy, a delete marker removes it (policy `deletes: true`) and is never
    replicated as an object (test_tiering_versions.py covers `versions: all`)."""
    import time

    from waiting import wait_for_replication

    nas = tmp_path / "nas"
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [recordings]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
policies:
  - {{ name: mirror, match: {{ bucket: recordings }}, replicate: {{ to: [nas], deletes: true, versions: current }} }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        enable(s3, "recordings")
        first = s3.put_object(Bucket="recordings", Key="cam/x.mp4", Body=b"1" * 1000)["VersionId"]
        wait_for_replication(s3, "recordings", "cam/x.mp4")
        s3.put_object(Bucket="recordings", Key="cam/x.mp4", Body=b"2" * 1000)
        wait_for_replication(s3, "recordings", "cam/x.mp4")
        assert (nas / "cam" / "x.mp4").read_bytes() == b"2" * 1000
        s3.delete_object(Bucket="recordings", Key="cam/x.mp4")
        deadline = time.time() + 20
        while (nas / "cam" / "x.mp4").exists() and time.time() < deadline:
            time.sleep(0.2)
        assert not (nas / "cam" / "x.mp4").exists()
        assert sorted(p.name for p in nas.rglob("*") if p.is_file()) == []
        # The versions are still there to read locally.
        assert s3.get_object(Bucket="recordings", Key="cam/x.mp4", VersionId=first)["Body"].read() == b"1" * 1000
        assert server.process.poll() is None
    finally:
        server.cleanup()


def test_an_evicted_older_version_is_not_read_through_from_the_current_copy(tmp_path):
    """With `replicate.versions: current` tiers hold the current version only: a version
    evicted by a transition and then displaced answers InvalidObjectState, never the bytes of
    the version that replaced it on the tier (test_tiering_versions.py reads one through)."""
    import time

    nas = tmp_path / "nas"
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
storage: {{ lifecycleInterval: 1s }}
buckets: [recordings]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
policies:
  - {{ name: archive, match: {{ bucket: recordings }}, replicate: {{ to: [nas], versions: current }}, transition: {{ after: 7d }} }}
""")
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    try:
        s3 = server.client()
        enable(s3, "recordings")

        def evicted():
            headers = s3.head_object(Bucket="recordings", Key="cam/x.mp4")["ResponseMetadata"]["HTTPHeaders"]
            return headers.get("x-depot-local-copy") == "evicted"

        first = s3.put_object(Bucket="recordings", Key="cam/x.mp4", Body=b"1" * 5000)["VersionId"]
        deadline = time.time() + 30
        while time.time() < deadline and not evicted():
            time.sleep(0.2)
        assert evicted()
        assert s3.get_object(Bucket="recordings", Key="cam/x.mp4", VersionId=first)["Body"].read() == b"1" * 5000
        s3.put_object(Bucket="recordings", Key="cam/x.mp4", Body=b"2" * 5000)
        deadline = time.time() + 30
        while time.time() < deadline and (nas / "cam" / "x.mp4").read_bytes() != b"2" * 5000:
            time.sleep(0.2)
        response = error_of(s3.get_object, Bucket="recordings", Key="cam/x.mp4", VersionId=first)
        assert response["Error"]["Code"] == "InvalidObjectState"
        # Its metadata is still here to see.
        head = s3.head_object(Bucket="recordings", Key="cam/x.mp4", VersionId=first)
        assert head["ContentLength"] == 5000 and head["ResponseMetadata"]["HTTPHeaders"]["x-depot-local-copy"] == "evicted"
        assert s3.get_object(Bucket="recordings", Key="cam/x.mp4")["Body"].read() == b"2" * 5000
    finally:
        server.cleanup()


def test_events_name_delete_markers_and_version_removals(tmp_path):
    """A DELETE in an Enabled bucket raises s3:ObjectRemoved:DeleteMarkerCreated; removing a
    version raises s3:ObjectRemoved:Delete; removing a delete marker raises nothing."""
    import time

    from event_receiver import Receiver
    from test_events_webhook import config

    receiver = Receiver().start()
    server = DepotServer(config=config(tmp_path, receiver)).start()
    try:
        s3 = server.client()
        enable(s3, "rec")
        version = s3.put_object(Bucket="rec", Key="a.mp4", Body=b"a" * 10)["VersionId"]
        marker = s3.delete_object(Bucket="rec", Key="a.mp4")["VersionId"]
        s3.delete_object(Bucket="rec", Key="a.mp4", VersionId=marker)
        s3.delete_object(Bucket="rec", Key="a.mp4", VersionId=version)
        deadline = time.time() + 30
        while time.time() < deadline and len(receiver.bodies("/s3")) < 3:
            time.sleep(0.1)
        time.sleep(0.5)
        names = [b["Records"][0]["eventName"] for b in receiver.bodies("/s3")]
        assert names == ["s3:ObjectCreated:Put", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRemoved:Delete"]
    finally:
        server.cleanup()
        receiver.stop()
