"""The admin API driven with a plain HTTP client signing SigV4: tiers, policies and accounts
made through it take effect without a restart and survive one; invalid input gets a 400 naming
the field; usage, object status, replication jobs, server info and reload."""
import os
import time

import boto3
import pytest
from botocore.config import Config

from admin_client import Admin
from backends import Moto
from conftest import DepotServer, run_depot, ROOT_PASSWORD, ROOT_USER
from waiting import wait_for


@pytest.fixture
def moto():
    backend = Moto()
    yield backend
    backend.stop()


def start(tmp_path, text):
    config = tmp_path / "depot.yaml"
    config.write_text(text)
    server = DepotServer(config=str(config)).start()
    return server, Admin(server.endpoint), config


def s3_tier(moto, **extra):
    return dict({"type": "s3", "endpoint": moto.endpoint, "bucket": "archive", "accessKey": "tier-key",
                 "secretKey": "tier-secret", "prefix": "api/"}, **extra)


def test_tier_and_policy_made_through_the_api_replicate_without_a_restart_and_persist(tmp_path, moto):
    server, admin, _ = start(tmp_path, "buckets: [rec]\n")
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="old/a.mp4", Body=b"a" * 1000)
        status, tier = admin.put("/admin/v1/tiers/cloud", s3_tier(moto))
        assert status == 201, tier
        assert tier["source"] == "api" and tier["secretKey"] == "********"
        status, policy = admin.post("/admin/v1/policies", {
            "name": "cams", "match": {"bucket": "rec", "key": "cam*/**"}, "replicate": {"to": ["cloud"]}})
        assert status == 201, policy
        assert policy["match"]["key"] == "cam*/**"
        # Applies at once: a new upload replicates, with no restart.
        s3.put_object(Bucket="rec", Key="cam1/b.mp4", Body=b"b" * 2000, Metadata={"camera": "one"})
        wait_for(lambda: s3.head_object(Bucket="rec", Key="cam1/b.mp4").get("ReplicationStatus") == "COMPLETED",
                 what="the copy under the API policy")
        remote = moto.client.get_object(Bucket="archive", Key="api/cam1/b.mp4")
        assert remote["Body"].read() == b"b" * 2000 and remote["Metadata"] == {"camera": "one"}
        # The dry run sees stored objects the policy matches, not the others.
        status, dry = admin.post("/admin/v1/policies/cams/dry-run")
        assert status == 200 and dry["matches"] == 1 and dry["objects"][0]["key"] == "cam1/b.mp4"
        status, dry = admin.post("/admin/v1/policies/dry-run", {"match": {"bucket": "rec", "prefix": "old/"}})
        assert status == 200 and dry["matches"] == 1 and dry["bytes"] == 1000

        server.restart()
        admin = Admin(server.endpoint)
        s3 = server.client()
        status, tiers = admin.get("/admin/v1/tiers")
        assert [(t["name"], t["source"]) for t in tiers["tiers"]] == [("cloud", "api")]
        s3.put_object(Bucket="rec", Key="cam2/c.mp4", Body=b"c" * 10)
        wait_for(lambda: s3.head_object(Bucket="rec", Key="cam2/c.mp4").get("ReplicationStatus") == "COMPLETED",
                 what="the copy after a restart")

        # A tier in use cannot go; once its policy is deleted it can.
        status, body = admin.delete("/admin/v1/tiers/cloud")
        assert status == 409 and "cams" in body["error"]
        assert admin.delete("/admin/v1/policies/cams")[0] == 200
        s3.put_object(Bucket="rec", Key="cam3/d.mp4", Body=b"d")
        time.sleep(1)
        assert s3.head_object(Bucket="rec", Key="cam3/d.mp4").get("ReplicationStatus") is None
        assert admin.delete("/admin/v1/tiers/cloud")[0] == 200
        assert admin.get("/admin/v1/tiers/cloud")[0] == 404
    finally:
        server.cleanup()


@pytest.mark.parametrize("document, field", [
    ({"type": "floppy"}, "type"),
    ({"type": "s3", "endpoint": "ftp://x", "bucket": "b", "accessKey": "k", "secretKey": "s"}, "endpoint"),
    ({"type": "filesystem", "path": "/tmp/x", "window": "25:00-26:00"}, "window"),
    ({"type": "filesystem", "path": "/tmp/x", "concurrency": 0}, "concurrency"),
    ({"type": "filesystem", "path": "/tmp/x", "colour": "red"}, "colour"),
    ({"type": "filesystem", "path": "${DEPOT_ROOT_PASSWORD}", "bandwidth": "lots"}, "bandwidth"),
])
def test_invalid_tiers_get_a_400_naming_the_field(tmp_path, document, field):
    server, admin, _ = start(tmp_path, "buckets: [rec]\n")
    try:
        status, body = admin.put("/admin/v1/tiers/bad", document)
        assert status == 400, body
        assert body["field"] == field, body
        assert admin.get("/admin/v1/tiers/bad")[0] == 404
    finally:
        server.cleanup()


