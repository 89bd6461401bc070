"""Canned ACLs and Object Ownership against a real server, with boto3 and unsigned requests.

A new bucket has Object Ownership BucketOwnerEnforced (AWS's default since April 2023): ACLs are
disabled, only owner-only ones are accepted, and GetBucketAcl shows the owner alone. A bucket
made with ObjectOwnership ObjectWriter (or given it later) keeps canned ACLs on itself and on
its objects; their group grants (AllUsers, AuthenticatedUsers) admit unsigned requests and
other accounts. Explicit grants are accepted when they say exactly what a canned ACL says,
otherwise 501. Everything survives a restart and `depot fsck --rebuild-index`."""
import os
import shutil
import uuid
import xml.etree.ElementTree as ET

import boto3
import botocore
import pytest
import requests
from botocore.config import Config

from conftest import ROOT_USER, DepotServer, run_depot

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
OTHER_KEY, OTHER_SECRET = "OTHERACCOUNT", "other-account-secret-1"
BODY = b"recording bytes"


@pytest.fixture
def server(tmp_path):
    """A server with a second account that has no grant at all on the buckets the tests make."""
    config = tmp_path / "depot.yaml"
    config.write_text(f"""accounts:
  - name: other
    accessKey: {OTHER_KEY}
    secretKey: {OTHER_SECRET}
    allow: [{{ bucket: "unrelated", actions: [read] }}]
""")
    depot = DepotServer(data_dir=str(tmp_path / "data"), config=str(config)).start()
    yield depot
    depot.cleanup()


@pytest.fixture
def s3(server):
    return server.client()


def other_client(server):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=OTHER_KEY,
                        aws_secret_access_key=OTHER_SECRET,
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                      retries={"max_attempts": 1}))


def new_bucket(s3, **create):
    name = "acl-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, **create)
    return name


def grants(answer):
    """(grantee, permission) pairs of a boto3 Get*Acl answer."""
    out = []
    for grant in answer["Grants"]:
        grantee = grant["Grantee"]
        out.append((grantee.get("ID") or grantee.get("URI"), grant["Permission"]))
    return out


def expected_grants(acl, owner=ROOT_USER, bucket_owner=ROOT_USER):
    full = [(owner, "FULL_CONTROL")]
    return full + {
        "private": [], "public-read": [(ALL_USERS, "READ")],
        "public-read-write": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
        "authenticated-read": [(AUTHENTICATED, "READ")],
        "bucket-owner-read": [] if bucket_owner == owner else [(bucket_owner, "READ")],
        "bucket-owner-full-control": [] if bucket_owner == owner else [(bucket_owner, "FULL_CONTROL")],
    }[acl]


def refused(call, code, status=None):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    assert e.value.response["Error"]["Code"] == code, e.value.response
    if status:
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return e.value.response


def anonymous(server, method, path, data=None):
    return requests.request(method, server.endpoint + path, data=data, timeout=10)


def error_code(response):
    return ET.fromstring(response.content).findtext("Code") if response.content else None


CANNED = ["private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read",
          "bucket-owner-full-control"]


