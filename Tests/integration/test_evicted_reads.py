"""Objects whose local copy a transition evicted: every reader reads them through from the tier
(Vault blob and signed links, UploadPartCopy, CopyObject, an on-demand copy to another tier) or
fails loudly; none reads them as empty. Tiers are filesystem directories; the clock is moved
past the policy's age with DEPOT_CLOCK_OFFSET_SECONDS, as in test_transition.py."""
import hashlib
import json
import os
import time

import pytest
import requests

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot

SECRET = "agent-secret-123"
VAULT = {"X-Kerberos-Storage-Accesskey": "AGENTKEY", "X-Kerberos-Storage-Secretaccesskey": SECRET}
CLIP = os.urandom(3 * 1024 * 1024 + 7)
PARTS = [os.urandom(5 * 1024 * 1024), os.urandom(1024 * 1024 + 3)]
MULTI = b"".join(PARTS)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def write_config(path, tiers, nas, second):
    listed = {
        "nas": f'{{ name: nas, type: filesystem, path: "{nas}" }}',
        "second": f'{{ name: second, type: filesystem, path: "{second}", maxAttempts: 1 }}',
    }
    policy = '  - { name: archive, match: { bucket: recordings, prefix: "old/" }, replicate: { to: [nas] }, transition: { after: 7d } }'
    path.write_text(f"""
storage: {{ lifecycleInterval: 1s, segmentSize: 8MiB }}
buckets: [recordings]
accounts:
  - name: agents
    accessKey: AGENTKEY
    secretKey: "{SECRET}"
    allow: [{{ bucket: recordings, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: recordings }}
tiers:
{chr(10).join("  - " + listed[t] for t in tiers)}
policies:
{policy if "nas" in tiers else "  []"}
""")


def local_state(s3, key):
    return s3.head_object(Bucket="recordings", Key=key)["ResponseMetadata"]["HTTPHeaders"].get("x-depot-local-copy")


@pytest.fixture(scope="module")
def evicted(tmp_path_factory):
    """A server holding old/clip.mp4 (single part) and old/multi.mp4 (two parts), both evicted."""
    root = tmp_path_factory.mktemp("evicted")
    nas, second = root / "nas", root / "second"
    nas.mkdir()
    second.mkdir()
    config = root / "depot.yaml"
    write_config(config, ["nas", "second"], nas, second)
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    s3 = server.client()
    s3.put_object(Bucket="recordings", Key="old/clip.mp4", Body=CLIP, ContentType="video/mp4")
    upload = s3.create_multipart_upload(Bucket="recordings", Key="old/multi.mp4")["UploadId"]
    etags = [s3.upload_part(Bucket="recordings", Key="old/multi.mp4", UploadId=upload, PartNumber=i + 1, Body=part)["ETag"]
             for i, part in enumerate(PARTS)]
    s3.complete_multipart_upload(Bucket="recordings", Key="old/multi.mp4", UploadId=upload, MultipartUpload={
        "Parts": [{"ETag": e, "PartNumber": i + 1} for i, e in enumerate(etags)]})
    deadline = time.time() + 60
    keys = ["old/clip.mp4", "old/multi.mp4"]
    while time.time() < deadline and not all(local_state(s3, k) == "evicted" for k in keys):
        time.sleep(0.2)
    assert [local_state(s3, k) for k in keys] == ["evicted", "evicted"]
    server.tier_dirs = (nas, second, config)
    yield server
    server.cleanup()


def test_vault_blob_and_signed_links_read_an_evicted_recording_through(evicted):
    base = evicted.endpoint + "/api/storage"
    blob = requests.get(base + "/blob", headers=dict(VAULT, **{"X-Kerberos-Storage-Filename": "old/clip.mp4"}), timeout=60)
    assert blob.status_code == 200 and int(blob.headers["Content-Length"]) == len(CLIP)
    assert sha(blob.content) == sha(CLIP)
    ranged = requests.get(base + "/blob", timeout=60, headers=dict(
        VAULT, **{"X-Kerberos-Storage-Filename": "old/multi.mp4", "Range": "bytes=5242000-5243999"}))
    assert ranged.status_code == 206 and ranged.content == MULTI[5242000:5244000]
    link = requests.get(base, headers=dict(VAULT, **{"X-Kerberos-Storage-Filename": "old/multi.mp4"}), timeout=10).json()["data"]
    assert sha(requests.get(link, timeout=60).content) == sha(MULTI)
    bulk = requests.post(base + "/bulk", headers=VAULT, timeout=10,
                         json=[{"provider": "", "filename": "old/clip.mp4", "uriExpiryTime": 60}]).json()["data"]
    assert sha(requests.get(bulk["old/clip.mp4"], timeout=60).content) == sha(CLIP)


