"""The authorization matrix for the CORS operations (issue 17 #4): every account shape of
test_authorization_matrix × PutBucketCors, GetBucketCors and DeleteBucketCors, signed in the
header and (Get, Delete) presigned. They are bucket settings, decided as tagging and versioning
are: reading needs `list` on the bucket, changing needs `write` on all of it (a grant without a
prefix). The answer must be what the grants say, and a refused call must change nothing."""
import pytest

from test_authorization_matrix import (BUCKET, SHAPES, presigned_bucket_call, presigned_setting_read, s3_as, s3_call,
                                       setting_answers_as_the_grants_say, shapes_server)

SEEDED = [{"ID": "seeded", "AllowedOrigins": ["http://player.example.com"], "AllowedMethods": ["GET"]}]
WANTED = [{"ID": "wanted", "AllowedOrigins": ["*"], "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["*"]}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    depot = shapes_server(tmp_path_factory, "authz-cors")
    yield depot
    depot.cleanup()


def rules(server):
    try:
        return server.client().get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    except Exception as error:  # noqa: BLE001 - the one "none" answer is checked below
        assert "NoSuchCORSConfiguration" in str(error), error
        return None


def put_cors(server, shape):
    return s3_call(lambda: s3_as(server, shape).put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": WANTED}))


def get_cors(server, shape):
    return s3_call(lambda: s3_as(server, shape).get_bucket_cors(Bucket=BUCKET)["CORSRules"])


def delete_cors(server, shape):
    return s3_call(lambda: s3_as(server, shape).delete_bucket_cors(Bucket=BUCKET))


def presigned_get(server, shape):
    return presigned_setting_read(server, shape, "get_bucket_cors", SEEDED, "<ID>seeded</ID>")


def presigned_delete(server, shape):
    return presigned_bucket_call(server, shape, "delete_bucket_cors", "DELETE")


# name: (action needed on the bucket, run, the configuration afterwards when allowed)
OPERATIONS = {
    "put": ("write", put_cors, WANTED),
    "get": ("list", get_cors, SEEDED),
    "delete": ("write", delete_cors, None),
    "presigned-get": ("list", presigned_get, SEEDED),
    "presigned-delete": ("write", presigned_delete, None),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_cors_operations_answer_as_the_grants_say(server, shape, operation):
    setting_answers_as_the_grants_say(
        server, shape, operation, OPERATIONS, SEEDED, current=lambda: rules(server),
        seed=lambda: server.client().put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": SEEDED}))
