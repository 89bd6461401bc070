"""Tiers and bucket versioning (issue 16 #4): what a tier copy of a version says about it, and
the policy's `replicate.versions` option. Real server, moto_server as an S3 tier, a filesystem tier."""
import os
import time

import pytest

from admin_client import Admin
from backends import Moto
from conftest import DepotServer


@pytest.fixture
def moto():
    backend = Moto()
    yield backend.endpoint, backend.client
    backend.stop()


def versioned_tier_config(tmp_path, moto_endpoint, nas, versions=None):
    option = f", versions: {versions}" if versions else ""
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto_endpoint}", region: us-east-1, bucket: archive,
       accessKey: tier-key, secretKey: tier-secret }}
  - {{ name: nas, type: filesystem, path: "{nas}" }}
policies:
  - name: both
    match: {{ bucket: rec }}
    replicate: {{ to: [cloud, nas], mode: continuous{option} }}
""")
    return str(config)


def wait_for_status(s3, key, want="COMPLETED", timeout=30, **extra):
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        status = s3.head_object(Bucket="rec", Key=key, **extra).get("ReplicationStatus")
        if status == want:
            return
        time.sleep(0.1)
    raise AssertionError(f"{key}: replication status {status}, wanted {want}")


def test_replicate_versions_option_is_parsed_and_shown(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    config = tmp_path / "depot.yaml"
    config.write_text(f"buckets: [rec]\ntiers:\n  - {{ name: nas, type: filesystem, path: \"{nas}\" }}\n")
    server = DepotServer(config=str(config)).start()
    try:
        admin = Admin(server.endpoint)
        status, body = admin.put("/admin/v1/policies/p", {
            "match": {"bucket": "rec"}, "replicate": {"to": ["nas"], "versions": "sideways"}})
        assert status == 400 and body["field"] == "replicate.versions", body
        status, body = admin.put("/admin/v1/policies/p", {
            "match": {"bucket": "rec"}, "replicate": {"to": ["nas"], "versions": 3}})
        assert status == 400 and body["field"] == "replicate.versions", body
        # Asking for every version is refused while only the current one can be replicated,
        # instead of being accepted and done as current.
        status, body = admin.put("/admin/v1/policies/p", {
            "match": {"bucket": "rec"}, "replicate": {"to": ["nas"], "versions": "all"}})
        assert status == 400 and body["field"] == "replicate.versions", body
        assert "not supported" in str(body), body
        status, body = admin.put("/admin/v1/policies/p", {
            "match": {"bucket": "rec"}, "replicate": {"to": ["nas"], "versions": "current"}})
        assert status in (200, 201), body
        assert body["replicate"]["versions"] == "current", body
        # Without the option a policy replicates the current version, as it always did.
        status, body = admin.put("/admin/v1/policies/q", {"match": {"bucket": "rec"}, "replicate": {"to": ["nas"]}})
        assert status in (200, 201), body
        assert body["replicate"]["versions"] == "current", body
    finally:
        server.cleanup()


def test_copy_of_a_version_carries_its_version_id(tmp_path, moto):
    moto_endpoint, tier = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    server = DepotServer(config=versioned_tier_config(tmp_path, moto_endpoint, nas, versions="current")).start()
    try:
        s3 = server.client()
        # Unversioned first: the copy's metadata is the user's only.
        s3.put_object(Bucket="rec", Key="plain.mp4", Body=b"plain", Metadata={"camera": "front"})
        wait_for_status(s3, "plain.mp4")
        assert tier.head_object(Bucket="archive", Key="plain.mp4")["Metadata"] == {"camera": "front"}
        assert os.listxattr(nas / "plain.mp4").count("user.meta.depot-version-id") == 0

        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        first = os.urandom(3000)
        second = os.urandom(5000)
        v1 = s3.put_object(Bucket="rec", Key="cam.mp4", Body=first, Metadata={"camera": "front"})["VersionId"]
        wait_for_status(s3, "cam.mp4")
        remote = tier.get_object(Bucket="archive", Key="cam.mp4")
        assert remote["Body"].read() == first
        assert remote["Metadata"] == {"camera": "front", "depot-version-id": v1}
        assert os.getxattr(nas / "cam.mp4", "user.meta.depot-version-id").decode() == v1
        # A user's own depot-version-id cannot pass for the version's.
        v2 = s3.put_object(Bucket="rec", Key="cam.mp4", Body=second,
                           Metadata={"camera": "front", "depot-version-id": "forged"})["VersionId"]
        assert v2 != v1
        wait_for_status(s3, "cam.mp4")
        wait_for_status(s3, "cam.mp4", VersionId=v2)
        remote = tier.get_object(Bucket="archive", Key="cam.mp4")
        assert remote["Body"].read() == second
        assert remote["Metadata"] == {"camera": "front", "depot-version-id": v2}
        assert (nas / "cam.mp4").read_bytes() == second
        assert os.getxattr(nas / "cam.mp4", "user.meta.depot-version-id").decode() == v2
    finally:
        server.cleanup()
