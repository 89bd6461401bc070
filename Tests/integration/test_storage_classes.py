"""Storage classes are tiers (issue 18 #2): a tier declares a class (`storageClass: GLACIER_IR`);
`x-amz-storage-class` accepts STANDARD and declared classes (anything else 400 InvalidStorageClass,
nothing stored); an object put in a class is copied to its tier and its local copy evicted; a
lifecycle Transition (awscli, minio) is an s3-lifecycle policy that moves due objects to the
class's tier; a moved object reports its class in HEAD, GET and every listing and reads back
byte-identical from the tier. Real server, real moto_server tier."""
import json
import os
import subprocess
import time

import botocore.exceptions
import pytest

from admin_client import Admin
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, aws_env, run_depot
from test_tiering import moto  # noqa: F401  (a fixture)

DAY = 86400


def config_text(moto_endpoint):
    return f"""
storage: {{ lifecycleInterval: 1s }}
buckets: [rec]
tiers:
  - {{ name: cold, type: s3, endpoint: "{moto_endpoint}", bucket: archive, accessKey: tier-key, secretKey: tier-secret,
       storageClass: GLACIER_IR }}
"""


def start(tmp_path, moto_endpoint, offset_days=0):
    config = tmp_path / "depot.yaml"
    config.write_text(config_text(moto_endpoint))
    env = {"DEPOT_CLOCK_OFFSET_SECONDS": str(offset_days * DAY)} if offset_days else None
    return DepotServer(config=str(config), extra_env=env).start()


def local_copy(s3, key):
    return s3.head_object(Bucket="rec", Key=key)["ResponseMetadata"]["HTTPHeaders"].get("x-depot-local-copy")


def wait_evicted(s3, *keys, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline and not all(local_copy(s3, key) == "evicted" for key in keys):
        time.sleep(0.25)
    assert [local_copy(s3, key) for key in keys] == ["evicted"] * len(keys)


def refused(call, code):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == code, error.value.response
    return error.value.response


def classes_listed(s3):
    v2 = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket="rec").get("Contents", [])}
    v1 = {o["Key"]: o["StorageClass"] for o in s3.list_objects(Bucket="rec").get("Contents", [])}
    versions = {v["Key"]: v["StorageClass"] for v in s3.list_object_versions(Bucket="rec").get("Versions", [])}
    assert v1 == v2 == versions, (v1, v2, versions)
    return v2


