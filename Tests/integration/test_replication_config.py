"""S3 replication configuration (issue 18 #4) on the real server with a real moto_server S3 tier:
awscli `s3api put/get/delete-bucket-replication` and the minio client's `set/get/delete_bucket_replication`;
each enabled rule a Depot replicate policy (origin s3-replication) in `depot policy list`, `dry-run`
and the admin API, refused for edits there; new objects arrive in moto byte-identical and report
x-amz-replication-status COMPLETED, a prefix filter leaves other objects alone, delete markers go to
the tier or not as DeleteMarkerReplication says (the higher Priority deciding between overlapping
rules); S3's refusals, which change nothing."""
import hashlib
import json
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from minio import Minio
from minio.commonconfig import DISABLED, ENABLED, AndOperator, Filter, Tags
from minio.replicationconfig import DeleteMarkerReplication, Destination, ReplicationConfig, Rule

from admin_client import Admin
from backends import Moto
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, aws_env, run_depot
from waiting import wait_for, wait_for_replication

ROLE = "arn:aws:iam::123456789012:role/depot-replication"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """One depot with three S3 tiers on one moto: `cloud` and `cloud-b` in moto's bucket
    `archive` (so `arn:aws:s3:::archive` is ambiguous), `cloud2` alone in `archive2`."""
    moto = Moto()
    moto.client.create_bucket(Bucket="archive2")
    tmp = tmp_path_factory.mktemp("replication-config")
    tier = "type: s3, endpoint: \"{}\", region: us-east-1, accessKey: tier-key, secretKey: tier-secret, includeBucket: true"
    tier = tier.format(moto.endpoint)
    config = tmp / "depot.yaml"
    config.write_text(f"""
tiers:
  - {{ name: cloud, bucket: archive, {tier} }}
  - {{ name: cloud-b, bucket: archive, prefix: b/, {tier} }}
  - {{ name: cloud2, bucket: archive2, {tier} }}
""")
    server = DepotServer(config=str(config)).start()
    yield server, moto.client, tmp
    server.cleanup()
    moto.stop()


def versioned_bucket(s3, name):
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def signed(server, method, path, data=b""):
    """A SigV4-signed request built by hand: for bodies boto3 would never send."""
    headers = {"x-amz-content-sha256": hashlib.sha256(data).hexdigest()}
    request = AWSRequest(method=method, url=f"{server.endpoint}{path}", data=data, headers=headers)
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    return requests.request(method, f"{server.endpoint}{path}", headers=dict(request.headers), data=data, timeout=15)


def aws(server, tmp, *args):
    result = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3api", *args], env=aws_env(server, tmp),
                            capture_output=True, text=True, timeout=60)
    return result


def remote(tier, bucket, key):
    """The tier's copy of bucket/key in moto's `bucket`, or None."""
    try:
        return tier.get_object(Bucket=bucket, Key=key)["Body"].read()
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] in ("NoSuchKey", "404"), error.response
        return None


def policies_by_name(server):
    status, body = Admin(server.endpoint).get("/admin/v1/policies")
    assert status == 200, body
    return {policy["name"]: policy for policy in body["policies"]}


