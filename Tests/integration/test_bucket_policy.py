"""Bucket policies and anonymous access (issue 17, items 1, 2 and 6): Put/Get/DeleteBucketPolicy,
GetBucketPolicyStatus and Put/Get/DeletePublicAccessBlock through boto3; anonymous reads of a
prefix opened the way `mc anonymous set download` opens it, with `requests` and urllib (no
signature at all); an explicit Deny that stops an account its `allow` list would let through;
aws:SourceIp conditions; BlockPublicPolicy and RestrictPublicBuckets; the policy kept across a
restart and `depot fsck --rebuild-index`; the public bucket shown by `depot status` and the
admin API. One real server per module, one bucket per test."""
import json
import os
import shutil
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from admin_client import Admin
from conftest import DepotServer, run_depot
from tls_support import start_tls_server, tls_client

# Accounts besides root: a viewer (read and list), a camera (write only), and an owner with
# full control of the `site-*` buckets.
ACCOUNTS = {
    "VIEWERKEY": ("viewer", [("*", "", ["read", "list"])]),
    "CAMERAKEY": ("camera", [("*", "", ["write"])]),
    "OWNERKEY": ("owner", [("*", "", ["read", "write", "delete", "list"])]),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("policy")
    config = tmp / "depot.yaml"
    lines = ["accounts:"]
    for key, (name, grants) in ACCOUNTS.items():
        allow = ", ".join(f'{{ bucket: "{b}", prefix: "{p}", actions: [{", ".join(a)}] }}' for b, p, a in grants)
        lines.append(f"  - {{ name: {name}, accessKey: {key}, secretKey: {key.lower()}-secret, allow: [{allow}] }}")
    config.write_text("\n".join(lines) + "\n")
    depot = DepotServer(config=str(config)).start()
    yield depot
    depot.cleanup()


def client(server, key=None):
    secret = (key.lower() + "-secret") if key else None
    if key is None:
        return server.client()
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


@pytest.fixture
def bucket(server):
    name = "site-" + uuid.uuid4().hex[:10]
    client(server).create_bucket(Bucket=name)
    return name


def code(error):
    return error.value.response["Error"]["Code"]


def xml_code(response):
    return ET.fromstring(response.content).findtext("Code")


def mc_download_policy(bucket, prefix):
    """Exactly what `mc anonymous set download ALIAS/bucket/prefix` writes: minio-go's policy
    package (pkg/policy SetPolicy, readonly) marshals its statements in this field order, with an
    empty Sid in each: GetBucketLocation, ListBucket limited to the prefix by StringLike (older
    versions wrote StringEquals; BucketPolicyTests parses that form), GetObject under the prefix."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Action": ["s3:GetBucketLocation"], "Effect": "Allow", "Principal": {"AWS": ["*"]},
         "Resource": [f"arn:aws:s3:::{bucket}"], "Sid": ""},
        {"Action": ["s3:ListBucket"], "Condition": {"StringLike": {"s3:prefix": [prefix]}}, "Effect": "Allow",
         "Principal": {"AWS": ["*"]}, "Resource": [f"arn:aws:s3:::{bucket}"], "Sid": ""},
        {"Action": ["s3:GetObject"], "Effect": "Allow", "Principal": {"AWS": ["*"]},
         "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*"], "Sid": ""},
    ]}, separators=(",", ":"))


def statement_policy(bucket, effect, principal, actions, resource, condition=None):
    statement = {"Effect": effect, "Principal": principal, "Action": actions, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_put_get_delete_policy_and_status(server, bucket):
    s3 = client(server)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(e) == "NoSuchBucketPolicy"
    policy = mc_download_policy(bucket, "public/")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(policy)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    private = statement_policy(bucket, "Allow", {"AWS": ["VIEWERKEY"]}, "s3:GetObject", f"arn:aws:s3:::{bucket}/*")
    s3.put_bucket_policy(Bucket=bucket, Policy=private)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.delete_bucket_policy(Bucket=bucket)
    for call in (s3.get_bucket_policy, s3.get_bucket_policy_status):
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket)
        assert code(e) == "NoSuchBucketPolicy"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket="site-no-such-bucket", Policy=policy.replace(bucket, "site-no-such-bucket"))
    assert code(e) == "NoSuchBucket"


def test_minio_client_sets_reads_and_deletes_a_policy(server, bucket):
    """minio-py (what MinIO-style tools use) through its own policy calls."""
    from minio import Minio
    from minio.error import S3Error as MinioError
    from conftest import ROOT_PASSWORD, ROOT_USER
    mc = Minio(f"127.0.0.1:{server.port}", ROOT_USER, ROOT_PASSWORD, secure=False)
    policy = mc_download_policy(bucket, "public/")
    mc.set_bucket_policy(bucket, policy)
    assert json.loads(mc.get_bucket_policy(bucket)) == json.loads(policy)
    mc.delete_bucket_policy(bucket)
    with pytest.raises(MinioError) as e:
        mc.get_bucket_policy(bucket)
    assert e.value.code == "NoSuchBucketPolicy"


@pytest.mark.parametrize("policy, problem", [
    ("{not json", "valid JSON"),
    ('{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Principal":"*","Action":"s3:GetObject",'
     '"Resource":"arn:aws:s3:::BUCKET/*"}]}', "invalid effect 'Perhaps'"),
    ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ReadEverything",'
     '"Resource":"arn:aws:s3:::BUCKET/*"}]}', "invalid action 's3:ReadEverything'"),
    ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
     '"Resource":"arn:aws:s3:::another-bucket/*"}]}', "not in bucket"),
    ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
     '"Resource":"arn:aws:s3:::BUCKET/*","Condition":{"StringMaybe":{"s3:prefix":"a"}}}]}',
     "unknown condition operator 'StringMaybe'"),
])
def test_malformed_policy_names_the_problem_and_stores_nothing(server, bucket, policy, problem):
    s3 = client(server)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy.replace("BUCKET", bucket))
    assert code(e) == "MalformedPolicy"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert problem in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(e) == "NoSuchBucketPolicy"


def test_mc_download_policy_opens_only_its_prefix_to_anonymous_requests(server, bucket):
    s3 = client(server)
    s3.put_object(Bucket=bucket, Key="public/clip.mp4", Body=b"public bytes")
    s3.put_object(Bucket=bucket, Key="private/clip.mp4", Body=b"private bytes")
    base = f"{server.endpoint}/{bucket}"
    # Before any policy: refused, whatever exists.
    assert requests.get(f"{base}/public/clip.mp4", timeout=10).status_code == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=mc_download_policy(bucket, "public/"))

    response = requests.get(f"{base}/public/clip.mp4", timeout=10)
    assert response.status_code == 200 and response.content == b"public bytes"
    with urllib.request.urlopen(f"{base}/public/clip.mp4", timeout=10) as answer:
        assert answer.read() == b"public bytes"
    assert requests.head(f"{base}/public/clip.mp4", timeout=10).status_code == 200
    assert requests.get(f"{base}/public/clip.mp4", headers={"Range": "bytes=0-5"}, timeout=10).content == b"public"
    listing = requests.get(f"{base}?list-type=2&prefix=public/", timeout=10)
    assert listing.status_code == 200, listing.text
    assert [k.text for k in ET.fromstring(listing.content).iter("{http://s3.amazonaws.com/doc/2006-03-01/}Key")] == [
        "public/clip.mp4"]
    assert requests.get(f"{base}?location", timeout=10).status_code == 200
    # Response header overrides are for signed requests only, as in S3.
    override = requests.get(f"{base}/public/clip.mp4?response-content-type=text/html", timeout=10)
    assert override.status_code == 400 and xml_code(override) == "InvalidRequest", override.text

    # Everything else: AccessDenied XML, and nothing changes.
    refusals = [
        requests.get(f"{base}/private/clip.mp4", timeout=10),
        requests.get(f"{base}?list-type=2", timeout=10),
        requests.get(f"{base}?list-type=2&prefix=private/", timeout=10),
        requests.get(f"{base}?prefix=", timeout=10),
        requests.put(f"{base}/public/new.mp4", data=b"anonymous upload", timeout=10),
        requests.put(f"{base}/public/clip.mp4", data=b"overwrite", timeout=10),
        requests.delete(f"{base}/public/clip.mp4", timeout=10),
        requests.get(f"{base}/public/clip.mp4?tagging", timeout=10),
        requests.get(f"{base}?policy", timeout=10),
        requests.delete(f"{base}?policy", timeout=10),
        requests.put(f"{base}?policy", data=b"{}", timeout=10),
        requests.get(f"{server.endpoint}/", timeout=10),
    ]
    for response in refusals:
        assert response.status_code == 403 and xml_code(response) == "AccessDenied", (
            response.request.method, response.request.url, response.text)
    # A key that does not exist is 403 too: the policy lets nobody list outside the prefix
    # condition, and AWS answers 404 only to those who may list (s3:ListBucket).
    missing_key = requests.get(f"{base}/public/missing.mp4", timeout=10)
    assert missing_key.status_code == 403 and xml_code(missing_key) == "AccessDenied", missing_key.text
    # DeleteObjects decides per key, as for accounts.
    batch = requests.post(f"{base}?delete", data=b"<Delete><Object><Key>public/clip.mp4</Key></Object></Delete>",
                          timeout=10)
    assert ET.fromstring(batch.content).findtext("{http://s3.amazonaws.com/doc/2006-03-01/}Error/"
                                                 "{http://s3.amazonaws.com/doc/2006-03-01/}Code") == "AccessDenied"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{base}/private/clip.mp4", timeout=10)
    assert e.value.code == 403 and b"AccessDenied" in e.value.read()
    assert s3.get_object(Bucket=bucket, Key="public/clip.mp4")["Body"].read() == b"public bytes"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["private/clip.mp4", "public/clip.mp4"]
    assert "Policy" in s3.get_bucket_policy(Bucket=bucket)

    # A bucket that does not exist answers anonymous requests the same way (names stay hidden).
    missing = requests.get(f"{server.endpoint}/site-none-{uuid.uuid4().hex[:6]}/public/clip.mp4", timeout=10)
    assert missing.status_code == 403 and xml_code(missing) == "AccessDenied"
    # Removing the policy closes the prefix again.
    s3.delete_bucket_policy(Bucket=bucket)
    assert requests.get(f"{base}/public/clip.mp4", timeout=10).status_code == 403


def test_anonymous_reader_who_may_list_learns_a_key_is_missing(server, bucket):
    client(server).put_bucket_policy(Bucket=bucket, Policy=statement_policy(
        bucket, "Allow", "*", ["s3:GetObject", "s3:ListBucket"], [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]))
    response = requests.get(f"{server.endpoint}/{bucket}/missing.mp4", timeout=10)
    assert response.status_code == 404 and xml_code(response) == "NoSuchKey", response.text


def test_public_write_prefix_takes_anonymous_puts_and_form_uploads_only_there(server, bucket):
    s3 = client(server)
    s3.put_bucket_policy(Bucket=bucket, Policy=statement_policy(
        bucket, "Allow", "*", ["s3:PutObject"], f"arn:aws:s3:::{bucket}/drop/*"))
    base = f"{server.endpoint}/{bucket}"
    assert requests.put(f"{base}/drop/a.bin", data=b"dropped", timeout=10).status_code == 200
    assert s3.get_object(Bucket=bucket, Key="drop/a.bin")["Body"].read() == b"dropped"
    # Reading it back is not granted.
    assert requests.get(f"{base}/drop/a.bin", timeout=10).status_code == 403
    refused = requests.put(f"{base}/elsewhere/a.bin", data=b"x", timeout=10)
    assert refused.status_code == 403 and xml_code(refused) == "AccessDenied"
    # A browser form with no signed policy: anonymous, admitted where the policy grants PutObject.
    form = requests.post(base, data={"key": "drop/${filename}"}, files={"file": ("form.bin", b"form bytes")}, timeout=10)
    assert form.status_code == 204, form.text
    assert s3.get_object(Bucket=bucket, Key="drop/form.bin")["Body"].read() == b"form bytes"
    form = requests.post(base, data={"key": "elsewhere/${filename}"}, files={"file": ("f.bin", b"x")}, timeout=10)
    assert form.status_code == 403 and xml_code(form) == "AccessDenied"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["drop/a.bin", "drop/form.bin"]


def test_explicit_deny_stops_an_account_its_allow_list_lets_through(server, bucket):
    root = client(server)
    viewer = client(server, "VIEWERKEY")
    root.put_object(Bucket=bucket, Key="secret/a.mp4", Body=b"secret")
    root.put_object(Bucket=bucket, Key="open/a.mp4", Body=b"open")
    assert viewer.get_object(Bucket=bucket, Key="secret/a.mp4")["Body"].read() == b"secret"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoSecrets", "Effect": "Deny", "Principal": {"AWS": ["VIEWERKEY"]}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/secret/*"},
        {"Sid": "NobodyDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"},
    ]})
    root.put_bucket_policy(Bucket=bucket, Policy=policy)
    with pytest.raises(ClientError) as e:
        viewer.get_object(Bucket=bucket, Key="secret/a.mp4")
    assert code(e) == "AccessDenied"
    # A presigned URL is the same account through another door.
    url = viewer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "secret/a.mp4"})
    assert requests.get(url, timeout=10).status_code == 403
    assert viewer.get_object(Bucket=bucket, Key="open/a.mp4")["Body"].read() == b"open"
    # Deny to "*" stops root too; its allow list does not outweigh an explicit Deny.
    with pytest.raises(ClientError) as e:
        root.delete_object(Bucket=bucket, Key="open/a.mp4")
    assert code(e) == "AccessDenied"
    result = root.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "open/a.mp4"}]})
    assert [err["Code"] for err in result.get("Errors", [])] == ["AccessDenied"]
    assert root.get_object(Bucket=bucket, Key="open/a.mp4")["Body"].read() == b"open"
    # A signed browser form is decided by the same rule: a Deny of s3:PutObject refuses root's form.
    root.put_bucket_policy(Bucket=bucket, Policy=statement_policy(bucket, "Deny", "*", "s3:PutObject",
                                                                  f"arn:aws:s3:::{bucket}/forms/*"))
    post = root.generate_presigned_post(bucket, "forms/${filename}")
    form = requests.post(post["url"], data=post["fields"], files={"file": ("f.bin", b"form")}, timeout=10)
    assert form.status_code == 403 and xml_code(form) == "AccessDenied", form.text
    post = root.generate_presigned_post(bucket, "other/${filename}")
    assert requests.post(post["url"], data=post["fields"], files={"file": ("f.bin", b"form")},
                         timeout=10).status_code == 204
    assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket, Prefix="forms/").get("Contents", [])] == []
    # A policy that denies everything can still be removed by an admin account.
    root.put_bucket_policy(Bucket=bucket, Policy=statement_policy(bucket, "Deny", "*", "s3:*",
                                                                  [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]))
    with pytest.raises(ClientError):
        root.get_object(Bucket=bucket, Key="open/a.mp4")
    root.delete_bucket_policy(Bucket=bucket)
    assert root.get_object(Bucket=bucket, Key="open/a.mp4")["Body"].read() == b"open"


def test_policy_allow_grants_an_account_what_its_allow_list_does_not(server, bucket):
    root = client(server)
    camera = client(server, "CAMERAKEY")
    root.put_object(Bucket=bucket, Key="cam/a.mp4", Body=b"a")
    with pytest.raises(ClientError) as e:
        camera.get_object(Bucket=bucket, Key="cam/a.mp4")
    assert code(e) == "AccessDenied"
    root.put_bucket_policy(Bucket=bucket, Policy=statement_policy(
        bucket, "Allow", {"AWS": "arn:aws:iam::000000000000:user/camera"}, "s3:GetObject",
        f"arn:aws:s3:::{bucket}/cam/*"))
    assert camera.get_object(Bucket=bucket, Key="cam/a.mp4")["Body"].read() == b"a"
    # Not to anonymous requests: the principal is the camera's account.
    assert requests.get(f"{server.endpoint}/{bucket}/cam/a.mp4", timeout=10).status_code == 403


def test_source_ip_conditions(server, bucket):
    s3 = client(server)
    s3.put_object(Bucket=bucket, Key="lan/a.mp4", Body=b"lan")
    url = f"{server.endpoint}/{bucket}/lan/a.mp4"
    resource = f"arn:aws:s3:::{bucket}/lan/*"
    s3.put_bucket_policy(Bucket=bucket, Policy=statement_policy(
        bucket, "Allow", "*", "s3:GetObject", resource, {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8"]}}))
    assert requests.get(url, timeout=10).status_code == 200
    # A grant narrowed to a source range is not public (AWS's rule).
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_policy(Bucket=bucket, Policy=statement_policy(
        bucket, "Allow", "*", "s3:GetObject", resource, {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert requests.get(url, timeout=10).status_code == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=statement_policy(
        bucket, "Deny", {"AWS": "VIEWERKEY"}, "s3:GetObject", resource,
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    viewer = client(server, "VIEWERKEY")
    with pytest.raises(ClientError) as e:
        viewer.get_object(Bucket=bucket, Key="lan/a.mp4")
    assert code(e) == "AccessDenied"


def test_public_access_block(server, bucket):
    s3 = client(server)
    s3.put_object(Bucket=bucket, Key="public/a", Body=b"a")
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=bucket)
    assert code(e) == "NoSuchPublicAccessBlockConfiguration"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicPolicy": True, "BlockPublicAcls": True})
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=mc_download_policy(bucket, "public/"))
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(e) == "NoSuchBucketPolicy"
    # A policy for named accounts is not public: accepted.
    s3.put_bucket_policy(Bucket=bucket, Policy=statement_policy(
        bucket, "Allow", {"AWS": ["VIEWERKEY"]}, "s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    # RestrictPublicBuckets: a public policy stored before grants nothing to anonymous requests.
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=mc_download_policy(bucket, "public/"))
    assert requests.get(f"{server.endpoint}/{bucket}/public/a", timeout=10).status_code == 200
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert requests.get(f"{server.endpoint}/{bucket}/public/a", timeout=10).status_code == 403
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=bucket)
    assert code(e) == "NoSuchPublicAccessBlockConfiguration"
    assert requests.get(f"{server.endpoint}/{bucket}/public/a", timeout=10).status_code == 200
    # A malformed configuration is refused and changes nothing.
    response = requests.put(f"{server.endpoint}/{bucket}?publicAccessBlock", timeout=10)
    assert response.status_code == 403  # unsigned: anonymous requests never manage settings


def test_who_may_set_a_policy(server, bucket):
    """Reading needs `list` (as versioning and tagging); setting or removing needs full control of
    the bucket (read, write, delete, list): a camera that may only write cannot open the bucket."""
    policy = mc_download_policy(bucket, "public/")
    owner, camera, viewer = (client(server, k) for k in ("OWNERKEY", "CAMERAKEY", "VIEWERKEY"))
    for account in (camera, viewer):
        for call, kwargs in [(account.put_bucket_policy, {"Policy": policy}), (account.delete_bucket_policy, {}),
                             (account.put_public_access_block,
                              {"PublicAccessBlockConfiguration": {"BlockPublicPolicy": True}}),
                             (account.delete_public_access_block, {})]:
            with pytest.raises(ClientError) as e:
                call(Bucket=bucket, **kwargs)
            assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        client(server).get_bucket_policy(Bucket=bucket)
    assert code(e) == "NoSuchBucketPolicy"
    owner.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert json.loads(viewer.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(policy)
    with pytest.raises(ClientError) as e:
        camera.get_bucket_policy(Bucket=bucket)
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        camera.delete_bucket_policy(Bucket=bucket)
    assert code(e) == "AccessDenied"
    assert "Policy" in owner.get_bucket_policy(Bucket=bucket)


def test_public_bucket_is_shown_by_status_and_the_admin_api(server, bucket):
    s3 = client(server)
    admin = Admin(server.endpoint)
    status, view = admin.get(f"/admin/v1/buckets/{bucket}")
    assert status == 200 and view["public"] == []
    s3.put_bucket_policy(Bucket=bucket, Policy=mc_download_policy(bucket, "public/"))
    status, view = admin.get(f"/admin/v1/buckets/{bucket}")
    assert view["public"] == ["bucket policy grants s3:getbucketlocation, s3:getobject, s3:listbucket to everyone"]
    status, summary = admin.get("/admin/v1/status")
    assert {"name": bucket, "reasons": view["public"]} in summary["publicBuckets"]
    out = run_depot("status", "--endpoint", server.endpoint, env={}).stdout
    assert f"PUBLIC bucket {bucket}: bucket policy grants" in out, out
    s3.delete_bucket_policy(Bucket=bucket)
    status, summary = admin.get("/admin/v1/status")
    assert bucket not in [b["name"] for b in summary["publicBuckets"]]


def test_policy_survives_restart_and_index_rebuild(tmp_path):
    server = DepotServer().start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="public/a.mp4", Body=b"kept bytes")
        policy = mc_download_policy("kept", "public/")
        s3.put_bucket_policy(Bucket="kept", Policy=policy)
        s3.put_public_access_block(Bucket="kept", PublicAccessBlockConfiguration={"BlockPublicAcls": True})
        server.restart()
        assert requests.get(f"{server.endpoint}/kept/public/a.mp4", timeout=10).content == b"kept bytes"
        server.stop()
        before = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert run_depot("index", "dump", "--data", server.data_dir, check=True).stdout == before
        server.start()
        s3 = server.client()
        assert json.loads(s3.get_bucket_policy(Bucket="kept")["Policy"]) == json.loads(policy)
        assert s3.get_public_access_block(Bucket="kept")["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
        assert requests.get(f"{server.endpoint}/kept/public/a.mp4", timeout=10).content == b"kept bytes"
        assert requests.get(f"{server.endpoint}/kept/other.mp4", timeout=10).status_code == 403
    finally:
        server.cleanup()


TLS_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*"},
    {"Sid": "tls-only", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
]}


def test_secure_transport_condition_over_plain_http(server, bucket):
    """The usual "TLS only" policy: over plain HTTP even root is refused (its Deny wins)."""
    s3 = client(server)
    s3.put_object(Bucket=bucket, Key="a.mp4", Body=b"a")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(TLS_ONLY).replace("BUCKET", bucket))
    assert requests.get(f"{server.endpoint}/{bucket}/a.mp4", timeout=10).status_code == 403
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="a.mp4")
    assert code(e) == "AccessDenied"
    s3.delete_bucket_policy(Bucket=bucket)  # policy management is exempt for an admin account


def test_secure_transport_condition_over_tls(tmp_path):
    tls, cert = start_tls_server(tmp_path)
    try:
        s3 = tls_client(tls, cert)
        s3.create_bucket(Bucket="secure")
        s3.put_object(Bucket="secure", Key="a.mp4", Body=b"over tls")
        s3.put_bucket_policy(Bucket="secure", Policy=json.dumps(TLS_ONLY).replace("BUCKET", "secure"))
        response = requests.get(f"{tls.endpoint}/secure/a.mp4", verify=str(cert), timeout=10)
        assert response.status_code == 200 and response.content == b"over tls"
        assert s3.get_object(Bucket="secure", Key="a.mp4")["Body"].read() == b"over tls"
    finally:
        tls.cleanup()
