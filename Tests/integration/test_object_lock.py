"""S3 Object Lock (issue 16 #2) against the real server with boto3 and the minio client: the
bucket configuration, per-object retention and legal holds, and that a locked version cannot
be deleted by anyone."""
import datetime
import io
import os
import shutil
import tempfile
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import DepotServer, run_depot

OPERATOR = ("LOCKOPERATOR", "operator-secret-123")
SUPERVISOR = ("LOCKSUPERVISOR", "supervisor-secret-123")


@pytest.fixture(scope="module")
def server():
    # An operator may read, write and delete; only the supervisor holds `admin`, Depot's
    # permission to bypass a GOVERNANCE retention.
    config = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    config.write(f"""accounts:
  - name: operator
    accessKey: {OPERATOR[0]}
    secretKey: {OPERATOR[1]}
    allow: [{{ bucket: "*", actions: [read, write, delete, list] }}]
  - name: supervisor
    accessKey: {SUPERVISOR[0]}
    secretKey: {SUPERVISOR[1]}
    allow: [{{ bucket: "*", actions: [read, write, delete, list, admin] }}]
""")
    config.close()
    s = DepotServer(config=config.name).start()
    yield s
    s.cleanup()
    os.unlink(config.name)


def client(server, credentials):
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}))


def later(**delta):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(**delta)).replace(microsecond=0)


@pytest.fixture
def s3(server):
    return server.client()


def new_bucket(s3, lock=True):
    name = "lock-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    return name


def error(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def lock_config(mode=None, **period):
    config = {"ObjectLockEnabled": "Enabled"}
    if mode:
        config["Rule"] = {"DefaultRetention": {"Mode": mode, **period}}
    return config


def test_bucket_created_with_object_lock_is_versioned_for_good(s3):
    b = new_bucket(s3)
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    assert error(lambda: s3.put_bucket_versioning(
        Bucket=b, VersioningConfiguration={"Status": "Suspended"})) == ("InvalidBucketState", 409)
    # Enabling again is harmless.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})


def test_default_retention_round_trip(s3):
    b = new_bucket(s3)
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=lock_config("GOVERNANCE", Days=3))
    got = s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"]
    assert got == lock_config("GOVERNANCE", Days=3)
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=lock_config("COMPLIANCE", Years=1))
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == lock_config("COMPLIANCE", Years=1)
    # A configuration without a rule removes the default.
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=lock_config())
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == lock_config()


@pytest.mark.parametrize("body,code", [
    ("<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>", "MalformedXML"),
    ("<Other><ObjectLockEnabled>Enabled</ObjectLockEnabled></Other>", "MalformedXML"),
    ("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
     "<Mode>FOREVER</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>", "MalformedXML"),
    ("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
     "<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>",
     "MalformedXML"),
    ("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
     "<Mode>GOVERNANCE</Mode></DefaultRetention></Rule></ObjectLockConfiguration>", "MalformedXML"),
    ("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule></Rule></ObjectLockConfiguration>",
     "MalformedXML"),
    ("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
     "<Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule></ObjectLockConfiguration>", "InvalidArgument"),
    ("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
     "<Mode>COMPLIANCE</Mode><Years>-2</Years></DefaultRetention></Rule></ObjectLockConfiguration>", "InvalidArgument"),
])
def test_bad_configurations_get_aws_error_codes(server, s3, body, code):
    b = new_bucket(s3)

    def send(request, **kwargs):
        request.data = body.encode()
        for name in [h for h in request.headers.keys() if "md5" in h.lower() or "checksum" in h.lower()]:
            del request.headers[name]
    s3.meta.events.register_first("before-sign.s3.PutObjectLockConfiguration", send)
    try:
        assert error(lambda: s3.put_object_lock_configuration(
            Bucket=b, ObjectLockConfiguration=lock_config()))[0] == code
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObjectLockConfiguration", send)
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == lock_config()


