"""The authorization matrix for the operations versioning and Object Lock added (issue 16): every
account shape of test_authorization_matrix × GET/HEAD/DELETE of a version, ListObjectVersions,
Put/GetObjectRetention and Put/GetObjectLegalHold, in a bucket with Object Lock. The answer must be
what the grants say about the key, and a refused operation must change nothing."""
import pytest
from botocore.exceptions import ClientError

from conftest import DepotServer
from test_authorization_matrix import AREAS, BUCKET, ORIGINAL, SHAPES, s3_as, s3_call

RETAIN = "2099-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("authz-versions")
    config = tmp / "depot.yaml"
    config.write_text("accounts:\n" + "".join(s.yaml() for s in SHAPES))
    depot = DepotServer(config=str(config)).start()
    depot.client().create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    yield depot
    depot.cleanup()


def seed(server, key):
    return server.client().put_object(Bucket=BUCKET, Key=key, Body=ORIGINAL)["VersionId"]


def get_version(server, shape, key, version):
    return s3_call(lambda: s3_as(server, shape).get_object(Bucket=BUCKET, Key=key, VersionId=version)["Body"].read())


def head_version(server, shape, key, version):
    return s3_call(lambda: s3_as(server, shape).head_object(Bucket=BUCKET, Key=key, VersionId=version))


def delete_version(server, shape, key, version):
    return s3_call(lambda: s3_as(server, shape).delete_object(Bucket=BUCKET, Key=key, VersionId=version))


def list_versions(server, shape, key, version):
    return s3_call(lambda: s3_as(server, shape).list_object_versions(Bucket=BUCKET, Prefix=key))


def put_retention(server, shape, key, version):
    return s3_call(lambda: s3_as(server, shape).put_object_retention(
        Bucket=BUCKET, Key=key, VersionId=version, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": RETAIN}))


def unset_lock_answer(call):
    """A read of a lock the version does not have: AWS's 404 means the read was allowed."""
    def run():
        try:
            return call()
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchObjectLockConfiguration":
                return None
            raise
    return s3_call(run)


def get_retention(server, shape, key, version):
    return unset_lock_answer(
        lambda: s3_as(server, shape).get_object_retention(Bucket=BUCKET, Key=key, VersionId=version))


def put_legal_hold(server, shape, key, version):
    return s3_call(lambda: s3_as(server, shape).put_object_legal_hold(
        Bucket=BUCKET, Key=key, VersionId=version, LegalHold={"Status": "ON"}))


def get_legal_hold(server, shape, key, version):
    return unset_lock_answer(
        lambda: s3_as(server, shape).get_object_legal_hold(Bucket=BUCKET, Key=key, VersionId=version))


def lock_of(server, key, version):
    head = server.client().head_object(Bucket=BUCKET, Key=key, VersionId=version)
    return head.get("ObjectLockMode"), head.get("ObjectLockLegalHoldStatus")


# name: (action needed on the key, run, expected lock afterwards when allowed)
OPERATIONS = {
    "get-version": ("read", get_version, (None, None)),
    "head-version": ("read", head_version, (None, None)),
    "delete-version": ("delete", delete_version, None),
    "list-versions": ("list", list_versions, (None, None)),
    "put-retention": ("write", put_retention, ("GOVERNANCE", None)),
    "get-retention": ("read", get_retention, (None, None)),
    "put-legal-hold": ("write", put_legal_hold, (None, "ON")),
    "get-legal-hold": ("read", get_legal_hold, (None, None)),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_version_and_lock_operations_answer_as_the_grants_say(server, shape, operation):
    action, run, lock_after = OPERATIONS[operation]
    for area in AREAS:
        key = f"{area}/{operation}-{shape.name}.mp4"
        version = seed(server, key)
        expected = shape.allows(action, key)
        allowed, _ = run(server, shape, key, version)
        assert allowed == expected, f"{shape.name} {operation} {key}: allowed={allowed}, grants say {expected}"
        versions = [v["VersionId"] for v in server.client().list_object_versions(Bucket=BUCKET, Prefix=key)
                    .get("Versions", [])]
        if allowed and lock_after is None:
            assert versions == []
            continue
        assert versions == [version]
        assert server.client().get_object(Bucket=BUCKET, Key=key, VersionId=version)["Body"].read() == ORIGINAL
        assert lock_of(server, key, version) == (lock_after if allowed else (None, None))
