"""Accounts, tiers and policies made through the admin API (and bucket settings made through S3)
are in the segment log records as well as the index, so `depot fsck --rebuild-index` restores them
and says what it restored, also after `depot gc` compacted the segment that first held them; an item
removed stays removed, and no segment file holds an account's secret in clear (issue 18 #6)."""
import os
import shutil
import time

import boto3
import pytest
from botocore.config import Config

from admin_client import Admin
from conftest import DepotServer, run_depot


def account_client(server, key, secret):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def segment_files(data_dir):
    directory = os.path.join(data_dir, "segments")
    return sorted(os.path.join(directory, name) for name in os.listdir(directory) if name.endswith(".seg"))


def test_rebuild_restores_admin_made_items_after_compaction(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    config = tmp_path / "depot.yaml"
    # Small segments, so the records made first sit in a segment that gc then empties.
    config.write_text("storage: { segmentSize: 1MiB }\nbuckets: [rec]\n")
    server = DepotServer(data_dir=str(tmp_path / "data"), config=str(config)).start()
    try:
        admin = Admin(server.endpoint)
        status, kept = admin.post("/admin/v1/accounts", {
            "name": "cam-1", "allow": [{"bucket": "rec", "prefix": "cam1/", "actions": ["read", "write", "list"]}]})
        assert status == 201, kept
        status, dropped = admin.post("/admin/v1/accounts", {
            "name": "cam-2", "allow": [{"bucket": "rec", "actions": ["read"]}]})
        assert status == 201, dropped
        assert admin.delete(f"/admin/v1/accounts/{dropped['accessKey']}")[0] == 200
        assert admin.put("/admin/v1/tiers/nas", {"type": "filesystem", "path": str(nas)})[0] == 201
        assert admin.put("/admin/v1/tiers/gone", {"type": "filesystem", "path": str(nas)})[0] == 201
        assert admin.delete("/admin/v1/tiers/gone")[0] == 200
        status, policy = admin.post("/admin/v1/policies", {
            "name": "cams", "match": {"bucket": "rec", "key": "cam*/**"}, "replicate": {"to": ["nas"]}})
        assert status == 201, policy
        assert admin.post("/admin/v1/policies", {"name": "dropped", "match": {"bucket": "rec"},
                                                  "expire": {"after": "30d"}})[0] == 201
        assert admin.delete("/admin/v1/policies/dropped")[0] == 200
        s3 = server.client()
        s3.put_bucket_lifecycle_configuration(Bucket="rec", LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 3}}]})
        # Fill the first segment with objects, then delete them: gc empties it.
        for i in range(8):
            s3.put_object(Bucket="rec", Key=f"filler/{i}", Body=os.urandom(200_000))
        for i in range(8):
            s3.delete_object(Bucket="rec", Key=f"filler/{i}")
        account_client(server, kept["accessKey"], kept["secretKey"]).put_object(
            Bucket="rec", Key="cam1/a.mp4", Body=b"recording")
        assert server.stop() == 0

        first = segment_files(server.data_dir)[0]
        gc = run_depot("gc", "--threshold", "1.0", "--config", str(config), "--data", server.data_dir)
        assert gc.returncode == 0, gc.stdout + gc.stderr
        assert not os.path.exists(first), gc.stdout
        # Accounts reach the segments sealed only.
        for path in segment_files(server.data_dir):
            with open(path, "rb") as f:
                raw = f.read()
            for secret in (kept["secretKey"], dropped["secretKey"]):
                assert secret.encode() not in raw, path

        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--rebuild-index", "--config", str(config), "--data", server.data_dir)
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        lines = rebuilt.stdout.splitlines()
        for expected in ["restored: 1 buckets", "restored: 1 objects",
                         "restored: 1 accounts made through the admin API or `depot account add` (sealed)",
                         "restored: 1 tiers made through the admin API",
                         "restored: 1 policies made through the admin API",
                         "restored: 1 bucket lifecycle documents"]:
            assert expected in lines, rebuilt.stdout

        server.start()
        cam = account_client(server, kept["accessKey"], kept["secretKey"])
        assert cam.get_object(Bucket="rec", Key="cam1/a.mp4")["Body"].read() == b"recording"
        cam.put_object(Bucket="rec", Key="cam1/b.mp4", Body=b"after the rebuild")
        with pytest.raises(Exception) as refused:
            account_client(server, dropped["accessKey"], dropped["secretKey"]).get_object(Bucket="rec", Key="cam1/a.mp4")
        assert "InvalidAccessKeyId" in str(refused.value) or "403" in str(refused.value)
        admin = Admin(server.endpoint)
        status, account = admin.get(f"/admin/v1/accounts/{kept['accessKey']}")
        assert status == 200 and account["source"] == "api", account
        assert admin.get(f"/admin/v1/accounts/{dropped['accessKey']}")[0] == 404
        status, tier = admin.get("/admin/v1/tiers/nas")
        assert status == 200 and tier["source"] == "api" and tier["path"] == str(nas), tier
        assert admin.get("/admin/v1/tiers/gone")[0] == 404
        policies = {p["name"]: p for p in admin.get("/admin/v1/policies")[1]["policies"]}
        assert policies["cams"]["source"] == "api", policies
        assert "dropped" not in policies
        assert policies["s3-lifecycle:rec:tmp"]["source"] == "s3-lifecycle", policies
        # The restored policy acts: the new upload replicates to the restored tier.
        deadline = time.time() + 30
        while cam.head_object(Bucket="rec", Key="cam1/b.mp4").get("ReplicationStatus") != "COMPLETED":
            assert time.time() < deadline, "the restored policy did not replicate to the restored tier"
            time.sleep(0.2)
        assert (nas / "cam1" / "b.mp4").read_bytes() == b"after the rebuild"
    finally:
        server.cleanup()