def test_awscli_round_trip_and_the_rule_acts(setup):
    server, tier, tmp = setup
    s3 = server.client()
    bucket = "cli-rec"
    s3.create_bucket(Bucket=bucket)
    document = {"Role": ROLE, "Rules": [{
        "ID": "cams", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "cam/"},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": {"Bucket": "arn:aws:s3:::cloud", "StorageClass": "STANDARD"}}]}
    path = tmp / "replication.json"
    path.write_text(json.dumps(document))
    # S3 requires versioning Enabled first: InvalidRequest, and nothing is stored.
    refused = aws(server, tmp, "put-bucket-replication", "--bucket", bucket, "--replication-configuration", f"file://{path}")
    assert refused.returncode != 0 and "InvalidRequest" in refused.stderr and "Versioning" in refused.stderr, refused.stderr
    got = aws(server, tmp, "get-bucket-replication", "--bucket", bucket)
    assert got.returncode != 0 and "ReplicationConfigurationNotFoundError" in got.stderr, got.stderr
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put = aws(server, tmp, "put-bucket-replication", "--bucket", bucket, "--replication-configuration", f"file://{path}")
    assert put.returncode == 0, put.stderr
    got = aws(server, tmp, "get-bucket-replication", "--bucket", bucket)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["ReplicationConfiguration"] == document

    # An object written afterwards arrives in moto byte-identical and reports COMPLETED; one the
    # prefix does not match is left alone.
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="cam/1.mp4", Body=data, Metadata={"camera": "front"})
    s3.put_object(Bucket=bucket, Key="other/2.mp4", Body=b"not replicated")
    wait_for_replication(s3, bucket, "cam/1.mp4")
    assert s3.get_object(Bucket=bucket, Key="cam/1.mp4")["ReplicationStatus"] == "COMPLETED"
    assert hashlib.sha256(remote(tier, "archive", f"{bucket}/cam/1.mp4")).digest() == hashlib.sha256(data).digest()
    assert tier.head_object(Bucket="archive", Key=f"{bucket}/cam/1.mp4")["Metadata"]["camera"] == "front"
    assert "ReplicationStatus" not in s3.head_object(Bucket=bucket, Key="other/2.mp4")
    assert remote(tier, "archive", f"{bucket}/other/2.mp4") is None

    # DeleteMarkerReplication Disabled: the delete marker stays here, the tier keeps the object.
    s3.delete_object(Bucket=bucket, Key="cam/1.mp4")
    time.sleep(1.5)
    assert remote(tier, "archive", f"{bucket}/cam/1.mp4") == data

    # Versioning cannot be suspended under a replication configuration, as in S3.
    with pytest.raises(botocore.exceptions.ClientError) as suspended:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert suspended.value.response["Error"]["Code"] == "InvalidBucketState"
    assert suspended.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    deleted = aws(server, tmp, "delete-bucket-replication", "--bucket", bucket)
    assert deleted.returncode == 0, deleted.stderr
    got = aws(server, tmp, "get-bucket-replication", "--bucket", bucket)
    assert got.returncode != 0 and "ReplicationConfigurationNotFoundError" in got.stderr, got.stderr
    assert "s3-replication:cli-rec:cams" not in policies_by_name(server)
    # The rule is gone: a new object stays here.
    s3.put_object(Bucket=bucket, Key="cam/3.mp4", Body=b"after the rule")
    assert "ReplicationStatus" not in s3.head_object(Bucket=bucket, Key="cam/3.mp4")


def test_minio_client_round_trip_and_the_rule_as_a_policy(setup):
    server, tier, _ = setup
    s3 = server.client()
    bucket = versioned_bucket(s3, "minio-rec")
    mc = Minio(f"127.0.0.1:{server.port}", ROOT_USER, ROOT_PASSWORD, secure=False)
    assert mc.get_bucket_replication(bucket) is None
    tags = Tags.new_bucket_tags()
    tags["team"] = "a"
    config = ReplicationConfig(ROLE, [
        # MinIO's target ARN form, naming the tier.
        Rule(status=ENABLED, rule_id="tagged", priority=5, rule_filter=Filter(and_operator=AndOperator("tagged/", tags)),
             delete_marker_replication=DeleteMarkerReplication(DISABLED),
             destination=Destination("arn:minio:replication::5d3b1c2a:cloud2")),
        # The tier's own bucket, where one tier has it; Disabled: no policy.
        Rule(status=DISABLED, rule_id="off", priority=1, rule_filter=Filter(prefix="off/"),
             delete_marker_replication=DeleteMarkerReplication(DISABLED),
             destination=Destination("arn:aws:s3:::archive2")),
    ])
    mc.set_bucket_replication(bucket, config)
    got = mc.get_bucket_replication(bucket)
    assert got.role == ROLE
    rules = {rule.rule_id: rule for rule in got.rules}
    assert set(rules) == {"tagged", "off"}
    assert rules["tagged"].priority == 5 and rules["tagged"].status == ENABLED
    assert rules["tagged"].destination.bucket_arn == "arn:minio:replication::5d3b1c2a:cloud2"
    assert rules["tagged"].rule_filter.and_operator.prefix == "tagged/"
    assert dict(rules["tagged"].rule_filter.and_operator.tags) == {"team": "a"}
    assert rules["off"].status == DISABLED and rules["off"].delete_marker_replication.status == DISABLED

    # The enabled rule is a policy with its origin, read-only in the admin API and the CLI.
    env = {"DEPOT_ENDPOINT": server.endpoint}
    policies = policies_by_name(server)
    policy = policies["s3-replication:minio-rec:tagged"]
    assert "s3-replication:minio-rec:off" not in policies
    assert policy["source"] == "s3-replication"
    assert policy["replication"] == {"bucket": bucket, "rule": "tagged", "readOnly": True}
    assert policy["match"] == {"bucket": bucket, "prefix": "tagged/", "tags": {"team": "a"}}
    wanted = {"to": ["cloud2"], "mode": "continuous", "deletes": False, "versions": "all"}
    assert {name: policy["replicate"].get(name) for name in wanted} == wanted, policy["replicate"]
    assert "deleteMarkersOnly" not in policy["replicate"]
    status, body = Admin(server.endpoint).post("/admin/v1/policies", {"name": "s3-replication:minio-rec:new",
                                                                      "match": {"bucket": bucket}})
    assert status == 409 and "PutBucketReplication" in str(body), body
    refused = run_depot("policy", "delete", "s3-replication:minio-rec:tagged", env=env)
    assert refused.returncode != 0 and "DeleteBucketReplication" in refused.stderr, refused.stdout + refused.stderr
    refused = run_depot("policy", "put", "s3-replication:minio-rec:tagged", "match.bucket=x", env=env)
    assert refused.returncode != 0 and "replication" in refused.stderr, refused.stdout + refused.stderr
    listed = run_depot("policy", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "s3-replication:minio-rec:tagged" in listed.stdout and "cloud2" in listed.stdout, listed.stdout

    # It acts: a tagged object goes to cloud2 (moto's archive2), an untagged one does not.
    s3.put_object(Bucket=bucket, Key="tagged/a.mp4", Body=b"A" * 1000, Tagging="team=a")
    s3.put_object(Bucket=bucket, Key="tagged/b.mp4", Body=b"B" * 1000)
    wait_for_replication(s3, bucket, "tagged/a.mp4")
    assert remote(tier, "archive2", f"{bucket}/tagged/a.mp4") == b"A" * 1000
    assert "ReplicationStatus" not in s3.head_object(Bucket=bucket, Key="tagged/b.mp4")
    dry = run_depot("policy", "dry-run", "s3-replication:minio-rec:tagged", "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    assert [o["key"] for o in json.loads(dry.stdout)["objects"]] == ["tagged/a.mp4"], dry.stdout

    # It survives a restart and an index rebuild (a bucket document, logged with the bucket).
    server.stop()
    shutil.rmtree(os.path.join(server.data_dir, "index"))
    rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    server.start()
    assert "s3-replication:minio-rec:tagged" in policies_by_name(server)
    assert server.client().get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Role"] == ROLE
    mc = Minio(f"127.0.0.1:{server.port}", ROOT_USER, ROOT_PASSWORD, secure=False)
    mc.delete_bucket_replication(bucket)
    assert mc.get_bucket_replication(bucket) is None
    assert "s3-replication:minio-rec:tagged" not in policies_by_name(server)


def test_delete_markers_follow_the_rule_of_highest_priority(setup):
    """Two overlapping rules to one tier: `all` (priority 1) replicates delete markers, `kept/`
    (priority 2) does not. The higher priority decides for kept/ objects, as in S3."""
    server, tier, _ = setup
    s3 = server.client()
    bucket = versioned_bucket(s3, "marker-rec")
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": ROLE, "Rules": [
        {"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
         "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": {"Bucket": "arn:aws:s3:::cloud"}},
        {"ID": "kept", "Priority": 2, "Status": "Enabled", "Filter": {"Prefix": "kept/"},
         "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::cloud"}},
    ]})
    policies = policies_by_name(server)
    assert policies["s3-replication:marker-rec:all"]["match"]["yieldsTo"] == ["s3-replication:marker-rec:kept"]
    assert policies["s3-replication:marker-rec:all"]["replicate"]["deletes"] is True
    assert policies["s3-replication:marker-rec:kept"]["replicate"]["deletes"] is False
    assert policies["s3-replication:marker-rec:all"]["replicate"]["deleteMarkersOnly"] is True
    versions = {}
    for key in ("kept/x.mp4", "gone/y.mp4", "by-id/z.mp4"):
        versions[key] = s3.put_object(Bucket=bucket, Key=key, Body=key.encode() * 100)["VersionId"]
    for key in ("kept/x.mp4", "gone/y.mp4", "by-id/z.mp4"):
        wait_for_replication(s3, bucket, key)
        assert remote(tier, "archive", f"{bucket}/{key}") == key.encode() * 100
    # A DELETE naming the version is never replicated, as in S3, even under DeleteMarkerReplication.
    s3.delete_object(Bucket=bucket, Key="by-id/z.mp4", VersionId=versions["by-id/z.mp4"])
    for key in ("kept/x.mp4", "gone/y.mp4"):
        s3.delete_object(Bucket=bucket, Key=key)
    wait_for(lambda: remote(tier, "archive", f"{bucket}/gone/y.mp4") is None, what="the delete marker on the tier")
    assert remote(tier, "archive", f"{bucket}/kept/x.mp4") == b"kept/x.mp4" * 100
    assert remote(tier, "archive", f"{bucket}/by-id/z.mp4") == b"by-id/z.mp4" * 100


