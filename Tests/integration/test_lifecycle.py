"""S3 lifecycle configuration (issue 18 #1) on the real server, driven by boto3 as `aws s3api` and
Terraform send it: Put/Get/DeleteBucketLifecycle round trip; S3's validation errors; each enabled
rule a Depot policy (origin s3-lifecycle) in `depot policy list`, `dry-run` and the admin API,
refused for edits there; `x-amz-expiration` on HEAD, GET and PUT; the rules survive a restart and
`fsck --rebuild-index`, and act: with the retention clock moved forward (DEPOT_CLOCK_OFFSET_SECONDS)
matching objects expire and stale multipart uploads are aborted. What Depot does not carry out is
501 naming the element (versioned-bucket rules: test_lifecycle_versions.py)."""
import datetime
import hashlib
import json
import os
import shutil
import time
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from admin_client import Admin
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot

RULES = [
    {"ID": "tmp-1d", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
    {"ID": "tagged", "Status": "Enabled", "Expiration": {"Days": 1},
     "Filter": {"And": {"Prefix": "tag/", "Tags": [{"Key": "class", "Value": "scratch"}], "ObjectSizeGreaterThan": 10}}},
    {"ID": "dated", "Filter": {"Tag": {"Key": "class", "Value": "dated"}}, "Status": "Enabled",
     "Expiration": {"Date": datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)}},
    {"ID": "off", "Filter": {"Prefix": "keep/"}, "Status": "Disabled", "Expiration": {"Days": 1}},
]


def signed(server, method, path, data=b"", headers=None):
    """A SigV4-signed request built by hand: for bodies boto3 would never send."""
    headers = dict({"x-amz-content-sha256": hashlib.sha256(data).hexdigest()}, **(headers or {}))
    request = AWSRequest(method=method, url=f"{server.endpoint}{path}", data=data, headers=headers)
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    return requests.request(method, f"{server.endpoint}{path}", headers=dict(request.headers), data=data, timeout=15)


def error_of(response):
    root = ET.fromstring(response.content)
    return root.findtext("Code"), root.findtext("Message")


def rules_of(s3, bucket):
    try:
        return s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchLifecycleConfiguration", error.response
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        return None


def by_id(rules):
    return {rule["ID"]: rule for rule in rules}


