"""The authorization matrix for the bucket encryption operations (issue 17 #5): every account
shape of test_authorization_matrix × PutBucketEncryption, GetBucketEncryption and
DeleteBucketEncryption, signed in the header and (Get, Delete) presigned. They are bucket
settings, decided as CORS and versioning are: reading needs `list` on the bucket, changing needs
`write` on all of it (a grant without a prefix). The answer must be what the grants say, and a
refused call must change nothing. Also: an encrypted PUT is an ordinary PutObject for access."""
import os

import pytest

from conftest import DepotServer
from test_authorization_matrix import (BUCKET, SHAPES, presigned_bucket_call, presigned_setting_read, s3_as, s3_call,
                                       setting_answers_as_the_grants_say)

SEEDED = {"SSEAlgorithm": "AES256"}
WANTED = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k2"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("authz-sse")
    for name in ("k1", "k2"):
        (tmp / f"{name}.key").write_bytes(os.urandom(32))
    config = tmp / "depot.yaml"
    config.write_text(f"buckets: [{BUCKET}]\naccounts:\n" + "".join(s.yaml() for s in SHAPES) + f"""encryption:
  keys: [{{ id: k1, file: {tmp / 'k1.key'} }}, {{ id: k2, file: {tmp / 'k2.key'} }}]
  default: k1
""")
    depot = DepotServer(config=str(config)).start()
    yield depot
    depot.cleanup()


def rule(server):
    try:
        rules = server.client().get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
        return rules[0]["ApplyServerSideEncryptionByDefault"]
    except Exception as error:  # noqa: BLE001 - the one "none" answer is checked below
        assert "ServerSideEncryptionConfigurationNotFoundError" in str(error), error
        return None


def seed(server):
    server.client().put_bucket_encryption(
        Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": SEEDED}]})


def put_encryption(server, shape):
    return s3_call(lambda: s3_as(server, shape).put_bucket_encryption(
        Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": WANTED}]}))


def get_encryption(server, shape):
    allowed, result = s3_call(lambda: s3_as(server, shape).get_bucket_encryption(Bucket=BUCKET))
    if allowed:
        result = result["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    return allowed, result


def delete_encryption(server, shape):
    return s3_call(lambda: s3_as(server, shape).delete_bucket_encryption(Bucket=BUCKET))


def presigned_get(server, shape):
    return presigned_setting_read(server, shape, "get_bucket_encryption", SEEDED, "<SSEAlgorithm>AES256</SSEAlgorithm>")


def presigned_delete(server, shape):
    return presigned_bucket_call(server, shape, "delete_bucket_encryption", "DELETE")


# name: (action needed on the bucket, run, the configuration afterwards when allowed)
OPERATIONS = {
    "put": ("write", put_encryption, WANTED),
    "get": ("list", get_encryption, SEEDED),
    "delete": ("write", delete_encryption, None),
    "presigned-get": ("list", presigned_get, SEEDED),
    "presigned-delete": ("write", presigned_delete, None),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_encryption_operations_answer_as_the_grants_say(server, shape, operation):
    setting_answers_as_the_grants_say(
        server, shape, operation, OPERATIONS, SEEDED, seed=lambda: seed(server), current=lambda: rule(server))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_an_encrypted_put_needs_write_on_the_key_like_any_put(server, shape):
    key = f"camera-1/sse-{shape.name}"
    allowed, _ = s3_call(lambda: s3_as(server, shape).put_object(
        Bucket=BUCKET, Key=key, Body=b"footage", ServerSideEncryption="aws:kms", SSEKMSKeyId="k2"))
    assert allowed == shape.allows("write", key)
    objects = server.client().list_objects_v2(Bucket=BUCKET, Prefix=key).get("Contents", [])
    assert [o["Key"] for o in objects] == ([key] if allowed else [])