def test_bucket_without_lock(s3):
    b = new_bucket(s3, lock=False)
    assert error(lambda: s3.get_object_lock_configuration(Bucket=b)) == ("ObjectLockConfigurationNotFoundError", 404)
    # Unversioned: refused, as AWS refuses it.
    assert error(lambda: s3.put_object_lock_configuration(
        Bucket=b, ObjectLockConfiguration=lock_config())) == ("InvalidBucketState", 409)
    # Versioning Enabled: AWS lets an existing bucket get Object Lock, for good.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=lock_config("GOVERNANCE", Days=1))
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == lock_config("GOVERNANCE", Days=1)
    assert error(lambda: s3.put_bucket_versioning(
        Bucket=b, VersioningConfiguration={"Status": "Suspended"}))[0] == "InvalidBucketState"


def test_lock_configuration_survives_rebuild_index():
    server = DepotServer().start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="evidence", ObjectLockEnabledForBucket=True)
        s3.put_object_lock_configuration(Bucket="evidence", ObjectLockConfiguration=lock_config("COMPLIANCE", Days=30))
        server.stop()
        before = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        assert "objectLock=2:30d:0y" in before
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert run_depot("index", "dump", "--data", server.data_dir, check=True).stdout == before
        server.start()
        s3 = server.client()
        assert s3.get_object_lock_configuration(Bucket="evidence")["ObjectLockConfiguration"] == lock_config(
            "COMPLIANCE", Days=30)
    finally:
        server.cleanup()


def test_put_with_retention_and_legal_hold_is_shown_and_refuses_deletion(s3):
    b = new_bucket(s3)
    until = later(days=1)
    v = s3.put_object(Bucket=b, Key="clip", Body=b"evidence", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    head = s3.head_object(Bucket=b, Key="clip")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] == until
    got = s3.get_object(Bucket=b, Key="clip", VersionId=v)
    assert got["ObjectLockMode"] == "COMPLIANCE" and got["Body"].read() == b"evidence"
    assert s3.get_object_retention(Bucket=b, Key="clip")["Retention"] == {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    # Root cannot delete it, nor with the bypass: COMPLIANCE is for everyone.
    assert error(lambda: s3.delete_object(Bucket=b, Key="clip", VersionId=v)) == ("AccessDenied", 403)
    assert error(lambda: s3.delete_object(Bucket=b, Key="clip", VersionId=v, BypassGovernanceRetention=True)) == (
        "AccessDenied", 403)
    failed = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "clip", "VersionId": v}]})
    assert failed["Errors"][0]["Code"] == "AccessDenied"
    # Nor shorten, remove, or weaken it.
    for retention in [{"Mode": "COMPLIANCE", "RetainUntilDate": later(hours=1)}, {},
                      {"Mode": "GOVERNANCE", "RetainUntilDate": later(days=2)}]:
        assert error(lambda: s3.put_object_retention(
            Bucket=b, Key="clip", VersionId=v, Retention=retention, BypassGovernanceRetention=True)) == (
            "AccessDenied", 403)
    # Extending is always allowed.
    s3.put_object_retention(Bucket=b, Key="clip", VersionId=v,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(days=3)})
    assert s3.get_object_retention(Bucket=b, Key="clip")["Retention"]["RetainUntilDate"] > until
    # A DELETE without versionId still writes a delete marker; the version stays.
    marker = s3.delete_object(Bucket=b, Key="clip")
    assert marker["DeleteMarker"] is True
    assert s3.get_object(Bucket=b, Key="clip", VersionId=v)["Body"].read() == b"evidence"
    # An overwrite is a new version; the locked one stays.
    s3.put_object(Bucket=b, Key="clip", Body=b"newer")
    assert s3.get_object(Bucket=b, Key="clip", VersionId=v)["Body"].read() == b"evidence"