def test_round_trip_and_delete(depot, s3):
    s3.create_bucket(Bucket="lc-round-trip")
    assert rules_of(s3, "lc-round-trip") is None
    s3.put_bucket_lifecycle_configuration(Bucket="lc-round-trip", LifecycleConfiguration={"Rules": RULES})
    got = by_id(rules_of(s3, "lc-round-trip"))
    assert set(got) == {"tmp-1d", "tagged", "dated", "off"}
    assert got["tmp-1d"]["Filter"] == {"Prefix": "tmp/"} and got["tmp-1d"]["Expiration"] == {"Days": 1}
    assert got["tmp-1d"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert got["tagged"]["Filter"] == RULES[1]["Filter"]
    assert got["dated"]["Expiration"]["Date"] == RULES[2]["Expiration"]["Date"]
    assert got["off"]["Status"] == "Disabled"
    # The legacy top-level Prefix, and a rule without an ID (S3 makes one up).
    legacy = b"""<LifecycleConfiguration><Rule><Prefix>old/</Prefix><Status>Enabled</Status>
        <Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>"""
    assert signed(depot, "PUT", "/lc-round-trip?lifecycle", legacy).status_code == 200
    (rule,) = rules_of(s3, "lc-round-trip")
    assert rule["Prefix"] == "old/" and len(rule["ID"]) == 48 and rule["Expiration"] == {"Days": 7}
    s3.delete_bucket_lifecycle(Bucket="lc-round-trip")
    assert rules_of(s3, "lc-round-trip") is None
    s3.delete_bucket_lifecycle(Bucket="lc-round-trip")  # none: still 204
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        s3.get_bucket_lifecycle_configuration(Bucket="no-such-bucket-here")
    assert missing.value.response["Error"]["Code"] == "NoSuchBucket"


INVALID = [
    (b"<LifecycleConfiguration/>", 400, "MalformedXML", None),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"
     b"</Rule></LifecycleConfiguration>", 400, "MalformedXML", None),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix/><Status>Maybe</Status><Expiration><Days>1</Days></Expiration>"
     b"</Rule></LifecycleConfiguration>", 400, "MalformedXML", None),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>"
     b"</Rule></LifecycleConfiguration>", 400, "InvalidArgument", "Expiration.Days"),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix/><Status>Enabled</Status>"
     b"<Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>",
     400, "InvalidArgument", "Expiration.Date"),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix/><Status>Enabled</Status></Rule></LifecycleConfiguration>",
     400, "InvalidRequest", "action"),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Filter><And><ObjectSizeGreaterThan>9</ObjectSizeGreaterThan>"
     b"<ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>"
     b"<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>",
     400, "InvalidArgument", "ObjectSizeGreaterThan"),
    (b"<LifecycleConfiguration>" + b"<Rule><ID>same</ID><Prefix/><Status>Enabled</Status><Expiration><Days>1</Days>"
     b"</Expiration></Rule>" * 2 + b"</LifecycleConfiguration>", 400, "InvalidArgument", "unique"),
    (b"<LifecycleConfiguration>" + b"".join(
        b"<Rule><ID>r%d</ID><Prefix/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>" % i
        for i in range(1001)) + b"</LifecycleConfiguration>", 400, "InvalidArgument", "1000"),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix/><Status>Enabled</Status>"
     b"<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>"
     b"</Rule></LifecycleConfiguration>", 400, "InvalidArgument", "NoncurrentDays"),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix/><Status>Enabled</Status>"
     b"<NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays><NewerNoncurrentVersions>101"
     b"</NewerNoncurrentVersions></NoncurrentVersionExpiration>"
     b"</Rule></LifecycleConfiguration>", 400, "InvalidArgument", "NewerNoncurrentVersions"),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix/><Status>Enabled</Status>"
     b"<Expiration><Days>3</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"
     b"</Rule></LifecycleConfiguration>", 400, "InvalidArgument", "ExpiredObjectDeleteMarker"),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
     b"<Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"
     b"</Rule></LifecycleConfiguration>", 400, "InvalidArgument", "Tags"),
    (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix/><Status>Enabled</Status>"
     b"<NoncurrentVersionTransition><NoncurrentDays>3</NoncurrentDays><StorageClass>X</StorageClass>"
     b"</NoncurrentVersionTransition></Rule></LifecycleConfiguration>", 501, "NotImplemented",
     "NoncurrentVersionTransition"),
]