def error_of(response):
    root = ET.fromstring(response.content)
    return root.findtext("Code"), root.findtext("Message")


def rule_xml(destination="arn:aws:s3:::cloud", extra=b"", filter_=b"<Filter><Prefix>a/</Prefix></Filter>",
             marker=b"<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>", rule_id=b"r"):
    return (b"<Rule><ID>" + rule_id + b"</ID><Priority>1</Priority><Status>Enabled</Status>" + filter_ + marker +
            b"<Destination><Bucket>" + destination.encode() + b"</Bucket></Destination>" + extra + b"</Rule>")


def document(*rules):
    return b"<ReplicationConfiguration><Role>" + ROLE.encode() + b"</Role>" + b"".join(rules) + b"</ReplicationConfiguration>"


INVALID = [
    (b"<ReplicationConfiguration><Role>x</Role></ReplicationConfiguration>", 400, "MalformedXML", None),
    (b"<ReplicationConfiguration><Rule><Status>Enabled</Status></Rule></ReplicationConfiguration>", 400,
     "MalformedXML", None),
    (b"not xml at all", 400, "MalformedXML", None),
    (document(rule_xml(extra=b"<Unknown/>")), 400, "MalformedXML", None),
    (document(rule_xml(marker=b"<DeleteMarkerReplication><Status>Maybe</Status></DeleteMarkerReplication>")), 400,
     "MalformedXML", None),
    (document(rule_xml(destination="arn:aws:s3:::no-such-tier")), 400, "InvalidRequest", "arn:aws:s3:::no-such-tier"),
    (document(rule_xml(destination="arn:aws:s3:::archive")), 400, "InvalidRequest", "cloud, cloud-b"),
    (document(rule_xml(destination="cloud")), 400, "InvalidArgument", "'cloud'"),
    (document(rule_xml(marker=b"")), 400, "InvalidRequest", "DeleteMarkerReplication"),
    (document(rule_xml(filter_=b"<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>",
                       marker=b"<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication>")),
     400, "InvalidRequest", "Tag"),
    (document(rule_xml(rule_id=b"one"), rule_xml(rule_id=b"two")), 400, "InvalidRequest", "priority 1"),
    (document(rule_xml(), rule_xml()), 400, "InvalidArgument", "unique"),
    (document(rule_xml(extra=b"<ExistingObjectReplication><Status>Enabled</Status></ExistingObjectReplication>")),
     501, "NotImplemented", "ExistingObjectReplication"),
    (document(rule_xml(extra=b"<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status>"
                             b"</SseKmsEncryptedObjects></SourceSelectionCriteria>")),
     501, "NotImplemented", "SourceSelectionCriteria"),
    (document(rule_xml(filter_=b"<Filter><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter>")), 400,
     "MalformedXML", None),
]