def test_a_new_bucket_has_acls_disabled(server, s3):
    bucket = new_bucket(s3)
    controls = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert controls["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    answer = s3.get_bucket_acl(Bucket=bucket)
    assert answer["Owner"]["ID"] == ROOT_USER
    assert grants(answer) == [(ROOT_USER, "FULL_CONTROL")]
    # Owner-only ACLs are accepted; anything else is AWS's AccessControlListNotSupported.
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_object(Bucket=bucket, Key="a", Body=BODY, ACL="bucket-owner-full-control")
    for acl in ["public-read", "authenticated-read", "public-read-write"]:
        refused(lambda: s3.put_bucket_acl(Bucket=bucket, ACL=acl), "AccessControlListNotSupported", 400)
        refused(lambda: s3.put_object(Bucket=bucket, Key="b", Body=BODY, ACL=acl), "AccessControlListNotSupported", 400)
        refused(lambda: s3.put_object_acl(Bucket=bucket, Key="a", ACL=acl), "AccessControlListNotSupported", 400)
    refused(lambda: s3.head_object(Bucket=bucket, Key="b"), "404")
    assert grants(s3.get_object_acl(Bucket=bucket, Key="a")) == [(ROOT_USER, "FULL_CONTROL")]
    assert anonymous(server, "GET", f"/{bucket}/a").status_code == 403
    # A public ACL at creation needs an ownership that enables ACLs; nothing is made without.
    name = "acl-" + uuid.uuid4().hex[:12]
    refused(lambda: s3.create_bucket(Bucket=name, ACL="public-read"), "InvalidBucketAclWithObjectOwnership", 400)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("acl", CANNED)
def test_each_canned_acl_on_a_bucket(s3, acl):
    bucket = new_bucket(s3, ACL=acl, ObjectOwnership="ObjectWriter")
    # AWS ignores the bucket-owner ACLs on a bucket.
    shown = "private" if acl.startswith("bucket-owner") else acl
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == expected_grants(shown)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == expected_grants("private")
    s3.put_bucket_acl(Bucket=bucket, ACL=acl)
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == expected_grants(shown)


@pytest.mark.parametrize("acl", CANNED)
def test_each_canned_acl_on_an_object(server, s3, acl):
    bucket = new_bucket(s3, ObjectOwnership="ObjectWriter")
    expected = expected_grants(acl)
    s3.put_object(Bucket=bucket, Key="put", Body=BODY, ACL=acl)
    s3.put_object(Bucket=bucket, Key="plain", Body=BODY)
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "plain"}, ACL=acl)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multipart", ACL=acl)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="multipart", UploadId=upload, PartNumber=1, Body=BODY)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="multipart", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    form = s3.generate_presigned_post(bucket, "form", Fields={"acl": acl}, Conditions=[{"acl": acl}])
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("f", BODY)}, timeout=10)
    assert posted.status_code == 204, posted.text
    for key in ["put", "copy", "multipart", "form"]:
        answer = s3.get_object_acl(Bucket=bucket, Key=key)
        assert answer["Owner"]["ID"] == ROOT_USER
        assert grants(answer) == expected, key
        # The ACL is kept beside the object, never sent as a header.
        head = s3.head_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPHeaders"]
        assert not [name for name in head if name.startswith("x-depot-acl")], head
    assert grants(s3.get_object_acl(Bucket=bucket, Key="plain")) == expected_grants("private")
    s3.put_object_acl(Bucket=bucket, Key="plain", ACL=acl)
    assert grants(s3.get_object_acl(Bucket=bucket, Key="plain")) == expected
    # A copy takes the ACL of its own request, never the source's.
    s3.copy_object(Bucket=bucket, Key="copy-of-put", CopySource={"Bucket": bucket, "Key": "put"})
    assert grants(s3.get_object_acl(Bucket=bucket, Key="copy-of-put")) == expected_grants("private")
    # Read access as the ACL says: anonymous for public ones, another account also for authenticated-read.
    anonymous_get = anonymous(server, "GET", f"/{bucket}/put")
    other = other_client(server)
    if acl in ("public-read", "public-read-write"):
        assert anonymous_get.status_code == 200 and anonymous_get.content == BODY
    else:
        assert anonymous_get.status_code == 403 and error_code(anonymous_get) == "AccessDenied"
    if acl in ("public-read", "public-read-write", "authenticated-read"):
        assert other.get_object(Bucket=bucket, Key="put")["Body"].read() == BODY
    else:
        refused(lambda: other.get_object(Bucket=bucket, Key="put"), "AccessDenied", 403)