def test_invalid_policies_and_environment_references(tmp_path, nas=None):
    nas = tmp_path / "nas"
    nas.mkdir()
    server, admin, _ = start(tmp_path, f"buckets: [rec]\ntiers:\n  - {{ name: nas, type: filesystem, path: \"{nas}\" }}\n")
    try:
        status, body = admin.put("/admin/v1/policies/p", {"match": {"bucket": "rec"}, "replicate": {"to": ["nowhere"]}})
        assert status == 400 and body["field"] == "replicate.to[0]", body
        status, body = admin.put("/admin/v1/policies/p", {"match": {"key": "cam[1-"}})
        assert status == 400 and body["field"] == "match.key", body
        status, body = admin.post("/admin/v1/policies", {"name": "bad name", "match": {}})
        assert status == 400 and body["field"] == "name", body
        # ${NAME} is not expanded from the server's environment in API documents.
        status, tier = admin.put("/admin/v1/tiers/leak", {"type": "filesystem", "path": "/tmp/${DEPOT_ROOT_PASSWORD}"})
        assert status == 201 and tier["path"] == "/tmp/${DEPOT_ROOT_PASSWORD}"
        assert ROOT_PASSWORD not in str(admin.get("/admin/v1/server")[1])
    finally:
        server.cleanup()


def test_a_body_naming_another_item_than_its_path_is_refused_naming_the_field(tmp_path):
    """PUT /admin/v1/{tiers,policies,events}/NAME with a body whose name is another item's: 400 on
    `name`, nothing made; the policy dry run's path is no item's name, so its body may name any."""
    server, admin, _ = start(tmp_path, "buckets: [rec]\n")
    try:
        for path, document in [
            ("/admin/v1/tiers/nas", {"name": "other", "type": "filesystem", "path": str(tmp_path)}),
            ("/admin/v1/policies/keep", {"name": "other", "match": {"bucket": "rec"}}),
            ("/admin/v1/events/hook", {"name": "other", "type": "webhook", "url": "http://127.0.0.1:9/"}),
        ]:
            status, body = admin.put(path, document)
            assert status == 400 and body["field"] == "name", (path, body)
            assert "but the path names" in body["error"], (path, body)
            assert admin.get(path)[0] == 404, path
        status, body = admin.post("/admin/v1/policies/dry-run", {"name": "draft", "match": {"bucket": "rec"}})
        assert status == 200, body
    finally:
        server.cleanup()