def test_refusals_are_s3s_and_change_nothing(setup):
    server, _, _ = setup
    s3 = server.client()
    bucket = versioned_bucket(s3, "refused-rec")
    kept = {"Role": ROLE, "Rules": [{"ID": "kept", "Priority": 3, "Status": "Enabled", "Filter": {"Prefix": "k/"},
                                     "DeleteMarkerReplication": {"Status": "Enabled"},
                                     "Destination": {"Bucket": "arn:aws:s3:::cloud-b"}}]}
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=kept)
    for body, status, code, named in INVALID:
        response = signed(server, "PUT", f"/{bucket}?replication", body)
        assert response.status_code == status, (body[:160], response.text)
        got_code, message = error_of(response)
        assert got_code == code, (body[:160], response.text)
        if named:
            assert named in message, (body[:160], message)
    assert s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"] == kept
    # Two rules to different tiers may share a priority; a V1 rule (top-level Prefix) replicates
    # delete markers, as S3's V1 schema does.
    ok = document(rule_xml(rule_id=b"one"), rule_xml(rule_id=b"two", destination="arn:aws:s3:::archive2"))
    assert signed(server, "PUT", f"/{bucket}?replication", ok).status_code == 200
    v1 = (b"<ReplicationConfiguration><Role/><Rule><ID>v1</ID><Prefix>old/</Prefix><Status>Enabled</Status>"
          b"<Destination><Bucket>arn:aws:s3:::cloud</Bucket></Destination></Rule></ReplicationConfiguration>")
    assert signed(server, "PUT", f"/{bucket}?replication", v1).status_code == 200
    assert policies_by_name(server)["s3-replication:refused-rec:v1"]["replicate"]["deletes"] is True
    (rule,) = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"]
    assert rule["Prefix"] == "old/" and "Filter" not in rule
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        s3.get_bucket_replication(Bucket="no-such-bucket-here")
    assert missing.value.response["Error"]["Code"] == "NoSuchBucket"
    # Deleting the bucket drops its rules from the policies in effect.
    s3.delete_bucket_replication(Bucket=bucket)
    s3.delete_bucket_replication(Bucket=bucket)  # none: still 204
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=kept)
    assert "s3-replication:refused-rec:kept" in policies_by_name(server)
    s3.delete_bucket(Bucket=bucket)
    assert "s3-replication:refused-rec:kept" not in policies_by_name(server)