def test_validation_errors_are_s3s_and_change_nothing(depot, s3):
    s3.create_bucket(Bucket="lc-invalid")
    kept = [{"ID": "kept", "Filter": {"Prefix": "a/"}, "Status": "Enabled", "Expiration": {"Days": 3}}]
    s3.put_bucket_lifecycle_configuration(Bucket="lc-invalid", LifecycleConfiguration={"Rules": kept})
    for body, status, code, named in INVALID:
        response = signed(depot, "PUT", "/lc-invalid?lifecycle", body)
        assert response.status_code == status, (body[:120], response.text)
        got_code, message = error_of(response)
        assert got_code == code, (body[:120], response.text)
        if named:
            assert named in message, (body[:120], message)
    # A Transition to a class no tier declares (test_storage_classes.py has tiers): 400 naming it.
    with pytest.raises(botocore.exceptions.ClientError) as transition:
        s3.put_bucket_lifecycle_configuration(Bucket="lc-invalid", LifecycleConfiguration={"Rules": [
            {"ID": "t", "Filter": {"Prefix": ""}, "Status": "Enabled",
             "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}]})
    assert transition.value.response["Error"]["Code"] == "InvalidStorageClass"
    assert "GLACIER" in transition.value.response["Error"]["Message"]
    assert rules_of(s3, "lc-invalid")[0]["ID"] == "kept"


def policies_by_name(admin):
    status, body = admin.get("/admin/v1/policies")
    assert status == 200, body
    return {policy["name"]: policy for policy in body["policies"]}


def test_rules_are_policies_that_act_and_survive_restart_and_rebuild(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("storage: { lifecycleInterval: 1s }\nbuckets: [rec]\n")
    server = DepotServer(config=str(config)).start()
    env = {"DEPOT_ENDPOINT": server.endpoint}
    try:
        s3 = server.client()
        admin = Admin(server.endpoint)
        s3.put_object(Bucket="rec", Key="tmp/a.mp4", Body=b"a" * 50)
        s3.put_object(Bucket="rec", Key="keep/b.mp4", Body=b"b" * 50)
        s3.put_object(Bucket="rec", Key="tag/big.mp4", Body=b"c" * 100, Tagging="class=scratch")
        s3.put_object(Bucket="rec", Key="tag/small.mp4", Body=b"d" * 5, Tagging="class=scratch")
        s3.put_object(Bucket="rec", Key="tag/untagged.mp4", Body=b"e" * 100)
        upload = s3.create_multipart_upload(Bucket="rec", Key="tmp/unfinished.mp4")["UploadId"]
        s3.put_bucket_lifecycle_configuration(Bucket="rec", LifecycleConfiguration={"Rules": RULES})

        # x-amz-expiration: the next midnight UTC after creation plus a day, and the rule.
        head = s3.head_object(Bucket="rec", Key="tmp/a.mp4")
        assert 'rule-id="tmp-1d"' in head["Expiration"], head
        expiry = datetime.datetime.strptime(head["Expiration"].split('"')[1], "%a, %d %b %Y %H:%M:%S GMT")
        created = head["LastModified"].replace(tzinfo=None)
        assert expiry.time() == datetime.time(0) and datetime.timedelta(days=1) < expiry - created <= datetime.timedelta(days=2)
        assert "Expiration" not in s3.head_object(Bucket="rec", Key="keep/b.mp4")  # its rule is disabled
        assert "Expiration" not in s3.head_object(Bucket="rec", Key="tag/small.mp4")  # not over 10 bytes
        assert 'rule-id="tagged"' in s3.get_object(Bucket="rec", Key="tag/big.mp4")["Expiration"]
        assert 'rule-id="tmp-1d"' in s3.put_object(Bucket="rec", Key="tmp/c.mp4", Body=b"c")["Expiration"]

        # The rules as policies: in the admin API, marked, and not editable there.
        names = {"s3-lifecycle:rec:tmp-1d", "s3-lifecycle:rec:tagged", "s3-lifecycle:rec:dated"}
        policies = policies_by_name(admin)
        assert names <= set(policies) and "s3-lifecycle:rec:off" not in policies, policies
        tagged = policies["s3-lifecycle:rec:tagged"]
        assert tagged["source"] == "s3-lifecycle" and tagged["lifecycle"] == {"bucket": "rec", "rule": "tagged", "readOnly": True}
        assert tagged["match"] == {"bucket": "rec", "prefix": "tag/", "tags": {"class": "scratch"}, "minSize": 11}
        assert policies["s3-lifecycle:rec:dated"]["expire"]["at"] == "2020-01-01T00:00:00.000Z"
        refused = run_depot("policy", "delete", "s3-lifecycle:rec:tmp-1d", env=env)
        assert refused.returncode != 0 and "PutBucketLifecycleConfiguration" in refused.stderr, refused.stdout + refused.stderr
        refused = run_depot("policy", "put", "s3-lifecycle:rec:tmp-1d", "match.bucket=rec", env=env)
        assert refused.returncode != 0 and "lifecycle" in refused.stderr, refused.stdout + refused.stderr
        status, body = admin.post("/admin/v1/policies", {"name": "s3-lifecycle:rec:new", "match": {"bucket": "rec"}})
        assert status == 409 and "PutBucketLifecycleConfiguration" in str(body), body

        # And in the CLI: `depot policy list` and `dry-run`.
        listed = run_depot("policy", "list", env=env)
        assert listed.returncode == 0, listed.stderr
        assert "s3-lifecycle:rec:tmp-1d" in listed.stdout and "s3-lifecycle" in listed.stdout
        dry = run_depot("policy", "dry-run", "s3-lifecycle:rec:tagged", "--json", env=env)
        assert dry.returncode == 0, dry.stderr
        matched = json.loads(dry.stdout)
        assert matched["matches"] == 1 and [o["key"] for o in matched["objects"]] == ["tag/big.mp4"], matched

        def same_everywhere():
            assert {rule["ID"] for rule in rules_of(server.client(), "rec")} == {"tmp-1d", "tagged", "dated", "off"}
            assert names <= set(policies_by_name(Admin(server.endpoint)))
        server.restart()
        same_everywhere()
        server.stop()
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        server.start()
        same_everywhere()

        # Three days later (the retention clock): the rules act, through the policy engine.
        server.stop()
        server.extra_env = {"DEPOT_CLOCK_OFFSET_SECONDS": str(3 * 86400)}
        server.start()
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="other/dated.mp4", Body=b"x", Tagging="class=dated")
        wanted = ["keep/b.mp4", "tag/small.mp4", "tag/untagged.mp4"]
        deadline = time.time() + 30
        keys = uploads = None
        while time.time() < deadline:
            keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="rec").get("Contents", []))
            uploads = [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="rec").get("Uploads", [])]
            if keys == wanted and not uploads:
                break
            time.sleep(0.3)
        assert keys == wanted and upload not in uploads, (keys, uploads)

        # Without the configuration, no lifecycle policy is left.
        s3.delete_bucket_lifecycle(Bucket="rec")
        assert not [name for name in policies_by_name(Admin(server.endpoint)) if name.startswith("s3-lifecycle:")]
    finally:
        server.cleanup()


def test_deleting_the_bucket_drops_its_rules_from_the_policies(depot, s3):
    """A new bucket of the same name must not inherit the old one's rules."""
    s3.create_bucket(Bucket="lc-gone")
    s3.put_bucket_lifecycle_configuration(Bucket="lc-gone", LifecycleConfiguration={"Rules": RULES[:1]})
    admin = Admin(depot.endpoint)
    assert "s3-lifecycle:lc-gone:tmp-1d" in policies_by_name(admin)
    s3.delete_bucket(Bucket="lc-gone")
    assert not [name for name in policies_by_name(admin) if name.startswith("s3-lifecycle:lc-gone:")]
    s3.create_bucket(Bucket="lc-gone")
    assert rules_of(s3, "lc-gone") is None


def test_awscli_and_minio_set_and_read_rules(depot, s3, tmp_path):
    """`aws s3api put-bucket-lifecycle-configuration` and minio's set_bucket_lifecycle, as sent."""
    import subprocess

    from minio import Minio
    from minio.commonconfig import ENABLED, Filter
    from minio.lifecycleconfig import AbortIncompleteMultipartUpload, Expiration, LifecycleConfig, Rule

    from conftest import aws_env

    s3.create_bucket(Bucket="lc-clients")
    rules = {"Rules": [{"ID": "cli", "Filter": {"Prefix": "cli/"}, "Status": "Enabled", "Expiration": {"Days": 2}}]}
    path = tmp_path / "lifecycle.json"
    path.write_text(json.dumps(rules))

    def aws(*args):
        result = subprocess.run(["aws", "--endpoint-url", depot.endpoint, "s3api", *args], env=aws_env(depot, tmp_path),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout
    aws("put-bucket-lifecycle-configuration", "--bucket", "lc-clients", "--lifecycle-configuration", f"file://{path}")
    assert json.loads(aws("get-bucket-lifecycle-configuration", "--bucket", "lc-clients"))["Rules"] == rules["Rules"]

    client = Minio(f"127.0.0.1:{depot.port}", ROOT_USER, ROOT_PASSWORD, secure=False)
    client.set_bucket_lifecycle("lc-clients", LifecycleConfig([
        Rule(ENABLED, rule_filter=Filter(prefix="mc/"), rule_id="mc", expiration=Expiration(days=5),
             abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(3)),
    ]))
    (rule,) = client.get_bucket_lifecycle("lc-clients").rules
    assert rule.rule_id == "mc" and rule.rule_filter.prefix == "mc/" and rule.expiration.days == 5
    assert rule.abort_incomplete_multipart_upload.days_after_initiation == 3
    assert "s3-lifecycle:lc-clients:mc" in policies_by_name(Admin(depot.endpoint))
    client.delete_bucket_lifecycle("lc-clients")
    assert client.get_bucket_lifecycle("lc-clients") is None