def test_legal_hold_on_and_off(s3):
    b = new_bucket(s3)
    v = s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.head_object(Bucket=b, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    assert s3.get_object_legal_hold(Bucket=b, Key="k")["LegalHold"] == {"Status": "ON"}
    assert error(lambda: s3.delete_object(Bucket=b, Key="k", VersionId=v, BypassGovernanceRetention=True)) == (
        "AccessDenied", 403)
    s3.put_object_legal_hold(Bucket=b, Key="k", VersionId=v, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=b, Key="k")["LegalHold"] == {"Status": "OFF"}
    assert "ObjectLockLegalHoldStatus" not in s3.head_object(Bucket=b, Key="k")
    s3.delete_object(Bucket=b, Key="k", VersionId=v)
    assert error(lambda: s3.head_object(Bucket=b, Key="k", VersionId=v))[1] == 404
    w = s3.put_object(Bucket=b, Key="k2", Body=b"x")["VersionId"]
    s3.put_object_legal_hold(Bucket=b, Key="k2", LegalHold={"Status": "ON"})
    assert error(lambda: s3.delete_object(Bucket=b, Key="k2", VersionId=w))[0] == "AccessDenied"
    assert error(lambda: s3.put_object_legal_hold(Bucket=b, Key="k2", LegalHold={"Status": "MAYBE"}))[0] in (
        "MalformedXML",)


def test_governance_bypass_needs_the_header_and_the_permission(server, s3):
    b = new_bucket(s3)
    operator, supervisor = client(server, OPERATOR), client(server, SUPERVISOR)
    v = operator.put_object(Bucket=b, Key="g", Body=b"x", ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=later(days=1))["VersionId"]
    assert error(lambda: operator.delete_object(Bucket=b, Key="g", VersionId=v)) == ("AccessDenied", 403)
    # The header without the permission changes nothing.
    assert error(lambda: operator.delete_object(Bucket=b, Key="g", VersionId=v, BypassGovernanceRetention=True)) == (
        "AccessDenied", 403)
    assert error(lambda: operator.put_object_retention(Bucket=b, Key="g", VersionId=v, Retention={},
                                                       BypassGovernanceRetention=True))[0] == "AccessDenied"
    # The permission without the header neither.
    assert error(lambda: supervisor.delete_object(Bucket=b, Key="g", VersionId=v))[0] == "AccessDenied"
    assert error(lambda: supervisor.put_object_retention(
        Bucket=b, Key="g", VersionId=v, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later(hours=1)}))[0] == (
        "AccessDenied")
    # Both: shortened, then deleted.
    supervisor.put_object_retention(Bucket=b, Key="g", VersionId=v, BypassGovernanceRetention=True,
                                    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later(hours=1)})
    supervisor.delete_object(Bucket=b, Key="g", VersionId=v, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=b)
    # Root holds every permission, so root may bypass GOVERNANCE.
    w = s3.put_object(Bucket=b, Key="g", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=later(days=1))["VersionId"]
    s3.put_object_retention(Bucket=b, Key="g", VersionId=w, Retention={}, BypassGovernanceRetention=True)
    assert error(lambda: s3.get_object_retention(Bucket=b, Key="g"))[0] == "NoSuchObjectLockConfiguration"
    operator.delete_object(Bucket=b, Key="g", VersionId=w)
    # DeleteObjects takes the bypass header too, with the same permission.
    x = operator.put_object(Bucket=b, Key="batch", Body=b"x", ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=later(days=1))["VersionId"]
    entry = {"Objects": [{"Key": "batch", "VersionId": x}]}
    refused = operator.delete_objects(Bucket=b, Delete=entry, BypassGovernanceRetention=True)
    assert refused["Errors"][0]["Code"] == "AccessDenied"
    done = supervisor.delete_objects(Bucket=b, Delete=entry, BypassGovernanceRetention=True)
    assert done["Deleted"][0]["VersionId"] == x and "Errors" not in done