def test_public_and_authenticated_access(server, s3):
    bucket = new_bucket(s3, ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket=bucket, Key="public.mp4", Body=BODY, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="private.mp4", Body=BODY)
    s3.put_object(Bucket=bucket, Key="members.mp4", Body=BODY, ACL="authenticated-read")
    assert anonymous(server, "GET", f"/{bucket}/public.mp4").content == BODY
    assert anonymous(server, "HEAD", f"/{bucket}/public.mp4").status_code == 200
    for key in ["private.mp4", "members.mp4", "missing.mp4"]:
        response = anonymous(server, "GET", f"/{bucket}/{key}")
        assert response.status_code == 403 and error_code(response) == "AccessDenied", key
    # A public object does not open its bucket's listing, nor anything but reading it.
    assert anonymous(server, "GET", f"/{bucket}").status_code == 403
    assert anonymous(server, "PUT", f"/{bucket}/public.mp4", data=b"overwritten").status_code == 403
    assert anonymous(server, "DELETE", f"/{bucket}/public.mp4").status_code == 403
    assert anonymous(server, "GET", f"/{bucket}/public.mp4?tagging").status_code == 403
    assert s3.get_object(Bucket=bucket, Key="public.mp4")["Body"].read() == BODY
    other = other_client(server)
    assert other.get_object(Bucket=bucket, Key="members.mp4")["Body"].read() == BODY
    refused(lambda: other.put_object_acl(Bucket=bucket, Key="members.mp4", ACL="public-read"), "AccessDenied", 403)
    refused(lambda: other.put_object(Bucket=bucket, Key="members.mp4", Body=b"x"), "AccessDenied", 403)
    assert grants(s3.get_object_acl(Bucket=bucket, Key="members.mp4")) == expected_grants("authenticated-read")

    # Bucket ACLs: public-read lists, public-read-write also writes and deletes.
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    listing = anonymous(server, "GET", f"/{bucket}?list-type=2")
    assert listing.status_code == 200 and b"<Key>private.mp4</Key>" in listing.content
    assert anonymous(server, "GET", f"/{bucket}/private.mp4").status_code == 403
    assert anonymous(server, "PUT", f"/{bucket}/dropped.mp4", data=b"x").status_code == 403
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert anonymous(server, "PUT", f"/{bucket}/dropped.mp4", data=b"dropped").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="dropped.mp4")["Body"].read() == b"dropped"
    assert anonymous(server, "DELETE", f"/{bucket}/dropped.mp4").status_code == 204
    refused(lambda: s3.head_object(Bucket=bucket, Key="dropped.mp4"), "404")
    s3.put_bucket_acl(Bucket=bucket, ACL="authenticated-read")
    assert anonymous(server, "GET", f"/{bucket}?list-type=2").status_code == 403
    assert "Contents" in other.list_objects_v2(Bucket=bucket)


def policy_body(bucket_grants, owner=ROOT_USER):
    """An AccessControlPolicy for boto3: (grantee type, ID or URI, permission) triples."""
    return {"Owner": {"ID": owner}, "Grants": [
        {"Grantee": ({"Type": kind, "ID": who} if kind == "CanonicalUser" else {"Type": kind, "URI": who}),
         "Permission": permission} for kind, who, permission in bucket_grants]}