def test_lifecycle_transition_moves_due_objects_to_the_class_tier(tmp_path, moto):  # noqa: F811
    """awscli sets a Transition; it is an s3-lifecycle policy; with the clock three days on, the
    objects it covers move to the moto tier and report GLACIER_IR, the others stay STANDARD."""
    moto_endpoint, tier = moto
    server = start(tmp_path, moto_endpoint, offset_days=3)
    try:
        s3 = server.client()
        old = os.urandom(6 * 1024 * 1024 + 5)
        s3.put_object(Bucket="rec", Key="old/a.bin", Body=old)
        s3.put_object(Bucket="rec", Key="keep/b.bin", Body=b"stays local")
        rules = {"Rules": [
            {"ID": "to-glacier", "Filter": {"Prefix": "old/"}, "Status": "Enabled",
             "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]},
            {"ID": "later", "Filter": {"Prefix": "keep/"}, "Status": "Enabled",
             "Transitions": [{"Days": 30, "StorageClass": "GLACIER_IR"}]},
        ]}
        path = tmp_path / "lifecycle.json"
        path.write_text(json.dumps(rules))
        env = aws_env(server, tmp_path)

        def aws(*args):
            result = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3api", *args], env=env,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            return result.stdout
        aws("put-bucket-lifecycle-configuration", "--bucket", "rec", "--lifecycle-configuration", f"file://{path}")
        assert json.loads(aws("get-bucket-lifecycle-configuration", "--bucket", "rec"))["Rules"] == rules["Rules"]

        # The rule is a policy: admin API and `depot policy list`.
        status, body = Admin(server.endpoint).get("/admin/v1/policies")
        assert status == 200, body
        policy = {p["name"]: p for p in body["policies"]}["s3-lifecycle:rec:to-glacier"]
        assert policy["source"] == "s3-lifecycle", policy
        assert policy["replicate"]["to"] == ["cold"] and policy["transition"]["after"] == f"{DAY}s", policy
        listed = run_depot("policy", "list", env={"DEPOT_ENDPOINT": server.endpoint})
        assert listed.returncode == 0 and "s3-lifecycle:rec:to-glacier" in listed.stdout, listed.stdout + listed.stderr

        wait_evicted(s3, "old/a.bin")
        assert tier.get_object(Bucket="archive", Key="old/a.bin")["Body"].read() == old
        head = s3.head_object(Bucket="rec", Key="old/a.bin")
        assert head["StorageClass"] == "GLACIER_IR"
        got = s3.get_object(Bucket="rec", Key="old/a.bin")
        assert got["StorageClass"] == "GLACIER_IR" and got["Body"].read() == old
        ranged = s3.get_object(Bucket="rec", Key="old/a.bin", Range="bytes=1000-2000000")["Body"].read()
        assert ranged == old[1000:2000001]
        # Not due (30 days): local, STANDARD, no header, as S3 leaves it out.
        assert local_copy(s3, "keep/b.bin") == "present"
        assert "StorageClass" not in s3.head_object(Bucket="rec", Key="keep/b.bin")
        assert classes_listed(s3) == {"old/a.bin": "GLACIER_IR", "keep/b.bin": "STANDARD"}
        attributes = s3.get_object_attributes(Bucket="rec", Key="old/a.bin", ObjectAttributes=["StorageClass"])
        assert attributes["StorageClass"] == "GLACIER_IR"

        # After a restart it still reports its class and reads back.
        server.restart()
        s3 = server.client()
        assert s3.head_object(Bucket="rec", Key="old/a.bin")["StorageClass"] == "GLACIER_IR"
        assert s3.get_object(Bucket="rec", Key="old/a.bin")["Body"].read() == old

        # Deleting the moved object deletes it from its class's tier too.
        s3.delete_object(Bucket="rec", Key="old/a.bin")
        deadline = time.time() + 30
        while time.time() < deadline and tier.list_objects_v2(Bucket="archive").get("KeyCount", 0):
            time.sleep(0.25)
        assert tier.list_objects_v2(Bucket="archive").get("KeyCount", 0) == 0
    finally:
        server.cleanup()


def test_transition_to_an_unknown_class_is_refused(tmp_path, moto):  # noqa: F811
    moto_endpoint, _ = moto
    server = start(tmp_path, moto_endpoint)
    try:
        s3 = server.client()
        kept = [{"ID": "kept", "Filter": {"Prefix": "a/"}, "Status": "Enabled",
                 "Transitions": [{"Days": 7, "StorageClass": "GLACIER_IR"}]}]
        s3.put_bucket_lifecycle_configuration(Bucket="rec", LifecycleConfiguration={"Rules": kept})
        response = refused(lambda: s3.put_bucket_lifecycle_configuration(Bucket="rec", LifecycleConfiguration={"Rules": [
            {"ID": "t", "Filter": {"Prefix": ""}, "Status": "Enabled",
             "Transitions": [{"Days": 30, "StorageClass": "DEEP_ARCHIVE"}]}]}), "InvalidStorageClass")
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "DEEP_ARCHIVE" in response["Error"]["Message"]
        # Nothing changed.
        assert s3.get_bucket_lifecycle_configuration(Bucket="rec")["Rules"] == kept
        # A dated Transition: the policy shows its date.
        import datetime
        dated = [{"ID": "dated", "Filter": {"Prefix": "d/"}, "Status": "Enabled",
                  "Transitions": [{"Date": datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
                                   "StorageClass": "GLACIER_IR"}]}]
        s3.put_bucket_lifecycle_configuration(Bucket="rec", LifecycleConfiguration={"Rules": dated})
        (rule,) = s3.get_bucket_lifecycle_configuration(Bucket="rec")["Rules"]
        assert rule["Transitions"][0]["Date"].year == 2030 and rule["Transitions"][0]["StorageClass"] == "GLACIER_IR"
        status, body = Admin(server.endpoint).get("/admin/v1/policies")
        policy = {p["name"]: p for p in body["policies"]}["s3-lifecycle:rec:dated"]
        assert status == 200 and policy["transition"] == {"at": "2030-01-01T00:00:00.000Z"}, policy
        # Older versions are not moved: 501 naming the element.
        response = refused(lambda: s3.put_bucket_lifecycle_configuration(Bucket="rec", LifecycleConfiguration={"Rules": [
            {"ID": "nc", "Filter": {"Prefix": ""}, "Status": "Enabled",
             "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER_IR"}]}]}), "NotImplemented")
        assert "NoncurrentVersionTransition" in response["Error"]["Message"]
    finally:
        server.cleanup()


