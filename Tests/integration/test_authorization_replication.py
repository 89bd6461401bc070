"""The authorization matrix for the replication operations (issue 18 #4): every account shape of
test_authorization_matrix × PutBucketReplication, GetBucketReplication and DeleteBucketReplication,
signed in the header and (Get, Delete) presigned. They are bucket settings, decided as lifecycle
is: reading needs `list` on the bucket, changing needs `write` on all of it (a grant without a
prefix). The answer must be what the grants say, and a refused call must change nothing: neither
the stored configuration nor the policies in effect."""
import pytest

from admin_client import Admin
from test_authorization_matrix import (BUCKET, SHAPES, presigned_bucket_call, presigned_setting_read, s3_as, s3_call,
                                       setting_answers_as_the_grants_say, shapes_server)


def rules(rule_id, prefix):
    return {"Role": "arn:aws:iam::123456789012:role/ignored", "Rules": [{
        "ID": rule_id, "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": prefix},
        "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::nas"}}]}


SEEDED = rules("seeded", "old/")
WANTED = rules("wanted", "new/")


def nas_tier(tmp):
    (tmp / "nas").mkdir()
    return f"tiers:\n  - {{ name: nas, type: filesystem, path: \"{tmp / 'nas'}\" }}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    depot = shapes_server(tmp_path_factory, "authz-replication", extra=nas_tier)
    depot.client().put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield depot
    depot.cleanup()


def configuration(server):
    try:
        return server.client().get_bucket_replication(Bucket=BUCKET)["ReplicationConfiguration"]
    except Exception as error:  # noqa: BLE001 - the one "none" answer is checked below
        assert "ReplicationConfigurationNotFoundError" in str(error), error
        return None


def replication_policies(server):
    status, body = Admin(server.endpoint).get("/admin/v1/policies")
    assert status == 200, body
    return sorted(p["name"] for p in body["policies"] if p["name"].startswith("s3-replication:"))


def put_replication(server, shape):
    return s3_call(lambda: s3_as(server, shape).put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration=WANTED))


def get_replication(server, shape):
    return s3_call(lambda: s3_as(server, shape).get_bucket_replication(Bucket=BUCKET)["ReplicationConfiguration"])


def delete_replication(server, shape):
    return s3_call(lambda: s3_as(server, shape).delete_bucket_replication(Bucket=BUCKET))


def presigned_get(server, shape):
    return presigned_setting_read(server, shape, "get_bucket_replication", SEEDED, "<ID>seeded</ID>")


def presigned_delete(server, shape):
    return presigned_bucket_call(server, shape, "delete_bucket_replication", "DELETE")


# name: (action needed on the bucket, run, the configuration afterwards when allowed)
OPERATIONS = {
    "put": ("write", put_replication, WANTED),
    "get": ("list", get_replication, SEEDED),
    "delete": ("write", delete_replication, None),
    "presigned-get": ("list", presigned_get, SEEDED),
    "presigned-delete": ("write", presigned_delete, None),
}


def policies_of(document):
    return [] if document is None else [f"s3-replication:{BUCKET}:{rule['ID']}" for rule in document["Rules"]]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_replication_operations_answer_as_the_grants_say(server, shape, operation):
    left = setting_answers_as_the_grants_say(
        server, shape, operation, OPERATIONS, SEEDED, current=lambda: configuration(server),
        seed=lambda: server.client().put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration=SEEDED))
    assert replication_policies(server) == policies_of(left)