def test_upload_part_copy_and_copy_object_from_evicted_sources(evicted):
    s3 = evicted.client()
    upload = s3.create_multipart_upload(Bucket="recordings", Key="copies/parts.mp4")["UploadId"]
    whole = s3.upload_part_copy(Bucket="recordings", Key="copies/parts.mp4", UploadId=upload, PartNumber=1,
                                CopySource={"Bucket": "recordings", "Key": "old/multi.mp4"})["CopyPartResult"]["ETag"]
    ranged = s3.upload_part_copy(Bucket="recordings", Key="copies/parts.mp4", UploadId=upload, PartNumber=2,
                                 CopySource={"Bucket": "recordings", "Key": "old/clip.mp4"},
                                 CopySourceRange="bytes=1000-2999")["CopyPartResult"]["ETag"]
    parts = s3.list_parts(Bucket="recordings", Key="copies/parts.mp4", UploadId=upload)["Parts"]
    assert [p["Size"] for p in parts] == [len(MULTI), 2000]
    s3.complete_multipart_upload(Bucket="recordings", Key="copies/parts.mp4", UploadId=upload, MultipartUpload={
        "Parts": [{"ETag": whole, "PartNumber": 1}, {"ETag": ranged, "PartNumber": 2}]})
    got = s3.get_object(Bucket="recordings", Key="copies/parts.mp4")["Body"].read()
    assert sha(got) == sha(MULTI + CLIP[1000:3000])

    s3.copy_object(Bucket="recordings", Key="copies/whole.mp4", CopySource={"Bucket": "recordings", "Key": "old/multi.mp4"})
    assert sha(s3.get_object(Bucket="recordings", Key="copies/whole.mp4")["Body"].read()) == sha(MULTI)
    s3.copy_object(Bucket="recordings", Key="copies/clip.mp4", CopySource={"Bucket": "recordings", "Key": "old/clip.mp4"},
                   MetadataDirective="REPLACE", Metadata={"camera": "front"}, ContentType="video/x-test")
    head = s3.head_object(Bucket="recordings", Key="copies/clip.mp4")
    assert head["Metadata"] == {"camera": "front"} and head["ContentType"] == "video/x-test"
    assert head["ContentLength"] == len(CLIP) and head["ETag"] == f'"{hashlib.md5(CLIP).hexdigest()}"'
    assert local_state(s3, "copies/clip.mp4") == "present"