def test_minio_client_sets_a_transition(tmp_path, moto):  # noqa: F811
    from minio import Minio
    from minio.commonconfig import ENABLED, Filter
    from minio.error import S3Error
    from minio.lifecycleconfig import LifecycleConfig, Rule, Transition

    moto_endpoint, tier = moto
    server = start(tmp_path, moto_endpoint, offset_days=2)
    try:
        s3 = server.client()
        data = os.urandom(300_000)
        s3.put_object(Bucket="rec", Key="mc/clip.mp4", Body=data)
        client = Minio(f"127.0.0.1:{server.port}", ROOT_USER, ROOT_PASSWORD, secure=False)
        client.set_bucket_lifecycle("rec", LifecycleConfig([
            Rule(ENABLED, rule_filter=Filter(prefix="mc/"), rule_id="mc",
                 transition=Transition(days=1, storage_class="GLACIER_IR")),
        ]))
        (rule,) = client.get_bucket_lifecycle("rec").rules
        assert rule.transition.days == 1 and rule.transition.storage_class == "GLACIER_IR"
        wait_evicted(s3, "mc/clip.mp4")
        assert client.stat_object("rec", "mc/clip.mp4").metadata.get("x-amz-storage-class") == "GLACIER_IR"
        assert client.get_object("rec", "mc/clip.mp4").read() == data
        with pytest.raises(S3Error) as error:
            client.set_bucket_lifecycle("rec", LifecycleConfig([
                Rule(ENABLED, rule_filter=Filter(prefix="x/"), rule_id="x",
                     transition=Transition(days=1, storage_class="NOWHERE")),
            ]))
        assert error.value.code == "InvalidStorageClass"
    finally:
        server.cleanup()