def test_explicit_grants_are_mapped_to_canned_acls_or_refused(server, s3):
    bucket = new_bucket(s3, ObjectOwnership="BucketOwnerPreferred")
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    # What a GetBucketAcl answer becomes with an AllUsers READ added: public-read.
    current = s3.get_bucket_acl(Bucket=bucket)
    current["Grants"].append({"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"})
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": current["Owner"], "Grants": current["Grants"]})
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == expected_grants("public-read")
    s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=policy_body(
        [("CanonicalUser", ROOT_USER, "FULL_CONTROL"), ("Group", AUTHENTICATED, "READ")]))
    assert grants(s3.get_object_acl(Bucket=bucket, Key="k")) == expected_grants("authenticated-read")
    # Grant headers that say exactly a canned ACL.
    s3.put_object_acl(Bucket=bucket, Key="k", GrantFullControl=f'id="{ROOT_USER}"', GrantRead=f'uri="{ALL_USERS}"')
    assert grants(s3.get_object_acl(Bucket=bucket, Key="k")) == expected_grants("public-read")
    s3.put_object(Bucket=bucket, Key="h", Body=BODY, GrantFullControl=f"id={ROOT_USER}",
                  GrantRead=f"uri={AUTHENTICATED}")
    assert grants(s3.get_object_acl(Bucket=bucket, Key="h")) == expected_grants("authenticated-read")
    # Anything else: 501 naming the grant, and nothing changes.
    for call in [
        lambda: s3.put_object_acl(Bucket=bucket, Key="k", GrantFullControl=f"id={ROOT_USER}", GrantRead=f"id={OTHER_KEY}"),
        lambda: s3.put_object_acl(Bucket=bucket, Key="k", GrantRead=f'uri="{ALL_USERS}"'),
        lambda: s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=policy_body(
            [("CanonicalUser", ROOT_USER, "FULL_CONTROL"), ("Group", ALL_USERS, "WRITE_ACP")])),
        lambda: s3.put_object(Bucket=bucket, Key="new", Body=BODY, GrantWriteACP=f"uri={ALL_USERS}"),
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="log-delivery-write"),
    ]:
        response = refused(call, "NotImplemented", 501)
        assert "Depot keeps" in response["Error"]["Message"] or "log-delivery-write" in response["Error"]["Message"]
    assert grants(s3.get_object_acl(Bucket=bucket, Key="k")) == expected_grants("public-read")
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == expected_grants("public-read")
    refused(lambda: s3.head_object(Bucket=bucket, Key="new"), "404")
    refused(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read", GrantRead=f"uri={ALL_USERS}"),
            "InvalidRequest", 400)
    refused(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="publicish"), "InvalidArgument", 400)
    refused(lambda: s3.put_object_acl(Bucket=bucket, Key="missing", ACL="private"), "NoSuchKey", 404)


def test_ownership_controls(server, s3):
    bucket = new_bucket(s3, ACL="public-read", ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket=bucket, Key="k", Body=BODY, ACL="public-read")
    assert anonymous(server, "GET", f"/{bucket}/k").status_code == 200
    # Enforcing the bucket owner is refused while the bucket's own ACL grants others.
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    refused(lambda: s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced),
            "InvalidBucketAclWithObjectOwnership", 400)
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}]
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced)
    # The object's ACL no longer counts, and is shown as the owner's alone.
    assert anonymous(server, "GET", f"/{bucket}/k").status_code == 403
    assert grants(s3.get_object_acl(Bucket=bucket, Key="k")) == [(ROOT_USER, "FULL_CONTROL")]
    # Deleting the controls leaves none (404), which enables ACLs as ObjectWriter does.
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    refused(lambda: s3.get_bucket_ownership_controls(Bucket=bucket), "OwnershipControlsNotFoundError", 404)
    assert anonymous(server, "GET", f"/{bucket}/k").status_code == 200
    refused(lambda: s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "Everyone"}]}), "MalformedXML", 400)
    # Only an account with full control of the bucket changes them.
    other = other_client(server)
    refused(lambda: other.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced), "AccessDenied", 403)
    refused(lambda: other.delete_bucket_ownership_controls(Bucket=bucket), "AccessDenied", 403)
    refused(lambda: s3.get_bucket_ownership_controls(Bucket=bucket), "OwnershipControlsNotFoundError", 404)