def test_default_retention_applies_to_put_copy_and_multipart(s3):
    b = new_bucket(s3)
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=lock_config("GOVERNANCE", Days=2))
    s3.put_object(Bucket=b, Key="put", Body=b"x")
    s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "put"})
    upload = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=b, Key="mp", UploadId=upload, PartNumber=1, Body=b"y" * 100)
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    for key in ["put", "copy", "mp"]:
        head = s3.head_object(Bucket=b, Key=key)
        assert head["ObjectLockMode"] == "GOVERNANCE", key
        left = head["ObjectLockRetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
        assert datetime.timedelta(days=1, hours=23) < left <= datetime.timedelta(days=2), (key, left)
    # Headers win over the default, on multipart too.
    until = later(days=10)
    upload = s3.create_multipart_upload(Bucket=b, Key="mp2", ObjectLockMode="COMPLIANCE",
                                        ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")["UploadId"]
    part = s3.upload_part(Bucket=b, Key="mp2", UploadId=upload, PartNumber=1, Body=b"z")
    s3.complete_multipart_upload(Bucket=b, Key="mp2", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    head = s3.head_object(Bucket=b, Key="mp2")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"], head["ObjectLockLegalHoldStatus"]) == (
        "COMPLIANCE", until, "ON")
    # A copy takes its own headers, never the source's lock.
    s3.copy_object(Bucket=b, Key="copy2", CopySource={"Bucket": b, "Key": "mp2"}, ObjectLockLegalHoldStatus="ON")
    head = s3.head_object(Bucket=b, Key="copy2")
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockLegalHoldStatus"] == "ON"


def test_lock_headers_are_validated(s3):
    b = new_bucket(s3)
    assert error(lambda: s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE")) == (
        "InvalidArgument", 400)
    assert error(lambda: s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockRetainUntilDate=later(days=1))) == (
        "InvalidArgument", 400)
    assert error(lambda: s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                                       ObjectLockRetainUntilDate=later(days=-1))) == ("InvalidArgument", 400)
    assert error(lambda: s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="FOREVER",
                                       ObjectLockRetainUntilDate=later(days=1))) == ("InvalidArgument", 400)
    assert "Versions" not in s3.list_object_versions(Bucket=b)
    # A bucket without Object Lock refuses them (and the retention calls).
    plain = new_bucket(s3, lock=False)
    assert error(lambda: s3.put_object(Bucket=plain, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")) == (
        "InvalidRequest", 400)
    assert error(lambda: s3.create_multipart_upload(Bucket=plain, Key="k", ObjectLockMode="GOVERNANCE",
                                                    ObjectLockRetainUntilDate=later(days=1)))[0] == "InvalidRequest"
    s3.put_object(Bucket=plain, Key="k", Body=b"x")
    assert error(lambda: s3.get_object_retention(Bucket=plain, Key="k")) == ("InvalidRequest", 400)
    assert error(lambda: s3.put_object_legal_hold(Bucket=plain, Key="k", LegalHold={"Status": "ON"}))[0] == (
        "InvalidRequest")
    s3.delete_object(Bucket=plain, Key="k")


def test_minio_client_sets_and_reads_retention(server, s3):
    from minio import Minio
    from minio.commonconfig import COMPLIANCE, GOVERNANCE
    from minio.retention import Retention

    from conftest import ROOT_PASSWORD, ROOT_USER
    b = new_bucket(s3)
    mc = Minio(server.endpoint.split("//")[1], access_key=ROOT_USER, secret_key=ROOT_PASSWORD, secure=False)
    until = later(days=1)
    written = mc.put_object(b, "m", io.BytesIO(b"abc"), 3, retention=Retention(GOVERNANCE, until), legal_hold=True)
    got = mc.get_object_retention(b, "m", version_id=written.version_id)
    assert got.mode == GOVERNANCE and got.retain_until_date == until
    assert mc.is_object_legal_hold_enabled(b, "m")
    mc.disable_object_legal_hold(b, "m")
    assert not mc.is_object_legal_hold_enabled(b, "m")
    # Extending needs no bypass; turning GOVERNANCE into COMPLIANCE is a change of mode that does.
    longer = later(days=2)
    mc.set_object_retention(b, "m", Retention(GOVERNANCE, longer))
    assert mc.get_object_retention(b, "m").retain_until_date == longer
    with pytest.raises(Exception, match="AccessDenied"):
        mc.set_object_retention(b, "m", Retention(COMPLIANCE, later(days=3)))


def test_locks_survive_rebuild_index():
    """Retentions and legal holds are in the log records, so a rebuilt index keeps them."""
    server = DepotServer().start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="evidence", ObjectLockEnabledForBucket=True)
        s3.put_object(Bucket="evidence", Key="clip", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=later(days=1))
        h = s3.put_object(Bucket="evidence", Key="held", Body=b"y")["VersionId"]
        s3.put_object_legal_hold(Bucket="evidence", Key="held", LegalHold={"Status": "ON"})
        server.stop()
        before = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        assert "lock=2:" in before and "lock=0:0:true" in before, before
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert run_depot("index", "dump", "--data", server.data_dir, check=True).stdout == before
        server.start()
        s3 = server.client()
        assert error(lambda: s3.delete_object(Bucket="evidence", Key="held", VersionId=h))[0] == "AccessDenied"
        assert s3.head_object(Bucket="evidence", Key="clip")["ObjectLockMode"] == "COMPLIANCE"
    finally:
        server.cleanup()