def test_put_in_a_declared_class_moves_the_object_to_its_tier(tmp_path, moto):  # noqa: F811
    """PUT, multipart, awscli and a copy onto itself with x-amz-storage-class: GLACIER_IR store the
    object, copy it to the class's tier and evict the local copy; STANDARD stays local; any other
    class is 400 InvalidStorageClass before the body is stored."""
    moto_endpoint, tier = moto
    server = start(tmp_path, moto_endpoint)
    try:
        s3 = server.client()
        put = os.urandom(2 * 1024 * 1024 + 1)
        s3.put_object(Bucket="rec", Key="put.bin", Body=put, StorageClass="GLACIER_IR")
        # In its class from the PUT on, as AWS stores it directly into the class.
        assert s3.head_object(Bucket="rec", Key="put.bin")["StorageClass"] == "GLACIER_IR"
        upload = s3.create_multipart_upload(Bucket="rec", Key="multi.bin", StorageClass="GLACIER_IR")["UploadId"]
        assert [u["StorageClass"] for u in s3.list_multipart_uploads(Bucket="rec")["Uploads"]] == ["GLACIER_IR"]
        assert s3.list_parts(Bucket="rec", Key="multi.bin", UploadId=upload)["StorageClass"] == "GLACIER_IR"
        parts = [os.urandom(5 * 1024 * 1024), os.urandom(1234)]
        etags = [s3.upload_part(Bucket="rec", Key="multi.bin", UploadId=upload, PartNumber=i + 1, Body=p)["ETag"]
                 for i, p in enumerate(parts)]
        s3.complete_multipart_upload(Bucket="rec", Key="multi.bin", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
        cli_file = tmp_path / "cli.bin"
        cli = os.urandom(70_000)
        cli_file.write_bytes(cli)
        result = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3", "cp", str(cli_file), "s3://rec/cli.bin",
                                 "--storage-class", "GLACIER_IR"], env=aws_env(server, tmp_path),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        s3.put_object(Bucket="rec", Key="plain.bin", Body=b"standard", StorageClass="STANDARD")
        s3.put_object(Bucket="rec", Key="moved-later.bin", Body=b"copied onto itself")
        s3.copy_object(Bucket="rec", Key="moved-later.bin", CopySource="rec/moved-later.bin", StorageClass="GLACIER_IR")

        wait_evicted(s3, "put.bin", "multi.bin", "cli.bin", "moved-later.bin")
        assert local_copy(s3, "plain.bin") == "present"
        assert "StorageClass" not in s3.head_object(Bucket="rec", Key="plain.bin")
        expected = {"put.bin": put, "multi.bin": b"".join(parts), "cli.bin": cli, "moved-later.bin": b"copied onto itself"}
        for key, data in expected.items():
            got = s3.get_object(Bucket="rec", Key=key)
            assert got["StorageClass"] == "GLACIER_IR" and got["Body"].read() == data, key
            assert tier.get_object(Bucket="archive", Key=key)["Body"].read() == data, key
        assert classes_listed(s3) == dict({key: "GLACIER_IR" for key in expected}, **{"plain.bin": "STANDARD"})

        # A copy without a class is STANDARD, as in S3 (its bytes come back from the tier).
        s3.copy_object(Bucket="rec", Key="back.bin", CopySource="rec/put.bin")
        back = s3.head_object(Bucket="rec", Key="back.bin")
        assert "StorageClass" not in back and back["ResponseMetadata"]["HTTPHeaders"]["x-depot-local-copy"] == "present"
        assert s3.get_object(Bucket="rec", Key="back.bin")["Body"].read() == put

        # Classes no tier declares, on every door: refused, nothing stored.
        for call in [
            lambda: s3.put_object(Bucket="rec", Key="bad.bin", Body=b"x", StorageClass="DEEP_ARCHIVE"),
            lambda: s3.put_object(Bucket="rec", Key="bad.bin", Body=b"x", StorageClass="STANDARD_IA"),
            lambda: s3.copy_object(Bucket="rec", Key="bad.bin", CopySource="rec/plain.bin", StorageClass="GLACIER"),
            lambda: s3.create_multipart_upload(Bucket="rec", Key="bad.bin", StorageClass="ONEZONE_IA"),
        ]:
            response = refused(call, "InvalidStorageClass")
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        refused(lambda: s3.head_object(Bucket="rec", Key="bad.bin"), "404")
        assert not s3.list_multipart_uploads(Bucket="rec").get("Uploads")

        # A POST form may name the class too.
        form = s3.generate_presigned_post("rec", "form.bin", Fields={"x-amz-storage-class": "GLACIER_IR"},
                                          Conditions=[{"x-amz-storage-class": "GLACIER_IR"}])
        import requests
        answer = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"form body")}, timeout=30)
        assert answer.status_code in (200, 204), answer.text
        wait_evicted(s3, "form.bin")
        assert s3.get_object(Bucket="rec", Key="form.bin")["Body"].read() == b"form body"
        bad = s3.generate_presigned_post("rec", "form-bad.bin", Fields={"x-amz-storage-class": "COLD"},
                                         Conditions=[{"x-amz-storage-class": "COLD"}])
        answer = requests.post(bad["url"], data=bad["fields"], files={"file": ("f", b"x")}, timeout=30)
        assert answer.status_code == 400 and "InvalidStorageClass" in answer.text, answer.text
        refused(lambda: s3.head_object(Bucket="rec", Key="form-bad.bin"), "404")

        # Deleting an object put in the class deletes its tier copy.
        s3.delete_object(Bucket="rec", Key="put.bin")
        deadline = time.time() + 30
        while time.time() < deadline and "put.bin" in {o["Key"] for o in tier.list_objects_v2(Bucket="archive").get("Contents", [])}:
            time.sleep(0.25)
        assert "put.bin" not in {o["Key"] for o in tier.list_objects_v2(Bucket="archive").get("Contents", [])}
    finally:
        server.cleanup()