def test_public_access_block_and_acls(server, s3):
    bucket = new_bucket(s3, ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket=bucket, Key="k", Body=BODY, ACL="public-read")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    refused(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="authenticated-read"), "AccessDenied", 403)
    refused(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"), "AccessDenied", 403)
    refused(lambda: s3.put_object(Bucket=bucket, Key="new", Body=BODY, ACL="public-read"), "AccessDenied", 403)
    refused(lambda: s3.head_object(Bucket=bucket, Key="new"), "404")
    s3.put_object(Bucket=bucket, Key="new", Body=BODY, ACL="bucket-owner-read")
    # BlockPublicAcls leaves existing ACLs working; IgnorePublicAcls turns them off.
    assert anonymous(server, "GET", f"/{bucket}/k").status_code == 200
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert anonymous(server, "GET", f"/{bucket}/k").status_code == 403
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read-write")
    assert anonymous(server, "GET", f"/{bucket}/k").status_code == 403
    s3.delete_public_access_block(Bucket=bucket)
    assert anonymous(server, "GET", f"/{bucket}/k").content == BODY


def test_acls_survive_restart_and_index_rebuild(server, s3):
    bucket = new_bucket(s3, ACL="public-read", ObjectOwnership="BucketOwnerPreferred")
    versioned = new_bucket(s3, ObjectOwnership="ObjectWriter")
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="public.mp4", Body=BODY, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="members.mp4", Body=BODY)
    s3.put_object_acl(Bucket=bucket, Key="members.mp4", ACL="authenticated-read")
    first = s3.put_object(Bucket=versioned, Key="v", Body=b"one", ACL="public-read")["VersionId"]
    s3.put_object(Bucket=versioned, Key="v", Body=b"two")
    disabled = new_bucket(s3, ObjectOwnership="ObjectWriter")
    s3.delete_bucket_ownership_controls(Bucket=disabled)

    def check():
        client = server.client()
        assert grants(client.get_bucket_acl(Bucket=bucket)) == expected_grants("public-read")
        assert client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerPreferred"}]
        refused(lambda: client.get_bucket_ownership_controls(Bucket=disabled), "OwnershipControlsNotFoundError", 404)
        assert grants(client.get_object_acl(Bucket=bucket, Key="public.mp4")) == expected_grants("public-read")
        assert grants(client.get_object_acl(Bucket=bucket, Key="members.mp4")) == expected_grants("authenticated-read")
        assert grants(client.get_object_acl(Bucket=versioned, Key="v", VersionId=first)) == expected_grants("public-read")
        assert grants(client.get_object_acl(Bucket=versioned, Key="v")) == expected_grants("private")
        # Each version is read under its own ACL.
        assert anonymous(server, "GET", f"/{versioned}/v?versionId={first}").content == b"one"
        assert anonymous(server, "GET", f"/{versioned}/v").status_code == 403
        assert anonymous(server, "GET", f"/{bucket}/public.mp4").content == BODY
        assert anonymous(server, "GET", f"/{bucket}/members.mp4").status_code == 403
        assert b"<Key>members.mp4</Key>" in anonymous(server, "GET", f"/{bucket}").content
        assert other_client(server).get_object(Bucket=bucket, Key="members.mp4")["Body"].read() == BODY

    check()
    server.restart()
    check()
    server.stop()
    before = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
    assert "x-depot-acl" in before
    shutil.rmtree(os.path.join(server.data_dir, "index"))
    rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert run_depot("index", "dump", "--data", server.data_dir, check=True).stdout == before
    server.start()
    check()


def test_public_acls_are_shown_to_the_operator(server, s3):
    """The admin API's bucket view and `depot status` (its publicBuckets) name what ACLs open."""
    from admin_client import Admin

    admin = Admin(server.endpoint)
    enforced = new_bucket(s3)
    public = new_bucket(s3, ACL="public-read", ObjectOwnership="ObjectWriter")
    status, view = admin.get(f"/admin/v1/buckets/{enforced}")
    assert status == 200 and view["public"] == [], view
    status, view = admin.get(f"/admin/v1/buckets/{public}")
    assert status == 200, view
    assert any("bucket ACL public-read grants READ to everyone" in line for line in view["public"]), view
    status, overview = admin.get("/admin/v1/status")
    assert status == 200, overview
    assert public in [item["name"] for item in overview["publicBuckets"]]
    assert enforced not in [item["name"] for item in overview["publicBuckets"]]
    s3.put_public_access_block(Bucket=public, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert admin.get(f"/admin/v1/buckets/{public}")[1]["public"] == []


def test_recreating_your_bucket_resets_its_acl(s3):
    """us-east-1: CreateBucket of a bucket you own succeeds and resets its ACL, as AWS does."""
    bucket = new_bucket(s3, ACL="public-read", ObjectOwnership="ObjectWriter")
    s3.create_bucket(Bucket=bucket)
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == expected_grants("private")
    s3.create_bucket(Bucket=bucket, ACL="authenticated-read")
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == expected_grants("authenticated-read")
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}]
