"""S3 lifecycle rules for versioned buckets (issue 18 #1) on the real server: NoncurrentVersionExpiration
(NoncurrentDays, NewerNoncurrentVersions) and Expiration/ExpiredObjectDeleteMarker, set with awscli and
read back with boto3, carried out by the retention pass through the engine's delete by version id
(Object Lock keeps locked versions) once the retention clock is moved forward
(DEPOT_CLOCK_OFFSET_SECONDS); the policy fields (`expire.noncurrentAfter`, `keepNewerNoncurrent`,
`expiredDeleteMarkers`) in the admin API, its errors naming the field, and its dry run."""
import datetime
import json
import subprocess
import time

from admin_client import Admin
from conftest import DepotServer, aws_env, run_depot

DAY = 86400

RULES = {"Rules": [
    {"ID": "nc", "Filter": {"Prefix": "nc/"}, "Status": "Enabled",
     "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    {"ID": "keep2", "Filter": {"Prefix": "keep/"}, "Status": "Enabled",
     "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}},
    {"ID": "markers", "Filter": {"Prefix": "dm/"}, "Status": "Enabled",
     "Expiration": {"ExpiredObjectDeleteMarker": True}},
]}


def versions_of(s3, bucket, key):
    """(version id, is delete marker) of the key, newest first."""
    listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
    entries = [(v["VersionId"], False, v["LastModified"]) for v in listed.get("Versions", []) if v["Key"] == key]
    entries += [(m["VersionId"], True, m["LastModified"]) for m in listed.get("DeleteMarkers", []) if m["Key"] == key]
    entries.sort(key=lambda e: e[2], reverse=True)
    return [(vid, marker) for vid, marker, _ in entries]


def put_versions(s3, bucket, key, count, extra=None):
    """Puts `count` versions; `extra` maps a version's index to more put_object arguments."""
    extra = extra or {}
    ids = []
    for i in range(count):
        ids.append(s3.put_object(Bucket=bucket, Key=key, Body=f"{key} v{i}".encode() * 10, **extra.get(i, {}))["VersionId"])
        time.sleep(0.01)
    return ids


def wait_for(condition, what, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        ok, last = condition()
        if ok:
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what}: {last}")


def test_noncurrent_versions_and_expired_delete_markers(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("storage: { lifecycleInterval: 1s }\n")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="ver")
        s3.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
        s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)

        # Set with awscli as an admin would, read back with boto3 exactly.
        path = tmp_path / "lifecycle.json"
        path.write_text(json.dumps(RULES))
        for bucket in ("ver", "locked"):
            result = subprocess.run(
                ["aws", "--endpoint-url", server.endpoint, "s3api", "put-bucket-lifecycle-configuration", "--bucket",
                 bucket, "--lifecycle-configuration", f"file://{path}"],
                env=aws_env(server, tmp_path), capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
        assert s3.get_bucket_lifecycle_configuration(Bucket="ver")["Rules"] == RULES["Rules"]

        # The rules as policies, with the version fields.
        admin = Admin(server.endpoint)
        status, body = admin.get("/admin/v1/policies")
        assert status == 200, body
        policies = {p["name"]: p for p in body["policies"]}
        assert policies["s3-lifecycle:ver:nc"]["expire"]["noncurrentAfter"] == f"{DAY}s"
        assert policies["s3-lifecycle:ver:keep2"]["expire"]["keepNewerNoncurrent"] == 2
        assert policies["s3-lifecycle:ver:markers"]["expire"]["expiredDeleteMarkers"] is True

        nc = put_versions(s3, "ver", "nc/a.mp4", 3)
        keep = put_versions(s3, "ver", "keep/b.mp4", 5)
        retain = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).replace(microsecond=0)
        locked = put_versions(s3, "locked", "nc/c.mp4", 4, {
            0: {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": retain},
            1: {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": retain}})
        # dm/lone: its only version is deleted, leaving the marker alone; dm/backed keeps a version.
        lone = s3.put_object(Bucket="ver", Key="dm/lone", Body=b"x")["VersionId"]
        s3.delete_object(Bucket="ver", Key="dm/lone")
        s3.delete_object(Bucket="ver", Key="dm/lone", VersionId=lone)
        s3.put_object(Bucket="ver", Key="dm/backed", Body=b"y")
        s3.delete_object(Bucket="ver", Key="dm/backed")

        # A lone expired delete marker needs no time to pass; one with a version behind it stays.
        wait_for(lambda: (not versions_of(s3, "ver", "dm/lone"), versions_of(s3, "ver", "dm/lone")), "lone marker left")
        backed = versions_of(s3, "ver", "dm/backed")
        assert [marker for _, marker in backed] == [True, False], backed
        # Noncurrent versions are not a day old: all still there.
        assert len(versions_of(s3, "ver", "nc/a.mp4")) == 3

        # The dry run of a policy given to the admin API (exact seconds, no midnight rounding):
        # what it would remove now, and the locked versions Object Lock keeps.
        time.sleep(1.2)
        status, dry = admin.post("/admin/v1/policies/dry-run", {
            "match": {"bucket": "locked", "prefix": "nc/"}, "expire": {"noncurrentAfter": "1s"}})
        assert status == 200, dry
        report = dry["versions"]
        assert report["wouldRemove"] == 1 and report["keptByObjectLock"] == 2, report
        kept = {v["versionId"] for v in report["versions"] if "keptByObjectLock" in v}
        assert kept == {locked[0], locked[1]}, report
        status, dry = admin.post("/admin/v1/policies/dry-run", {
            "match": {"bucket": "ver", "prefix": "keep/"}, "expire": {"noncurrentAfter": "1s", "keepNewerNoncurrent": 3}})
        assert status == 200, dry
        assert [v["versionId"] for v in dry["versions"]["versions"]] == [keep[0]], dry
        # The saved rule's dry run through the CLI, before the clock moves: nothing due yet.
        env = {"DEPOT_ENDPOINT": server.endpoint}
        dry_cli = run_depot("policy", "dry-run", "s3-lifecycle:locked:nc", env=env)
        assert dry_cli.returncode == 0 and "versions: 0 to remove" in dry_cli.stdout, dry_cli.stdout + dry_cli.stderr
        listed = run_depot("policy", "list", env=env)
        assert listed.returncode == 0 and "s3-lifecycle:locked:nc" in listed.stdout, listed.stderr
        # Bad fields are refused naming them.
        for fields, named in [({"noncurrentAfter": "0s"}, "expire.noncurrentAfter"),
                              ({"noncurrentAfter": "1d", "keepNewerNoncurrent": 0}, "expire.keepNewerNoncurrent"),
                              ({"keepNewerNoncurrent": 2}, "expire.keepNewerNoncurrent"),
                              ({"expiredDeleteMarkers": "maybe"}, "expire.expiredDeleteMarkers")]:
            status, body = admin.post("/admin/v1/policies", {"name": "bad", "match": {"bucket": "ver"}, "expire": fields})
            assert status == 400 and named in json.dumps(body), (fields, status, body)

        # Three days later (the retention clock): each noncurrent version is past a day since it
        # was replaced, at the next midnight UTC.
        server.stop()
        server.extra_env = {"DEPOT_CLOCK_OFFSET_SECONDS": str(3 * DAY)}
        server.start()
        s3 = server.client()
        # Before the pass acts (or after: then the locked ones are all that is left), the CLI's
        # dry run of the saved rule names the locked versions Object Lock keeps.
        dry_cli = run_depot("policy", "dry-run", "s3-lifecycle:locked:nc", "--json", env={"DEPOT_ENDPOINT": server.endpoint})
        assert dry_cli.returncode == 0, dry_cli.stderr
        kept = {v["versionId"] for v in json.loads(dry_cli.stdout)["versions"]["versions"] if "keptByObjectLock" in v}
        assert kept == {locked[0], locked[1]}, dry_cli.stdout
        expected = {
            ("ver", "nc/a.mp4"): [(nc[2], False)],
            ("ver", "keep/b.mp4"): [(keep[4], False), (keep[3], False), (keep[2], False)],
            ("locked", "nc/c.mp4"): [(locked[3], False), (locked[1], False), (locked[0], False)],
            ("ver", "dm/backed"): backed,
        }

        def settled():
            got = {place: versions_of(s3, *place) for place in expected}
            return got == expected, got
        wait_for(settled, "versions after the retention pass")
        body = s3.get_object(Bucket="ver", Key="nc/a.mp4")["Body"].read()
        assert body == b"nc/a.mp4 v2" * 10
        assert s3.get_object(Bucket="locked", Key="nc/c.mp4", VersionId=locked[0])["Body"].read() == b"nc/c.mp4 v0" * 10
    finally:
        server.cleanup()


def test_minio_sets_and_reads_version_rules(depot, s3):
    """minio-py's set_bucket_lifecycle, as `mc ilm rule add --noncurrent-expire-days` sends it."""
    from minio import Minio
    from minio.commonconfig import ENABLED, Filter
    from minio.lifecycleconfig import Expiration, LifecycleConfig, NoncurrentVersionExpiration, Rule

    from conftest import ROOT_PASSWORD, ROOT_USER

    s3.create_bucket(Bucket="lcv-minio")
    s3.put_bucket_versioning(Bucket="lcv-minio", VersioningConfiguration={"Status": "Enabled"})
    client = Minio(f"127.0.0.1:{depot.port}", ROOT_USER, ROOT_PASSWORD, secure=False)
    client.set_bucket_lifecycle("lcv-minio", LifecycleConfig([
        Rule(ENABLED, rule_filter=Filter(prefix="cam/"), rule_id="old",
             noncurrent_version_expiration=NoncurrentVersionExpiration(noncurrent_days=7, newer_noncurrent_versions=3)),
        Rule(ENABLED, rule_filter=Filter(prefix=""), rule_id="markers",
             expiration=Expiration(expired_object_delete_marker=True)),
    ]))
    rules = {rule.rule_id: rule for rule in client.get_bucket_lifecycle("lcv-minio").rules}
    assert rules["old"].noncurrent_version_expiration.noncurrent_days == 7
    assert rules["old"].noncurrent_version_expiration.newer_noncurrent_versions == 3
    assert rules["markers"].expiration.expired_object_delete_marker is True
    status, listed = Admin(depot.endpoint).get("/admin/v1/policies")
    assert status == 200, listed
    (body,) = [p for p in listed["policies"] if p["name"] == "s3-lifecycle:lcv-minio:old"]
    assert body["expire"]["noncurrentAfter"] == f"{7 * DAY}s", body
    assert body["expire"]["keepNewerNoncurrent"] == 3 and "after" not in body["expire"], body