def test_tier_storage_class_settings_are_checked(tmp_path, moto):  # noqa: F811
    """Two tiers cannot declare one class, STANDARD is the local store's: config errors naming
    the field, and the admin API's 400 naming storageClass; the API shows a tier's class."""
    moto_endpoint, _ = moto
    for extra, named in [
        (f"""  - {{ name: other, type: filesystem, path: "{tmp_path}", storageClass: GLACIER_IR }}\n""",
         "tiers[1].storageClass"),
        (f"""  - {{ name: other, type: filesystem, path: "{tmp_path}", storageClass: STANDARD }}\n""",
         "tiers[1].storageClass"),
        (f"""  - {{ name: other, type: filesystem, path: "{tmp_path}", storageClass: glacier }}\n""",
         "tiers[1].storageClass"),
    ]:
        config = tmp_path / "bad.yaml"
        config.write_text(config_text(moto_endpoint) + extra)
        checked = run_depot("config", "check", str(config))
        assert checked.returncode != 0 and named in checked.stdout + checked.stderr, checked.stdout + checked.stderr
    server = start(tmp_path, moto_endpoint)
    try:
        admin = Admin(server.endpoint)
        status, body = admin.get("/admin/v1/tiers/cold")
        assert status == 200 and body["storageClass"] == "GLACIER_IR", body
        status, body = admin.put("/admin/v1/tiers/nas", {"type": "filesystem", "path": str(tmp_path), "storageClass": "GLACIER_IR"})
        assert status == 400 and "storageClass" in json.dumps(body), body
        status, body = admin.put("/admin/v1/tiers/nas", {"type": "filesystem", "path": str(tmp_path), "storageClass": "NAS"})
        assert status in (200, 201) and body["storageClass"] == "NAS", body
        # The CLI: `depot tier put` takes the field, `depot tier list` shows each tier's class.
        env = {"DEPOT_ENDPOINT": server.endpoint}
        put = run_depot("tier", "put", "cli", "type=filesystem", f"path={tmp_path}", "storageClass=GLACIER_IR", env=env)
        assert put.returncode != 0 and "storageClass" in put.stdout + put.stderr, put.stdout + put.stderr
        listed = run_depot("tier", "list", env=env)
        assert listed.returncode == 0, listed.stderr
        rows = {line.split()[0]: line.split()[2] for line in listed.stdout.splitlines()[1:]}
        assert rows == {"cold": "GLACIER_IR", "nas": "NAS"}, listed.stdout
        # The new class is accepted at once.
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="nas.bin", Body=b"to the nas", StorageClass="NAS")
        wait_evicted(s3, "nas.bin")
        assert s3.head_object(Bucket="rec", Key="nas.bin")["StorageClass"] == "NAS"
        assert s3.get_object(Bucket="rec", Key="nas.bin")["Body"].read() == b"to the nas"
    finally:
        server.cleanup()


def test_versions_put_in_a_class_keep_their_own_bytes(tmp_path, moto):  # noqa: F811
    """In a versioned bucket each version put in a class is evicted; an older one still reads back
    its own bytes (from its own copy on the tier), not the newer version's."""
    moto_endpoint, tier = moto
    server = start(tmp_path, moto_endpoint)
    try:
        s3 = server.client()
        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        first, second = os.urandom(100_000), os.urandom(120_000)
        v1 = s3.put_object(Bucket="rec", Key="cam/v.mp4", Body=first, StorageClass="GLACIER_IR")["VersionId"]
        wait_evicted(s3, "cam/v.mp4")
        v2 = s3.put_object(Bucket="rec", Key="cam/v.mp4", Body=second, StorageClass="GLACIER_IR")["VersionId"]
        wait_evicted(s3, "cam/v.mp4")
        assert s3.get_object(Bucket="rec", Key="cam/v.mp4")["Body"].read() == second
        old = s3.get_object(Bucket="rec", Key="cam/v.mp4", VersionId=v1)
        assert old["StorageClass"] == "GLACIER_IR" and old["Body"].read() == first
        assert s3.get_object(Bucket="rec", Key="cam/v.mp4", VersionId=v2)["Body"].read() == second
        versions = s3.list_object_versions(Bucket="rec")["Versions"]
        assert sorted(v["StorageClass"] for v in versions) == ["GLACIER_IR", "GLACIER_IR"]
    finally:
        server.cleanup()


