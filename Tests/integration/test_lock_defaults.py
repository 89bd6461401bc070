"""Object Lock defaults (issue 16 #2, item 3): an account's `vault.retention` locks every
recording it uploads through the Vault API (legacy POST and tus) on arrival, so an unmodified
Kerberos Agent's uploads cannot be deleted; an account whose Vault bucket has no Object Lock is
refused at upload time with Vault's JSON error. A policy's `lock:` gives the versions it matches
its retention when their request named none (request > policy > bucket default), only in buckets
with Object Lock. Real server, requests and boto3."""
import base64
import datetime

import pytest
import requests
from botocore.exceptions import ClientError

from admin_client import Admin
from conftest import DepotServer, run_depot

SECRET = "agent-secret-1234"
AGENT = {"X-Kerberos-Storage-Accesskey": "LOCKAGENT", "X-Kerberos-Storage-Secretaccesskey": SECRET}
PLAIN = {"X-Kerberos-Storage-Accesskey": "PLAINAGENT", "X-Kerberos-Storage-Secretaccesskey": SECRET}
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # `locked` is made at runtime with Object Lock; `plain` (from the file) has none.
    config = tmp_path_factory.mktemp("lock-defaults") / "depot.yaml"
    config.write_text(f"""buckets: [plain]
accounts:
  - name: agents
    accessKey: LOCKAGENT
    secretKey: "{SECRET}"
    allow: [{{ bucket: locked, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: locked, retention: {{ mode: COMPLIANCE, days: 30 }} }}
  - name: plain-agents
    accessKey: PLAINAGENT
    secretKey: "{SECRET}"
    allow: [{{ bucket: plain, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: plain, retention: {{ mode: GOVERNANCE, years: 1 }} }}
policies:
  - name: cam2-evidence
    match: {{ bucket: locked, key: "cam2/*", metadata: {{ case: open }} }}
    lock: {{ mode: COMPLIANCE, days: 10 }}
  - name: over-the-default
    match: {{ bucket: withdefault }}
    lock: {{ mode: COMPLIANCE, days: 5 }}
  - name: no-lock-here
    match: {{ bucket: plain }}
    lock: {{ mode: COMPLIANCE, days: 5 }}
""")
    s = DepotServer(config=str(config)).start()
    s3 = s.client()
    s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="withdefault", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket="withdefault", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    yield s
    s.cleanup()


def legacy_post(server, headers, filename, body):
    return requests.post(server.endpoint + "/api/storage", data=body, timeout=30, headers=dict(
        headers, **{"X-Kerberos-Storage-Filename": filename, "X-Kerberos-Storage-Device": "cam1",
                         "X-Kerberos-Storage-Directory": "cam1"}))


def tus_upload(server, headers, filename, body):
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in {"filename": filename, "directory": "cam1"}.items())
    r = requests.post(server.endpoint + "/api/storage/tus/", timeout=10,
                      headers=dict(headers, **TUS, **{"Upload-Length": str(len(body)), "Upload-Metadata": metadata}))
    if r.status_code != 201:
        return r
    path = "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]
    return requests.patch(server.endpoint + path, data=body, timeout=30, headers=dict(
        headers, **TUS, **{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}))