def test_api_items_override_the_files_and_deleting_them_restores_the_files(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    server, admin, _ = start(tmp_path, f"buckets: [rec]\ntiers:\n  - {{ name: nas, type: filesystem, path: \"{nas}\" }}\n")
    try:
        assert admin.delete("/admin/v1/tiers/nas")[0] == 409  # the file's tier is edited in the file
        status, tier = admin.put("/admin/v1/tiers/nas", {"type": "filesystem", "path": str(other)})
        assert status == 200 and tier["source"] == "api (overrides config)" and tier["path"] == str(other)
        status, body = admin.delete("/admin/v1/tiers/nas")
        assert status == 200 and body["restoredFromConfig"] is True
        status, tier = admin.get("/admin/v1/tiers/nas")
        assert tier["source"] == "config" and tier["path"] == str(nas)
    finally:
        server.cleanup()


def test_accounts_through_the_api(tmp_path):
    server, admin, _ = start(tmp_path, """buckets: [rec, other]
accounts:
  - { name: filed, accessKey: FILED, secretKey: filed-secret, allow: [{ bucket: rec, actions: [read] }] }
""")
    try:
        status, created = admin.post("/admin/v1/accounts", {
            "name": "cam-9", "allow": [{"bucket": "rec", "prefix": "cam9/", "actions": ["read", "write", "list"]}]})
        assert status == 201, created
        key, secret = created["accessKey"], created["secretKey"]
        assert len(secret) >= 20
        listed = admin.get("/admin/v1/accounts")[1]["accounts"]
        assert {a["accessKey"]: a["source"] for a in listed} == {"FILED": "config", key: "api"}
        assert all("secretKey" not in a for a in listed)
        cam = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=key,
                           aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
        cam.put_object(Bucket="rec", Key="cam9/x.mp4", Body=b"x")  # works at once, no restart
        with pytest.raises(Exception):
            cam.put_object(Bucket="other", Key="cam9/x.mp4", Body=b"x")
        # Update permissions: now it may also write to `other`.
        status, updated = admin.patch(f"/admin/v1/accounts/{key}", {
            "allow": [{"bucket": "*", "actions": ["read", "write"]}]})
        assert status == 200, updated
        cam.put_object(Bucket="other", Key="y", Body=b"y")
        assert admin.patch(f"/admin/v1/accounts/{key}", {"secretKey": "x" * 20})[1]["field"] == "secretKey"
        # Disable: refused at once.
        assert admin.patch(f"/admin/v1/accounts/{key}", {"enabled": False})[0] == 200
        with pytest.raises(Exception) as refused:
            cam.put_object(Bucket="rec", Key="cam9/z.mp4", Body=b"z")
        assert "403" in str(refused.value) or "AccessDenied" in str(refused.value) or "InvalidAccessKeyId" in str(refused.value)
        # A non-admin account cannot use the admin API.
        assert admin.patch(f"/admin/v1/accounts/{key}", {"enabled": True})[0] == 200
        assert Admin(server.endpoint, key, secret).get("/admin/v1/tiers")[0] == 403
        assert admin.patch("/admin/v1/accounts/FILED", {"enabled": False})[0] == 409
        assert admin.delete("/admin/v1/accounts/FILED")[0] == 409
        assert admin.delete(f"/admin/v1/accounts/{key}")[0] == 200
        assert admin.get(f"/admin/v1/accounts/{key}")[0] == 404
        server.restart()
        assert Admin(server.endpoint).get(f"/admin/v1/accounts/{key}")[0] == 404
    finally:
        server.cleanup()


def test_usage_object_status_jobs_retry_server_info_and_reload(tmp_path, moto):
    server, admin, config = start(tmp_path, f"""buckets: [rec]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto.endpoint}", bucket: archive, accessKey: tier-key, secretKey: tier-secret }}
""")
    try:
        s3 = server.client()
        data = os.urandom(3 << 20)
        s3.put_object(Bucket="rec", Key="a.mp4", Body=data, Tagging="camera=front")
        s3.put_object(Bucket="rec", Key="copy-of-a.mp4", Body=data)
        status, usage = admin.get("/admin/v1/buckets/rec")
        assert status == 200 and usage["objects"] == 2 and usage["logicalBytes"] == 2 * len(data)
        assert usage["storedBytes"] == len(data) and usage["dedupRatio"] == 2.0
        status, buckets = admin.get("/admin/v1/buckets")
        assert [b["name"] for b in buckets["buckets"]] == ["rec"]

        status, job = admin.post("/admin/v1/replicate", {"bucket": "rec", "tier": "cloud", "prefix": ""})
        assert status == 202 and job["queued"] == 2, job
        wait_for(lambda: admin.get(f"/admin/v1/replication/jobs/{job['job']}")[1]["done"], what="the job")
        progress = admin.get(f"/admin/v1/replication/jobs/{job['job']}")[1]
        assert progress["completed"] == 2 and progress["failed"] == 0
        status, obj = admin.get("/admin/v1/buckets/rec/objects/a.mp4")
        assert status == 200 and obj["size"] == len(data) and obj["tags"] == {"camera": "front"}
        assert obj["replicas"][0]["tier"] == "cloud" and obj["replicas"][0]["state"] == "COMPLETED"
        assert obj["manifest"]["chunks"] >= 1 and obj["local"] == "present" and obj["pendingTasks"] == []
        assert admin.get("/admin/v1/buckets/rec/objects/missing.mp4")[0] == 404
        status, backlog = admin.get("/admin/v1/replication")
        assert backlog["tiers"][0]["bytesReplicated"] == 2 * len(data)

        status, info = admin.get("/admin/v1/server")
        assert info["configuration"]["tiers"][0]["secretKey"] == "********"
        assert "tier-secret" not in str(info)
        # Reload through the API: a broken file is refused with the field named, a good one applied.
        config.write_text(config.read_text().replace("type: s3", "type: tape"))
        status, body = admin.post("/admin/v1/server/reload")
        assert status == 400 and body["field"] == "tiers[0].type", body
        config.write_text(config.read_text().replace("type: tape", "type: s3") + "\npolicies: []\n")
        status, body = admin.post("/admin/v1/server/reload")
        assert status == 200 and body["reloaded"] is True, body
        assert admin.call("DELETE", "/admin/v1/server")[0] == 405
        assert admin.get("/admin/v1/nothing-here")[0] == 404
    finally:
        server.cleanup()


def test_cli_commands_go_through_the_api(tmp_path, moto):
    server, admin, _ = start(tmp_path, "buckets: [rec]\n")
    env = {"DEPOT_ENDPOINT": server.endpoint}
    try:
        def depot(*args):
            result = run_depot(*args, env=env)
            assert result.returncode == 0, result.stdout + result.stderr
            return result.stdout
        depot("tier", "put", "cloud", "type=s3", f"endpoint={moto.endpoint}", "bucket=archive",
              "accessKey=tier-key", "secretKey=tier-secret", "prefix=cli/")
        assert "cloud" in depot("tier", "list") and "api" in depot("tier", "list")
        depot("policy", "put", "all", "match.bucket=rec", "replicate.to[]=cloud")
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="k.mp4", Body=b"k")
        wait_for(lambda: s3.head_object(Bucket="rec", Key="k.mp4").get("ReplicationStatus") == "COMPLETED",
                 what="the copy under the CLI policy")
        assert '"matches" : 1' in depot("policy", "dry-run", "all", "--json")
        bad = run_depot("tier", "put", "x", "type=s3", env=env)
        assert bad.returncode != 0 and "endpoint" in bad.stderr
        added = depot("account", "add", "--name", "cli-cam", "--bucket", "rec", "--actions", "read,write")
        assert "secret key" in added
        assert "cli-cam" in depot("account", "list")
    finally:
        server.cleanup()