def test_expiry_policy_and_a_clock_jump_leave_locked_versions(tmp_path):
    """A policy's expiry, on a retention clock two days ahead, expires the unlocked object but
    not a version under a one-day retention or a legal hold: locks are judged on Depot's own
    lock clock, never on the policy's."""
    import time
    config = tmp_path / "depot.yaml"
    config.write_text("""
storage: { lifecycleInterval: 1s }
policies:
  - { name: short, match: { bucket: evidence }, expire: { after: 1d } }
""")
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(2 * 86400)}).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="evidence", ObjectLockEnabledForBucket=True)
        s3.put_object(Bucket="evidence", Key="retained", Body=b"r", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=later(days=1))
        s3.put_object(Bucket="evidence", Key="held", Body=b"h", ObjectLockLegalHoldStatus="ON")
        s3.put_object(Bucket="evidence", Key="plain", Body=b"p")
        deadline = time.time() + 30
        while time.time() < deadline:
            listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="evidence").get("Contents", []))
            if "plain" not in listed:
                break
            time.sleep(0.3)
        assert listed == ["held", "retained"]
        time.sleep(2)  # a few more passes
        assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="evidence").get("Contents", [])) == ["held", "retained"]
        assert "keeping evidence/retained past its age" in server.logs()
        # The dry run says which matches its expiry keeps, and why.
        from admin_client import Admin
        status, dry = Admin(server.endpoint).post("/admin/v1/policies/short/dry-run")
        assert status == 200, dry
        dry = dry.get("data", dry)
        assert dry["keptByObjectLock"] == 2, dry
        kept = {o["key"]: o["keptByObjectLock"] for o in dry["objects"]}
        assert "legal hold" in kept["held"] and "GOVERNANCE" in kept["retained"], dry
        cli = run_depot("policy", "dry-run", "short", env={"DEPOT_ENDPOINT": server.endpoint})
        assert "2 kept by Object Lock" in cli.stdout, cli.stdout + cli.stderr
    finally:
        server.cleanup()


def test_a_null_version_from_before_object_lock_can_be_held(s3):
    """An object from before versioning (the null version) in a bucket that later got Object Lock."""
    b = new_bucket(s3, lock=False)
    s3.put_object(Bucket=b, Key="k", Body=b"old")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=lock_config())
    s3.put_object_legal_hold(Bucket=b, Key="k", LegalHold={"Status": "ON"})
    assert s3.head_object(Bucket=b, Key="k", VersionId="null")["ObjectLockLegalHoldStatus"] == "ON"
    assert error(lambda: s3.delete_object(Bucket=b, Key="k", VersionId="null")) == ("AccessDenied", 403)
    s3.put_object_legal_hold(Bucket=b, Key="k", VersionId="null", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=b, Key="k", VersionId="null")
    assert "Versions" not in s3.list_object_versions(Bucket=b)


def test_vault_delete_of_a_locked_recording_leaves_it(tmp_path):
    """The Vault DELETE is a DELETE without a version id: in a locked bucket it writes a delete
    marker, as S3 does, and the locked version stays readable and undeletable."""
    import requests
    from vault_agent_server import start_with_agent
    server = start_with_agent(tmp_path, bucket="recordings", secret="s3cr3t-key")
    try:
        s3 = server.client()
        s3.put_bucket_versioning(Bucket="recordings", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object_lock_configuration(Bucket="recordings",
                                         ObjectLockConfiguration=lock_config("COMPLIANCE", Days=1))
        version = s3.put_object(Bucket="recordings", Key="cam/clip.mp4", Body=b"evidence")["VersionId"]
        headers = {"X-Kerberos-Storage-Accesskey": "AGENTKEY", "X-Kerberos-Storage-Secretaccesskey": "s3cr3t-key",
                   "X-Kerberos-Storage-Filename": "cam/clip.mp4"}
        assert requests.delete(server.endpoint + "/api/storage", headers=headers, timeout=10).status_code == 200
        assert s3.get_object(Bucket="recordings", Key="cam/clip.mp4", VersionId=version)["Body"].read() == b"evidence"
        assert error(lambda: s3.delete_object(Bucket="recordings", Key="cam/clip.mp4", VersionId=version)) == (
            "AccessDenied", 403)
    finally:
        server.cleanup()
