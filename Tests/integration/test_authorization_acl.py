"""The authorization matrix for ACLs and Object Ownership (issue 17 #3): every account shape of
test_authorization_matrix × PutBucketAcl, GetBucketAcl, PutObjectAcl, GetObjectAcl, a PutObject
with a canned ACL, and Get/Put/DeleteBucketOwnershipControls. Bucket ACLs are bucket settings
(reading needs `list` on the bucket, changing `write` on all of it); object ACLs need `read` or
`write` on the key; ownership controls decide whether ACLs can open the bucket at all, so
changing them needs read, write, delete and list on the whole bucket, as a bucket policy does.
The answer must be what the grants say, and a refused call must change nothing."""
import pytest

from test_authorization_matrix import AREAS, BUCKET, NEW, ORIGINAL, SHAPES, bucket_allows, s3_as, s3_call, shapes_server

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
WRITER = {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
PREFERRED = {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    depot = shapes_server(tmp_path_factory, "authz-acl")
    yield depot
    depot.cleanup()


def full_control(shape):
    return all(bucket_allows(shape, action) for action in ("read", "write", "delete", "list"))


def is_public(grants):
    return any(g["Grantee"].get("URI") == ALL_USERS for g in grants)


def ownership(server):
    try:
        return server.client().get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"][0][
            "ObjectOwnership"]
    except Exception as error:  # noqa: BLE001 - the one "none" answer is checked here
        assert "OwnershipControlsNotFoundError" in str(error), error
        return None


def reset(server):
    root = server.client()
    root.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=WRITER)
    root.put_bucket_acl(Bucket=BUCKET, ACL="private")


# --- Bucket-level operations: (who may, run, check afterwards as root) -------------------------

def put_bucket_acl(server, shape):
    return s3_call(lambda: s3_as(server, shape).put_bucket_acl(Bucket=BUCKET, ACL="public-read"))


def after_put_bucket_acl(server, allowed, _):
    assert is_public(server.client().get_bucket_acl(Bucket=BUCKET)["Grants"]) == allowed


def get_bucket_acl(server, shape):
    return s3_call(lambda: s3_as(server, shape).get_bucket_acl(Bucket=BUCKET)["Grants"])


def after_get(server, allowed, answer):
    assert (answer is not None) == allowed
    assert ownership(server) == "ObjectWriter"
    assert not is_public(server.client().get_bucket_acl(Bucket=BUCKET)["Grants"])


def put_ownership(server, shape):
    return s3_call(lambda: s3_as(server, shape).put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=PREFERRED))


def after_put_ownership(server, allowed, _):
    assert ownership(server) == ("BucketOwnerPreferred" if allowed else "ObjectWriter")


def get_ownership(server, shape):
    return s3_call(lambda: s3_as(server, shape).get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"])


def delete_ownership(server, shape):
    return s3_call(lambda: s3_as(server, shape).delete_bucket_ownership_controls(Bucket=BUCKET))


def after_delete_ownership(server, allowed, _):
    assert ownership(server) == (None if allowed else "ObjectWriter")


BUCKET_OPERATIONS = {
    "put-bucket-acl": (lambda s: bucket_allows(s, "write"), put_bucket_acl, after_put_bucket_acl),
    "get-bucket-acl": (lambda s: bucket_allows(s, "list"), get_bucket_acl, after_get),
    "put-ownership-controls": (full_control, put_ownership, after_put_ownership),
    "get-ownership-controls": (lambda s: bucket_allows(s, "list"), get_ownership, after_get),
    "delete-ownership-controls": (full_control, delete_ownership, after_delete_ownership),
}


@pytest.mark.parametrize("operation", BUCKET_OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_bucket_acl_operations_answer_as_the_grants_say(server, shape, operation):
    may, run, after = BUCKET_OPERATIONS[operation]
    reset(server)
    expected = may(shape)
    allowed, answer = run(server, shape)
    assert allowed == expected, f"{shape.name} {operation}: allowed={allowed}, grants say {expected}"
    after(server, allowed, answer)


# --- Object-level operations, on keys each shape may and may not touch ---------------------------

def object_acl_public(server, key):
    return is_public(server.client().get_object_acl(Bucket=BUCKET, Key=key)["Grants"])


def stored(server, key):
    return server.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()


def put_object_acl(server, shape, key):
    return s3_call(lambda: s3_as(server, shape).put_object_acl(Bucket=BUCKET, Key=key, ACL="public-read"))[0]


def put_object_with_acl(server, shape, key):
    return s3_call(lambda: s3_as(server, shape).put_object(Bucket=BUCKET, Key=key, Body=NEW, ACL="public-read"))[0]


def get_object_acl(server, shape, key):
    return s3_call(lambda: s3_as(server, shape).get_object_acl(Bucket=BUCKET, Key=key))[0]


OBJECT_OPERATIONS = {
    # name: (action needed on the key, run, whether it makes the object public, its bytes afterwards when allowed)
    "put-object-acl": ("write", put_object_acl, True, ORIGINAL),
    "put-object-with-acl": ("write", put_object_with_acl, True, NEW),
    "get-object-acl": ("read", get_object_acl, False, ORIGINAL),
}


@pytest.mark.parametrize("operation", OBJECT_OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_object_acl_operations_answer_as_the_grants_say(server, shape, operation):
    action, run, publishes, bytes_after = OBJECT_OPERATIONS[operation]
    reset(server)
    root = server.client()
    for area in AREAS:
        key = f"{area}/acl-{operation}-{shape.name}.mp4"
        root.put_object(Bucket=BUCKET, Key=key, Body=ORIGINAL)
        expected = shape.allows(action, key)
        allowed = run(server, shape, key)
        assert allowed == expected, f"{shape.name} {operation} {key}: allowed={allowed}, grants say {expected}"
        assert object_acl_public(server, key) == (allowed and publishes)
        assert stored(server, key) == (bytes_after if allowed else ORIGINAL)


def test_the_matrix_covers_both_answers():
    """Some shape is refused and some allowed for each rule, so the matrix can fail both ways."""
    for rule in (lambda s: bucket_allows(s, "list"), lambda s: bucket_allows(s, "write"), full_control):
        assert {rule(shape) for shape in SHAPES} == {True, False}
    for action in ("read", "write"):
        assert {shape.allows(action, f"{area}/k") for shape in SHAPES for area in AREAS} == {True, False}
