"""S3 Object Lock (issue 16 #2) against the real server with boto3 and the minio client: the
bucket configuration, per-object retention and legal holds, and that a locked version cannot
be deleted by anyone."""
import os
import shutil
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import DepotServer, run_depot


@pytest.fixture(scope="module")
def server():
    s = DepotServer().start()
    yield s
    s.cleanup()


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
