"""The authorization matrix for the lifecycle operations (issue 18 #1): every account shape of
test_authorization_matrix × PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration and
DeleteBucketLifecycle, signed in the header and (Get, Delete) presigned. They are bucket settings,
decided as CORS is: reading needs `list` on the bucket, changing needs `write` on all of it (a grant
without a prefix). The answer must be what the grants say, and a refused call must change nothing."""
import pytest

from test_authorization_matrix import (BUCKET, SHAPES, presigned_bucket_call, presigned_setting_read, s3_as, s3_call,
                                       setting_answers_as_the_grants_say, shapes_server)

SEEDED = [{"ID": "seeded", "Filter": {"Prefix": "old/"}, "Status": "Enabled", "Expiration": {"Days": 30}}]
WANTED = [{"ID": "wanted", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    depot = shapes_server(tmp_path_factory, "authz-lifecycle")
    yield depot
    depot.cleanup()


def rules(server):
    try:
        return server.client().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    except Exception as error:  # noqa: BLE001 - the one "none" answer is checked below
        assert "NoSuchLifecycleConfiguration" in str(error), error
        return None


def put_lifecycle(server, shape):
    return s3_call(lambda: s3_as(server, shape).put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": WANTED}))


def get_lifecycle(server, shape):
    return s3_call(lambda: s3_as(server, shape).get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"])


def delete_lifecycle(server, shape):
    return s3_call(lambda: s3_as(server, shape).delete_bucket_lifecycle(Bucket=BUCKET))


def presigned_get(server, shape):
    return presigned_setting_read(server, shape, "get_bucket_lifecycle_configuration", SEEDED, "<ID>seeded</ID>")


def presigned_delete(server, shape):
    return presigned_bucket_call(server, shape, "delete_bucket_lifecycle", "DELETE")


# name: (action needed on the bucket, run, the configuration afterwards when allowed)
OPERATIONS = {
    "put": ("write", put_lifecycle, WANTED),
    "get": ("list", get_lifecycle, SEEDED),
    "delete": ("write", delete_lifecycle, None),
    "presigned-get": ("list", presigned_get, SEEDED),
    "presigned-delete": ("write", presigned_delete, None),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_lifecycle_operations_answer_as_the_grants_say(server, shape, operation):
    setting_answers_as_the_grants_say(
        server, shape, operation, OPERATIONS, SEEDED, current=lambda: rules(server),
        seed=lambda: server.client().put_bucket_lifecycle_configuration(
            Bucket=BUCKET, LifecycleConfiguration={"Rules": SEEDED}))
