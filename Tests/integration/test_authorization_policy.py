"""The authorization matrix for bucket policies and public access blocks (issue 17 #1, #2, #6):
every account shape of test_authorization_matrix, and an unsigned request, × PutBucketPolicy,
GetBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus, Put/Get/DeletePublicAccessBlock, signed
in the header and presigned. Reading needs `list` on the bucket (as tagging and versioning);
setting or removing needs full control of the whole bucket (read, write, delete and list without a
prefix), because a policy can give any right away. A refused call must change nothing. Then a
stored Deny is checked against every shape through every S3 door: it refuses even the accounts
whose grants allow the read."""
import json

import pytest
import requests
from botocore.exceptions import ClientError

from test_authorization_matrix import BUCKET, ORIGINAL, SHAPES, presigned_bucket_call, s3_as, s3_call, shapes_server

SEEDED_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "seeded", "Effect": "Allow", "Principal": {"AWS": ["VIEWER"]}, "Action": "s3:GetObject",
     "Resource": f"arn:aws:s3:::{BUCKET}/seeded/*"}]})
WANTED_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "wanted", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
     "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
SEEDED_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                "RestrictPublicBuckets": False}
WANTED_BLOCK = {"BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    depot = shapes_server(tmp_path_factory, "authz-policy")
    yield depot
    depot.cleanup()


def may(shape, need):
    """What the grants say: `list` on the bucket (a prefix is enough), or full control of it."""
    if shape is None:
        return False
    if need == "list":
        return any("list" in actions for _, actions in shape.grants)
    return any(prefix == "" and {"read", "write", "delete", "list"} <= actions for prefix, actions in shape.grants)


def settings(server):
    root = server.client()
    try:
        policy = root.get_bucket_policy(Bucket=BUCKET)["Policy"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchBucketPolicy", error.response
        policy = None
    try:
        block = root.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration", error.response
        block = None
    return policy, block


def unsigned(method, server, query, body=None):
    response = requests.request(method, f"{server.endpoint}/{BUCKET}?{query}", data=body, timeout=15)
    assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text, response.text
    return False, None


def signed(shape, call):
    return lambda server: s3_call(lambda: call(s3_as(server, shape)))


# name: (need, run(server, shape) -> (allowed, read), (policy, block) afterwards when allowed)
def operations(shape):
    if shape is None:
        return {
            "put-policy": ("full", lambda s: unsigned("PUT", s, "policy", WANTED_POLICY), None),
            "get-policy": ("list", lambda s: unsigned("GET", s, "policy"), None),
            "delete-policy": ("full", lambda s: unsigned("DELETE", s, "policy"), None),
            "get-policy-status": ("list", lambda s: unsigned("GET", s, "policyStatus"), None),
            "put-block": ("full", lambda s: unsigned("PUT", s, "publicAccessBlock", b"<PublicAccessBlockConfiguration/>"),
                          None),
            "get-block": ("list", lambda s: unsigned("GET", s, "publicAccessBlock"), None),
            "delete-block": ("full", lambda s: unsigned("DELETE", s, "publicAccessBlock"), None),
        }
    return {
        "put-policy": ("full", signed(shape, lambda c: c.put_bucket_policy(Bucket=BUCKET, Policy=WANTED_POLICY)),
                       (WANTED_POLICY, SEEDED_BLOCK)),
        "get-policy": ("list", signed(shape, lambda c: c.get_bucket_policy(Bucket=BUCKET)["Policy"]),
                       (SEEDED_POLICY, SEEDED_BLOCK)),
        "delete-policy": ("full", signed(shape, lambda c: c.delete_bucket_policy(Bucket=BUCKET)), (None, SEEDED_BLOCK)),
        "get-policy-status": ("list", signed(shape, lambda c: c.get_bucket_policy_status(Bucket=BUCKET)),
                              (SEEDED_POLICY, SEEDED_BLOCK)),
        "put-block": ("full", signed(shape, lambda c: c.put_public_access_block(
            Bucket=BUCKET, PublicAccessBlockConfiguration=WANTED_BLOCK)), (SEEDED_POLICY, WANTED_BLOCK)),
        "get-block": ("list", signed(shape, lambda c: c.get_public_access_block(Bucket=BUCKET)),
                      (SEEDED_POLICY, SEEDED_BLOCK)),
        "delete-block": ("full", signed(shape, lambda c: c.delete_public_access_block(Bucket=BUCKET)),
                         (SEEDED_POLICY, None)),
        "presigned-get-policy": ("list", lambda s: presigned_bucket_call(s, shape, "get_bucket_policy", "GET"),
                                 (SEEDED_POLICY, SEEDED_BLOCK)),
        "presigned-delete-policy": ("full", lambda s: presigned_bucket_call(s, shape, "delete_bucket_policy", "DELETE"),
                                    (None, SEEDED_BLOCK)),
    }


OPERATION_NAMES = list(operations(SHAPES[0]))
PRINCIPALS = SHAPES + [None]


@pytest.mark.parametrize("operation", OPERATION_NAMES)
@pytest.mark.parametrize("shape", PRINCIPALS, ids=lambda s: s.name if s else "anonymous")
def test_policy_operations_answer_as_the_grants_say(server, shape, operation):
    table = operations(shape)
    if operation not in table:
        pytest.skip("presigned URLs need a signer")
    need, run, after = table[operation]
    root = server.client()
    root.put_bucket_policy(Bucket=BUCKET, Policy=SEEDED_POLICY)
    root.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=SEEDED_BLOCK)
    expected = may(shape, need)
    allowed, _ = run(server)
    assert allowed == expected, f"{shape.name if shape else 'anonymous'} {operation}: allowed={allowed}, grants say {expected}"
    assert settings(server) == (after if allowed else (SEEDED_POLICY, SEEDED_BLOCK))


def test_the_matrix_covers_both_answers():
    """Some shape is refused and some allowed for each need, so the matrix can fail both ways."""
    for need in ("list", "full"):
        assert {may(shape, need) for shape in SHAPES} == {True, False}, need


def test_a_deny_refuses_every_shape_at_every_s3_door(server):
    """A Deny of s3:GetObject on camera-1/ to everyone: no shape reads there, signed, presigned or
    SigV2, even those whose grants allow it; reads elsewhere still follow the grants."""
    root = server.client()
    root.delete_public_access_block(Bucket=BUCKET)
    for key in ("camera-1/denied.mp4", "camera-2/open.mp4"):
        root.put_object(Bucket=BUCKET, Key=key, Body=ORIGINAL)
    root.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/camera-1/*"}]}))
    try:
        for shape in SHAPES:
            client = s3_as(server, shape)
            allowed, _ = s3_call(lambda: client.get_object(Bucket=BUCKET, Key="camera-1/denied.mp4"))
            assert not allowed, shape.name
            url = client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "camera-1/denied.mp4"})
            assert requests.get(url, timeout=10).status_code == 403, shape.name
            allowed, body = s3_call(lambda: client.get_object(Bucket=BUCKET, Key="camera-2/open.mp4")["Body"].read())
            assert allowed == shape.allows("read", "camera-2/open.mp4"), shape.name
            assert body in (None, ORIGINAL)
        assert requests.get(f"{server.endpoint}/{BUCKET}/camera-2/open.mp4", timeout=10).status_code == 403
    finally:
        root.delete_bucket_policy(Bucket=BUCKET)