def assert_locked_for_30_days(s3, key):
    head = s3.head_object(Bucket="locked", Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    days = (head["ObjectLockRetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
    assert 29.9 < days <= 30, head["ObjectLockRetainUntilDate"]
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket="locked", Key=key, VersionId=head["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    return head["VersionId"]


def test_legacy_post_recording_is_locked_and_survives_deletes(server):
    s3 = server.client()
    r = legacy_post(server, AGENT, "1700000000_6-967003_cam1_200-200-400-400_24_769.mp4", b"evidence" * 100)
    assert r.status_code == 200, r.text
    key = r.json()["data"]["key"]
    version = assert_locked_for_30_days(s3, key)
    # Vault's DELETE (no version id) only writes a delete marker above it: the recording stays.
    delete = requests.delete(server.endpoint + "/api/storage", timeout=10,
                             headers=dict(AGENT, **{"X-Kerberos-Storage-Filename": key}))
    assert delete.status_code == 200, delete.text
    assert s3.get_object(Bucket="locked", Key=key, VersionId=version)["Body"].read() == b"evidence" * 100
    assert s3.head_object(Bucket="locked", Key=key, VersionId=version)["ObjectLockMode"] == "COMPLIANCE"


def test_tus_recording_is_locked(server):
    r = tus_upload(server, AGENT, "1700000001_6-967003_cam1_200-200-400-400_24_769.mp4", b"tus-bytes" * 1000)
    assert r.status_code == 204, r.text
    listed = server.client().list_objects_v2(Bucket="locked")["Contents"]
    key = next(o["Key"] for o in listed if "1700000001" in o["Key"])
    assert_locked_for_30_days(server.client(), key)


def test_retention_into_a_bucket_without_object_lock_is_refused_and_nothing_is_stored(server):
    for upload in (legacy_post, tus_upload):
        r = upload(server, PLAIN, "1700000002_6-967003_cam1_200-200-400-400_24_769.mp4", b"x" * 10)
        assert r.status_code == 409, r.text
        assert "Object Lock" in r.json()["data"] and "retention" in r.json()["data"]
    assert "Contents" not in server.client().list_objects_v2(Bucket="plain")
    assert "has vault.retention but its bucket plain has no Object Lock" in server.logs()


def test_config_errors_name_the_field(tmp_path):
    for retention, field in [("{ mode: FOREVER, days: 3 }", "vault.retention.mode"),
                             ("{ mode: COMPLIANCE }", "vault.retention"),
                             ("{ mode: COMPLIANCE, days: 2, years: 1 }", "vault.retention"),
                             ("{ mode: COMPLIANCE, years: 101 }", "vault.retention.years")]:
        config = tmp_path / "bad.yaml"
        config.write_text(f"""accounts:
  - name: agents
    accessKey: LOCKAGENT
    secretKey: "{SECRET}"
    vault: {{ bucket: rec, retention: {retention} }}
""")
        bad = run_depot("config", "check", str(config))
        assert bad.returncode == 1 and f"accounts[0].{field}:" in bad.stderr + bad.stdout, bad.stderr + bad.stdout


def test_admin_api_account_takes_and_shows_the_retention(server):
    admin = Admin(server.endpoint)
    status, created = admin.post("/admin/v1/accounts", {
        "name": "cam-7", "allow": [{"bucket": "locked", "actions": ["write"]}],
        "vault": {"bucket": "locked", "retention": {"mode": "GOVERNANCE", "days": 7}}})
    assert status == 201, created
    assert created["vault"]["retention"] == {"mode": "GOVERNANCE", "days": 7}
    key = created["accessKey"]
    status, updated = admin.patch(f"/admin/v1/accounts/{key}", {"enabled": True})
    assert status == 200 and updated["vault"]["retention"] == {"mode": "GOVERNANCE", "days": 7}, updated
    status, refused = admin.patch(f"/admin/v1/accounts/{key}", {
        "vault": {"bucket": "locked", "retention": {"mode": "FOREVER", "days": 7}}})
    assert status == 400 and refused["field"] == "vault.retention.mode", refused


def retention_days(s3, bucket, key):
    head = s3.head_object(Bucket=bucket, Key=key)
    if "ObjectLockMode" not in head:
        return None
    left = head["ObjectLockRetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
    return head["ObjectLockMode"], round(left.total_seconds() / 86400)


def test_policy_lock_applies_to_matching_versions_only(server):
    s3 = server.client()
    s3.put_object(Bucket="locked", Key="cam2/a.mp4", Body=b"a", Metadata={"case": "open"})
    s3.put_object(Bucket="locked", Key="cam2/b.mp4", Body=b"b")  # metadata does not match
    s3.put_object(Bucket="locked", Key="cam3/c.mp4", Body=b"c", Metadata={"case": "open"})  # key does not
    assert retention_days(s3, "locked", "cam2/a.mp4") == ("COMPLIANCE", 10)
    assert retention_days(s3, "locked", "cam2/b.mp4") is None
    assert retention_days(s3, "locked", "cam3/c.mp4") is None
    version = s3.head_object(Bucket="locked", Key="cam2/a.mp4")["VersionId"]
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket="locked", Key="cam2/a.mp4", VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # The request's own retention wins over the policy's.
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    s3.put_object(Bucket="locked", Key="cam2/d.mp4", Body=b"d", Metadata={"case": "open"},
                  ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    assert retention_days(s3, "locked", "cam2/d.mp4") == ("GOVERNANCE", 2)
    # A copy and a multipart upload commit through the same path.
    s3.copy_object(Bucket="locked", Key="cam2/e.mp4", CopySource={"Bucket": "locked", "Key": "cam3/c.mp4"})
    assert retention_days(s3, "locked", "cam2/e.mp4") == ("COMPLIANCE", 10)
    upload = s3.create_multipart_upload(Bucket="locked", Key="cam2/f.mp4", Metadata={"case": "open"})["UploadId"]
    etag = s3.upload_part(Bucket="locked", Key="cam2/f.mp4", UploadId=upload, PartNumber=1, Body=b"f")["ETag"]
    s3.complete_multipart_upload(Bucket="locked", Key="cam2/f.mp4", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert retention_days(s3, "locked", "cam2/f.mp4") == ("COMPLIANCE", 10)


def test_policy_lock_wins_over_the_bucket_default_and_is_skipped_without_object_lock(server):
    s3 = server.client()
    s3.put_object(Bucket="withdefault", Key="k", Body=b"k")
    assert retention_days(s3, "withdefault", "k") == ("COMPLIANCE", 5)
    s3.put_object(Bucket="plain", Key="k", Body=b"k")  # stored, unlocked: the bucket has no Object Lock
    assert retention_days(s3, "plain", "k") is None
    assert "policy no-lock-here: lock is skipped: bucket plain has no Object Lock" in server.logs()


def test_policy_lock_errors_name_the_field(tmp_path, server):
    config = tmp_path / "bad.yaml"
    config.write_text("""policies:
  - name: p
    match: { bucket: locked }
    lock: { mode: COMPLIANCE, days: 0 }
""")
    bad = run_depot("config", "check", str(config))
    assert bad.returncode == 1 and "policies[0].lock:" in bad.stderr + bad.stdout, bad.stderr + bad.stdout
    admin = Admin(server.endpoint)
    status, made = admin.post("/admin/v1/policies", {
        "name": "api-lock", "match": {"bucket": "locked", "key": "cam4/*"}, "lock": {"mode": "GOVERNANCE", "years": 1}})
    assert status == 201, made
    assert made["lock"] == {"mode": "GOVERNANCE", "years": 1}
    s3 = server.client()
    s3.put_object(Bucket="locked", Key="cam4/x", Body=b"x")  # in effect at once
    assert retention_days(s3, "locked", "cam4/x") == ("GOVERNANCE", 365)
    status, refused = admin.post("/admin/v1/policies", {
        "name": "bad-lock", "match": {"bucket": "locked"}, "lock": {"mode": "SOMETIMES", "days": 3}})
    assert status == 400 and refused["field"] == "lock.mode", refused