def test_a_class_moved_to_another_tier_takes_its_waiting_objects_along(tmp_path, moto):  # noqa: F811
    """An object put in a class whose tier never answered, then was removed: when another tier
    declares the class, the object is copied there and evicted (the sweep after the change)."""
    from backends import free_port

    moto_endpoint, _ = moto
    server = start(tmp_path, moto_endpoint)
    try:
        admin = Admin(server.endpoint)
        status, body = admin.put("/admin/v1/tiers/dead", {
            "type": "s3", "endpoint": f"http://127.0.0.1:{free_port()}", "bucket": "gone", "accessKey": "k",
            "secretKey": "s", "storageClass": "OFFSITE"})
        assert status == 201, body
        s3 = server.client()
        data = os.urandom(50_000)
        s3.put_object(Bucket="rec", Key="waiting.bin", Body=data, StorageClass="OFFSITE")
        time.sleep(1.5)
        assert local_copy(s3, "waiting.bin") == "present"
        status, body = admin.delete("/admin/v1/tiers/dead")
        assert status == 200, body
        nas = tmp_path / "nas"
        nas.mkdir()
        status, body = admin.put("/admin/v1/tiers/nas", {"type": "filesystem", "path": str(nas), "storageClass": "OFFSITE"})
        assert status == 201, body
        wait_evicted(s3, "waiting.bin", timeout=30)
        assert (nas / "waiting.bin").read_bytes() == data
        got = s3.get_object(Bucket="rec", Key="waiting.bin")
        assert got["StorageClass"] == "OFFSITE" and got["Body"].read() == data
    finally:
        server.cleanup()


def test_a_rule_whose_class_is_gone_keeps_its_expiry(tmp_path, moto):  # noqa: F811
    """When no tier declares a rule's Transition class any more, the Transition stops and the
    rule's Expiration goes on: the policy keeps its expiry and x-amz-expiration (read from the
    rules in effect) still names the rule; with the class back, the policy moves objects again."""
    moto_endpoint, _ = moto
    server = start(tmp_path, moto_endpoint)
    try:
        s3 = server.client()
        s3.put_bucket_lifecycle_configuration(Bucket="rec", LifecycleConfiguration={"Rules": [
            {"ID": "mixed", "Filter": {"Prefix": "cam/"}, "Status": "Enabled", "Expiration": {"Days": 30},
             "Transitions": [{"Days": 7, "StorageClass": "GLACIER_IR"}]}]})
        s3.put_object(Bucket="rec", Key="cam/a.mp4", Body=b"a")
        admin = Admin(server.endpoint)

        def mixed():
            status, body = admin.get("/admin/v1/policies")
            assert status == 200, body
            return {p["name"]: p for p in body["policies"]}["s3-lifecycle:rec:mixed"]
        assert mixed()["replicate"]["to"] == ["cold"] and mixed()["transition"] == {"after": f"{7 * DAY}s"}
        assert 'rule-id="mixed"' in s3.head_object(Bucket="rec", Key="cam/a.mp4")["Expiration"]
        # The file's tier replaced through the API with another class.
        status, body = admin.put("/admin/v1/tiers/cold", {
            "type": "s3", "endpoint": moto_endpoint, "bucket": "archive", "accessKey": "tier-key",
            "secretKey": "tier-secret", "storageClass": "DEEP"})
        assert status == 200, body
        policy = mixed()
        assert "transition" not in policy and "replicate" not in policy and policy["expire"]["after"] == f"{30 * DAY}s", policy
        assert 'rule-id="mixed"' in s3.head_object(Bucket="rec", Key="cam/a.mp4")["Expiration"]
        status, body = admin.delete("/admin/v1/tiers/cold")
        assert status == 200, body
        assert mixed()["replicate"]["to"] == ["cold"]
    finally:
        server.cleanup()