def test_on_demand_copy_of_an_evicted_multipart_object_to_another_tier(evicted):
    nas, second, _ = evicted.tier_dirs
    keys = ["--endpoint", evicted.endpoint, "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD]
    result = run_depot("replicate", "recordings", "old/multi.mp4", "--tier", "second", *keys)
    assert result.returncode == 0 and "queued 1" in result.stdout, result.stdout + result.stderr
    target = second / "old" / "multi.mp4"
    deadline = time.time() + 30
    while time.time() < deadline and not target.exists():
        time.sleep(0.2)
    assert target.exists(), run_depot("replication", "list", "--failed", *keys).stdout
    assert sha(target.read_bytes()) == sha(MULTI)


def test_without_a_tier_to_read_from_every_reader_fails_loudly(evicted):
    """The tier that holds the copies is gone from the configuration (with its policy): nothing may
    read as empty."""
    nas, second, config = evicted.tier_dirs
    evicted.stop()
    write_config(config, ["second"], nas, second)
    evicted.start()
    s3 = evicted.client()
    base = evicted.endpoint + "/api/storage"

    blob = requests.get(base + "/blob", headers=dict(VAULT, **{"X-Kerberos-Storage-Filename": "old/clip.mp4"}), timeout=10)
    assert blob.status_code == 503 and "old/clip.mp4" in blob.json()["data"]
    link = requests.get(base, headers=dict(VAULT, **{"X-Kerberos-Storage-Filename": "old/clip.mp4"}), timeout=10).json()["data"]
    assert requests.get(link, timeout=10).status_code == 503

    with pytest.raises(s3.exceptions.ClientError) as error:
        s3.get_object(Bucket="recordings", Key="old/clip.mp4")
    assert error.value.response["Error"]["Code"] == "InvalidObjectState"

    upload = s3.create_multipart_upload(Bucket="recordings", Key="copies/never.mp4")["UploadId"]
    with pytest.raises(s3.exceptions.ClientError) as error:
        s3.upload_part_copy(Bucket="recordings", Key="copies/never.mp4", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": "recordings", "Key": "old/clip.mp4"})
    assert error.value.response["Error"]["Code"] == "InvalidObjectState"
    assert s3.list_parts(Bucket="recordings", Key="copies/never.mp4", UploadId=upload).get("Parts", []) == []
    with pytest.raises(s3.exceptions.ClientError) as error:
        s3.copy_object(Bucket="recordings", Key="copies/never.mp4", CopySource={"Bucket": "recordings", "Key": "old/clip.mp4"})
    assert error.value.response["Error"]["Code"] == "InvalidObjectState"

    # An on-demand copy to the remaining tier has nothing to read from: FAILED, no file.
    keys = ["--endpoint", evicted.endpoint, "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD]
    assert run_depot("replicate", "recordings", "old/clip.mp4", "--tier", "second", *keys).returncode == 0
    deadline = time.time() + 30
    failed = []
    while time.time() < deadline and not failed:
        failed = json.loads(run_depot("replication", "list", "--failed", "--json", *keys, check=True).stdout)["failed"]
        time.sleep(0.3)
    assert [(f["key"], f["tier"]) for f in failed] == [("old/clip.mp4", "second")] and failed[0]["lastError"]
    assert not (second / "old" / "clip.mp4").exists()

    # old/multi.mp4 was copied to "second" above, which still serves it; once that file is lost
    # too, a read that already answered 200 breaks off rather than end short as if complete.
    assert sha(s3.get_object(Bucket="recordings", Key="old/multi.mp4")["Body"].read()) == sha(MULTI)
    (second / "old" / "multi.mp4").unlink()
    with pytest.raises(Exception):
        s3.get_object(Bucket="recordings", Key="old/multi.mp4")["Body"].read()
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(base + "/blob", headers=dict(VAULT, **{"X-Kerberos-Storage-Filename": "old/multi.mp4"}), timeout=10)
    upload = s3.create_multipart_upload(Bucket="recordings", Key="copies/lost.mp4")["UploadId"]
    with pytest.raises(s3.exceptions.ClientError):
        s3.upload_part_copy(Bucket="recordings", Key="copies/lost.mp4", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": "recordings", "Key": "old/multi.mp4"})
    assert s3.list_parts(Bucket="recordings", Key="copies/lost.mp4", UploadId=upload).get("Parts", []) == []


def test_expiring_tier_copies_never_removes_the_only_copy_of_an_evicted_object(tmp_path):
    """A policy that moves recordings to a tier after 7 days and expires the tier copies after
    30 must not delete the bytes of a recording whose local copy the transition evicted."""
    nas = tmp_path / "nas"
    nas.mkdir()
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
storage: {{ lifecycleInterval: 1s }}
buckets: [recordings]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
policies:
  - name: archive
    match: {{ bucket: recordings, prefix: "old/" }}
    replicate: {{ to: [nas] }}
    transition: {{ after: 7d }}
    expire: {{ after: 30d, where: tiers }}
""")
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(31 * 86400)}).start()
    try:
        s3 = server.client()
        s3.put_object(Bucket="recordings", Key="old/clip.mp4", Body=CLIP)
        deadline = time.time() + 30
        while time.time() < deadline and local_state(s3, "old/clip.mp4") != "evicted":
            time.sleep(0.2)
        assert local_state(s3, "old/clip.mp4") == "evicted"
        time.sleep(3)  # a few more lifecycle passes, each of which expires what is due
        assert (nas / "old" / "clip.mp4").exists()
        assert sha(s3.get_object(Bucket="recordings", Key="old/clip.mp4")["Body"].read()) == sha(CLIP)
    finally:
        server.cleanup()
