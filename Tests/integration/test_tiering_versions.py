"""Tiers and bucket versioning (issue 16 #4): what a tier copy of a version says about it, and
the policy's `replicate.versions` option. Real server, moto_server as an S3 tier, a filesystem tier."""
import os
import time

import pytest

from admin_client import Admin
from backends import Moto
from conftest import DepotServer
from waiting import wait_for_replication


@pytest.fixture
def moto():
    backend = Moto()
    yield backend.endpoint, backend.client
    backend.stop()


def versioned_tier_config(tmp_path, moto_endpoint, nas, versions=None, deletes=False):
    option = (f", versions: {versions}" if versions else "") + (", deletes: true" if deletes else "")
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto_endpoint}", region: us-east-1, bucket: archive,
       accessKey: tier-key, secretKey: tier-secret }}
  - {{ name: nas, type: filesystem, path: "{nas}" }}
policies:
  - name: both
    match: {{ bucket: rec }}
    replicate: {{ to: [cloud, nas], mode: continuous{option} }}
""")
    return str(config)


def nas_config(tmp_path, nas, replicate="to: [nas]", tier="", policy="", storage="", name="archive"):
    """A depot.yaml for bucket rec with one filesystem tier `nas` at `nas` (more tier options in
    `tier`) and one policy `name` replicating to it: `replicate` is its replicate block's contents,
    `policy` more of its keys; replicate=None leaves the policy out. Returns the file's path."""
    text = f"storage: {{ {storage} }}\n" if storage else ""
    tier_options = f", {tier}" if tier else ""
    text += f'buckets: [rec]\ntiers:\n  - {{ name: nas, type: filesystem, path: "{nas}"{tier_options} }}\n'
    if replicate is not None:
        more = f", {policy}" if policy else ""
        text += f"policies:\n  - {{ name: {name}, match: {{ bucket: rec }}, replicate: {{ {replicate} }}{more} }}\n"
    config = tmp_path / "depot.yaml"
    config.write_text(text)
    return str(config)


def test_replicate_versions_option_is_parsed_and_shown(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    server = DepotServer(config=nas_config(tmp_path, nas, replicate=None)).start()
    try:
        admin = Admin(server.endpoint)
        status, body = admin.put("/admin/v1/policies/p", {
            "match": {"bucket": "rec"}, "replicate": {"to": ["nas"], "versions": "sideways"}})
        assert status == 400 and body["field"] == "replicate.versions", body
        status, body = admin.put("/admin/v1/policies/p", {
            "match": {"bucket": "rec"}, "replicate": {"to": ["nas"], "versions": 3}})
        assert status == 400 and body["field"] == "replicate.versions", body
        for versions in ("current", "all"):
            status, body = admin.put("/admin/v1/policies/p", {
                "match": {"bucket": "rec"}, "replicate": {"to": ["nas"], "versions": versions}})
            assert status in (200, 201), body
            assert body["replicate"]["versions"] == versions, body
        # Without the option a policy keeps every version (an unversioned bucket sees no change).
        status, body = admin.put("/admin/v1/policies/q", {"match": {"bucket": "rec"}, "replicate": {"to": ["nas"]}})
        assert status in (200, 201), body
        assert body["replicate"]["versions"] == "all", body
    finally:
        server.cleanup()


def test_copy_of_a_version_carries_its_version_id(tmp_path, moto):
    moto_endpoint, tier = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    server = DepotServer(config=versioned_tier_config(tmp_path, moto_endpoint, nas, versions="current")).start()
    try:
        s3 = server.client()
        # Unversioned first: the copy's metadata is the user's only.
        s3.put_object(Bucket="rec", Key="plain.mp4", Body=b"plain", Metadata={"camera": "front"})
        wait_for_replication(s3, "rec", "plain.mp4")
        assert tier.head_object(Bucket="archive", Key="plain.mp4")["Metadata"] == {"camera": "front"}
        assert os.listxattr(nas / "plain.mp4").count("user.meta.depot-version-id") == 0

        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        first = os.urandom(3000)
        second = os.urandom(5000)
        v1 = s3.put_object(Bucket="rec", Key="cam.mp4", Body=first, Metadata={"camera": "front"})["VersionId"]
        wait_for_replication(s3, "rec", "cam.mp4")
        remote = tier.get_object(Bucket="archive", Key="cam.mp4")
        assert remote["Body"].read() == first
        assert remote["Metadata"] == {"camera": "front", "depot-version-id": v1}
        assert os.getxattr(nas / "cam.mp4", "user.meta.depot-version-id").decode() == v1
        # A user's own depot-version-id cannot pass for the version's.
        v2 = s3.put_object(Bucket="rec", Key="cam.mp4", Body=second,
                           Metadata={"camera": "front", "depot-version-id": "forged"})["VersionId"]
        assert v2 != v1
        wait_for_replication(s3, "rec", "cam.mp4")
        wait_for_replication(s3, "rec", "cam.mp4", VersionId=v2)
        remote = tier.get_object(Bucket="archive", Key="cam.mp4")
        assert remote["Body"].read() == second
        assert remote["Metadata"] == {"camera": "front", "depot-version-id": v2}
        assert (nas / "cam.mp4").read_bytes() == second
        assert os.getxattr(nas / "cam.mp4", "user.meta.depot-version-id").decode() == v2
    finally:
        server.cleanup()


def version_copy(key, version_id):
    return f".depot-versions/{version_id}/{key}"


def tier_keys(tier):
    return sorted(o["Key"] for o in tier.list_objects_v2(Bucket="archive").get("Contents", []))


def wait_until(predicate, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(what)


def put_versions(s3):
    """Three versions of cam.mp4 (a PUT, a copy, a multipart completion), oldest first."""
    s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
    made = []
    first = os.urandom(4000)
    made.append((s3.put_object(Bucket="rec", Key="cam.mp4", Body=first, Metadata={"camera": "front"})["VersionId"], first))
    source = os.urandom(3000)
    s3.put_object(Bucket="rec", Key="source.mp4", Body=source)
    copied = s3.copy_object(Bucket="rec", Key="cam.mp4", CopySource={"Bucket": "rec", "Key": "source.mp4"})
    made.append((copied["VersionId"], source))
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1000)]
    upload = s3.create_multipart_upload(Bucket="rec", Key="cam.mp4")["UploadId"]
    etags = [s3.upload_part(Bucket="rec", Key="cam.mp4", UploadId=upload, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    done = s3.complete_multipart_upload(Bucket="rec", Key="cam.mp4", UploadId=upload, MultipartUpload={
        "Parts": [{"ETag": e, "PartNumber": i + 1} for i, e in enumerate(etags)]})
    made.append((done["VersionId"], b"".join(parts)))
    assert len({v for v, _ in made}) == 3
    return made


def test_every_version_goes_to_the_tiers_with_its_id(tmp_path, moto):
    moto_endpoint, tier = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    server = DepotServer(config=versioned_tier_config(tmp_path, moto_endpoint, nas)).start()
    try:
        s3 = server.client()
        made = put_versions(s3)
        for version_id, _ in made:
            wait_for_replication(s3, "rec", "cam.mp4", VersionId=version_id)
        for version_id, data in made:
            remote = tier.get_object(Bucket="archive", Key=version_copy("cam.mp4", version_id))
            assert remote["Body"].read() == data, version_id
            assert remote["Metadata"]["depot-version-id"] == version_id
            copy = nas / version_copy("cam.mp4", version_id)
            assert copy.read_bytes() == data, version_id
            assert os.getxattr(copy, "user.meta.depot-version-id").decode() == version_id
        # The plain key holds the current version, as readers of the tier expect.
        assert tier.get_object(Bucket="archive", Key="cam.mp4")["Body"].read() == made[-1][1]
        assert (nas / "cam.mp4").read_bytes() == made[-1][1]
        # The admin API's object status shows each version's.
        admin = Admin(server.endpoint)
        status, body = admin.get(f"/admin/v1/buckets/rec/objects/cam.mp4?versionId={made[0][0]}")
        assert status == 200, body
        assert body["versionId"] == made[0][0] and body["size"] == len(made[0][1]), body
        assert body["replicationStatus"] == "COMPLETED", body
        assert sorted(r["tier"] for r in body["replicas"] if r["state"] == "COMPLETED") == ["cloud", "nas"], body
        assert admin.get("/admin/v1/buckets/rec/objects/cam.mp4?versionId=bogus")[1]["field"] == "versionId"
        assert admin.get("/admin/v1/buckets/rec/objects/cam.mp4?versionId=00000000000000ff")[0] == 404
    finally:
        server.cleanup()


def test_current_only_policy_sends_no_older_version(tmp_path, moto):
    moto_endpoint, tier = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    server = DepotServer(config=versioned_tier_config(tmp_path, moto_endpoint, nas, versions="current")).start()
    try:
        s3 = server.client()
        made = put_versions(s3)
        wait_for_replication(s3, "rec", "cam.mp4")
        wait_for_replication(s3, "rec", "source.mp4")
        assert tier_keys(tier) == ["cam.mp4", "source.mp4"]
        assert sorted(str(p.relative_to(nas)) for p in nas.rglob("*") if p.is_file()) == ["cam.mp4", "source.mp4"]
        assert tier.get_object(Bucket="archive", Key="cam.mp4")["Body"].read() == made[-1][1]
    finally:
        server.cleanup()


def test_deleting_a_version_deletes_its_copies(tmp_path, moto):
    moto_endpoint, tier = moto
    nas = tmp_path / "nas"
    nas.mkdir()
    config = versioned_tier_config(tmp_path, moto_endpoint, nas, versions="all", deletes=True)
    server = DepotServer(config=config).start()
    try:
        s3 = server.client()
        made = put_versions(s3)
        for version_id, _ in made:
            wait_for_replication(s3, "rec", "cam.mp4", VersionId=version_id)
        oldest = made[0][0]
        s3.delete_object(Bucket="rec", Key="cam.mp4", VersionId=oldest)
        wait_until(lambda: version_copy("cam.mp4", oldest) not in tier_keys(tier), "the S3 tier's copy is deleted")
        wait_until(lambda: not (nas / version_copy("cam.mp4", oldest)).exists(), "the filesystem copy is deleted")
        # The other versions' copies and the current one's plain key stay.
        keys = tier_keys(tier)
        for version_id, _ in made[1:]:
            assert version_copy("cam.mp4", version_id) in keys
            assert (nas / version_copy("cam.mp4", version_id)).exists()
        assert "cam.mp4" in keys
        # A delete marker is not copied as an object.
        s3.delete_object(Bucket="rec", Key="cam.mp4")
        time.sleep(1)
        assert all(k.startswith(".depot-versions/") or k in ("cam.mp4", "source.mp4") for k in tier_keys(tier))
        assert len([k for k in tier_keys(tier) if k.startswith(".depot-versions/")]) == 3  # two of cam, one of source
    finally:
        server.cleanup()


def test_an_evicted_older_version_is_read_through_from_its_own_copy(tmp_path):
    nas = tmp_path / "nas"
    config = nas_config(tmp_path, nas, replicate="to: [nas], versions: all", policy="transition: { after: 7d }",
                        storage="lifecycleInterval: 1s")
    server = DepotServer(config=config, extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    try:
        s3 = server.client()
        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})

        def evicted(**extra):
            head = s3.head_object(Bucket="rec", Key="cam.mp4", **extra)
            return head["ResponseMetadata"]["HTTPHeaders"].get("x-depot-local-copy") == "evicted"

        first_bytes = os.urandom(5000)
        first = s3.put_object(Bucket="rec", Key="cam.mp4", Body=first_bytes)["VersionId"]
        wait_until(evicted, "the first version is evicted")
        second_bytes = os.urandom(6000)
        second = s3.put_object(Bucket="rec", Key="cam.mp4", Body=second_bytes)["VersionId"]
        wait_for_replication(s3, "rec", "cam.mp4", VersionId=second)
        assert evicted(VersionId=first)
        got = s3.get_object(Bucket="rec", Key="cam.mp4", VersionId=first)
        assert got["Body"].read() == first_bytes
        ranged = s3.get_object(Bucket="rec", Key="cam.mp4", VersionId=first, Range="bytes=100-199")
        assert ranged["Body"].read() == first_bytes[100:200]
        assert s3.get_object(Bucket="rec", Key="cam.mp4")["Body"].read() == second_bytes
        # Once the second is evicted too and then deleted, the first is current again while the
        # tier's plain key still holds the second's bytes: the first must still read as itself.
        wait_until(lambda: evicted(VersionId=second), "the second version is evicted")
        s3.delete_object(Bucket="rec", Key="cam.mp4", VersionId=second)
        assert s3.get_object(Bucket="rec", Key="cam.mp4")["Body"].read() == first_bytes
        ranged = s3.get_object(Bucket="rec", Key="cam.mp4", Range="bytes=100-199")
        assert ranged["Body"].read() == first_bytes[100:200]
    finally:
        server.cleanup()


def test_each_versions_tier_state_survives_an_index_rebuild(tmp_path):
    """An older version's tier state is logged with that version, so `fsck --rebuild-index`
    restores it (and the rebuilt index equals the live one)."""
    import shutil

    from conftest import run_depot

    nas = tmp_path / "nas"
    server = DepotServer(config=nas_config(tmp_path, nas, tier="bandwidth: 200KB")).start()
    try:
        s3 = server.client()
        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        # The tier takes 200 KB/s, so each version is replaced before its copy (a quarter of a
        # second) finishes: the copy still lands, and its state is recorded on the version.
        ids = [s3.put_object(Bucket="rec", Key="cam.mp4", Body=os.urandom(50_000 + i))["VersionId"] for i in range(4)]
        assert s3.head_object(Bucket="rec", Key="cam.mp4", VersionId=ids[0])["ReplicationStatus"] == "PENDING"
        for version_id in ids:
            wait_for_replication(s3, "rec", "cam.mp4", VersionId=version_id)
            assert (nas / version_copy("cam.mp4", version_id)).exists()
        server.stop()
        before = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert run_depot("index", "dump", "--data", server.data_dir, check=True).stdout == before
        server.start()
        s3 = server.client()
        for version_id in ids:
            assert s3.head_object(Bucket="rec", Key="cam.mp4", VersionId=version_id)["ReplicationStatus"] == "COMPLETED"
    finally:
        server.cleanup()


def test_expiring_tier_copies_takes_the_current_versions_own_copy_too(tmp_path):
    """`expire: { where: tiers }` removes the current version's copies: the plain key and its
    `.depot-versions/` copy. (Older versions are not expired by age; their copies stay.)"""
    nas = tmp_path / "nas"
    config = nas_config(tmp_path, nas, policy="expire: { after: 1d, where: tiers }", storage="lifecycleInterval: 1s")
    server = DepotServer(config=config, extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(2 * 86400)}).start()
    try:
        s3 = server.client()
        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        older = s3.put_object(Bucket="rec", Key="cam.mp4", Body=b"1" * 3000)["VersionId"]
        current = s3.put_object(Bucket="rec", Key="cam.mp4", Body=b"2" * 3000)["VersionId"]
        wait_for_replication(s3, "rec", "cam.mp4", VersionId=older)
        wait_until(lambda: not (nas / "cam.mp4").exists() and not (nas / version_copy("cam.mp4", current)).exists(),
                   "the current version's tier copies expire")
        assert (nas / version_copy("cam.mp4", older)).read_bytes() == b"1" * 3000
        # Locally both versions stay (where: tiers).
        assert s3.get_object(Bucket="rec", Key="cam.mp4")["Body"].read() == b"2" * 3000
    finally:
        server.cleanup()


def test_queued_version_copies_survive_a_restart(tmp_path):
    """A queued copy remembers that it is for every version: after a crash and restart, versions
    replaced while their copies waited still land under their own keys."""
    nas = tmp_path / "nas"
    server = DepotServer(config=nas_config(tmp_path, nas, tier="bandwidth: 100KB")).start()
    try:
        s3 = server.client()
        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        made = {}
        for i in range(4):
            data = os.urandom(60_000 + i)
            made[s3.put_object(Bucket="rec", Key="cam.mp4", Body=data)["VersionId"]] = data
        server.kill9()  # a graceful stop finishes the copies in flight
        assert not all((nas / version_copy("cam.mp4", v)).exists() for v in made)
        server.start()
        s3 = server.client()
        for version_id, data in made.items():
            wait_for_replication(s3, "rec", "cam.mp4", VersionId=version_id)
            assert (nas / version_copy("cam.mp4", version_id)).read_bytes() == data
    finally:
        server.cleanup()


def test_a_version_made_current_again_returns_to_the_plain_key(tmp_path):
    """Deleting the current version by id, or the delete marker above a version, makes an older
    version current: the tier's plain key holds its bytes again."""
    nas = tmp_path / "nas"
    server = DepotServer(config=nas_config(tmp_path, nas, replicate="to: [nas], deletes: true")).start()
    try:
        s3 = server.client()
        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        first = s3.put_object(Bucket="rec", Key="cam.mp4", Body=b"1" * 2000)["VersionId"]
        second = s3.put_object(Bucket="rec", Key="cam.mp4", Body=b"2" * 2000)["VersionId"]
        for version_id in (first, second):
            wait_for_replication(s3, "rec", "cam.mp4", VersionId=version_id)
        assert (nas / "cam.mp4").read_bytes() == b"2" * 2000
        s3.delete_object(Bucket="rec", Key="cam.mp4", VersionId=second)
        wait_until(lambda: (nas / "cam.mp4").exists() and (nas / "cam.mp4").read_bytes() == b"1" * 2000,
                   "the plain key holds the first version again")
        wait_until(lambda: not (nas / version_copy("cam.mp4", second)).exists(), "the second version's copy goes")
        wait_for_replication(s3, "rec", "cam.mp4")
        # A delete marker removes the plain copy; deleting the marker brings it back.
        marker = s3.delete_object(Bucket="rec", Key="cam.mp4")["VersionId"]
        wait_until(lambda: not (nas / "cam.mp4").exists(), "the delete marker removes the plain copy")
        s3.delete_object(Bucket="rec", Key="cam.mp4", VersionId=marker)
        wait_until(lambda: (nas / "cam.mp4").exists() and (nas / "cam.mp4").read_bytes() == b"1" * 2000,
                   "the plain key is back after the marker is removed")
        assert (nas / version_copy("cam.mp4", first)).read_bytes() == b"1" * 2000
    finally:
        server.cleanup()


def test_on_demand_replication_keeps_the_versions_own_copy(tmp_path):
    """An on-demand policy with `versions: all`: a requested copy of a version also goes to its
    own key, and a version replaced before its requested copy ran still gets it."""
    nas = tmp_path / "nas"
    config = nas_config(tmp_path, nas, replicate="to: [nas], mode: on-demand, versions: all", tier="bandwidth: 100KB",
                        name="asked")
    server = DepotServer(config=config).start()
    try:
        s3 = server.client()
        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        admin = Admin(server.endpoint)
        first_bytes, second_bytes = os.urandom(60_000), os.urandom(1000)
        first = s3.put_object(Bucket="rec", Key="cam.mp4", Body=first_bytes)["VersionId"]
        assert s3.head_object(Bucket="rec", Key="cam.mp4").get("ReplicationStatus") is None  # nothing until asked
        status, body = admin.post("/admin/v1/replicate", {"bucket": "rec", "tier": "nas", "keys": ["cam.mp4"]})
        assert status == 202, body
        second = s3.put_object(Bucket="rec", Key="cam.mp4", Body=second_bytes)["VersionId"]
        wait_for_replication(s3, "rec", "cam.mp4", VersionId=first)
        assert (nas / version_copy("cam.mp4", first)).read_bytes() == first_bytes
        assert os.getxattr(nas / version_copy("cam.mp4", first), "user.meta.depot-version-id").decode() == first
        # The second version was never asked for.
        assert s3.head_object(Bucket="rec", Key="cam.mp4", VersionId=second).get("ReplicationStatus") is None
        assert not (nas / version_copy("cam.mp4", second)).exists()
    finally:
        server.cleanup()


def test_failed_copies_of_older_versions_are_listed_and_retried(tmp_path):
    nas = tmp_path / "nas"
    nas.write_text("a file where the share's directory should be")  # every copy fails
    server = DepotServer(config=nas_config(tmp_path, nas, tier="maxAttempts: 1")).start()
    try:
        s3 = server.client()
        admin = Admin(server.endpoint)
        s3.put_bucket_versioning(Bucket="rec", VersioningConfiguration={"Status": "Enabled"})
        first = s3.put_object(Bucket="rec", Key="cam.mp4", Body=b"1" * 1000)["VersionId"]
        second = s3.put_object(Bucket="rec", Key="cam.mp4", Body=b"2" * 1000)["VersionId"]
        for version_id in (first, second):
            wait_for_replication(s3, "rec", "cam.mp4", want="FAILED", VersionId=version_id)
        failed = admin.get("/admin/v1/replication/failed")[1]["failed"]
        assert sorted((f["key"], f.get("versionId", "")) for f in failed) == [("cam.mp4", ""), ("cam.mp4", first)], failed
        nas.unlink()
        nas.mkdir()
        status, body = admin.post("/admin/v1/replication/retry", {"bucket": "rec"})
        assert status == 200 and body["requeued"] == 2, body
        for version_id, data in ((first, b"1" * 1000), (second, b"2" * 1000)):
            wait_for_replication(s3, "rec", "cam.mp4", VersionId=version_id, timeout=60)
            assert (nas / version_copy("cam.mp4", version_id)).read_bytes() == data
        assert (nas / "cam.mp4").read_bytes() == b"2" * 1000
        assert admin.get("/admin/v1/replication/failed")[1]["failed"] == []
    finally:
        server.cleanup()


def test_locked_versions_keep_their_lock_on_an_object_lock_s3_tier(tmp_path, moto):
    """A tier copy of a locked version says its lock in metadata, and an S3 tier marked
    `objectLock: true` (its bucket has Object Lock) keeps the copy under the same retention
    and legal hold."""
    import datetime

    moto_endpoint, tier = moto
    tier.create_bucket(Bucket="vault", ObjectLockEnabledForBucket=True)
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
tiers:
  - {{ name: cloud, type: s3, endpoint: "{moto_endpoint}", region: us-east-1, bucket: vault,
       accessKey: tier-key, secretKey: tier-secret, objectLock: true }}
policies:
  - {{ name: evidence, match: {{ bucket: evidence }}, replicate: {{ to: [cloud] }} }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="evidence", ObjectLockEnabledForBucket=True)
        until = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        locked = s3.put_object(Bucket="evidence", Key="clip.mp4", Body=b"e" * 2000, ObjectLockMode="GOVERNANCE",
                               ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")["VersionId"]
        plain = s3.put_object(Bucket="evidence", Key="note.txt", Body=b"n")["VersionId"]
        wait_for_status_in = lambda key, v: wait_for_replication(s3, "evidence", key, VersionId=v)  # noqa: E731
        wait_for_status_in("clip.mp4", locked)
        wait_for_status_in("note.txt", plain)
        for key in ("clip.mp4", version_copy("clip.mp4", locked)):
            head = tier.head_object(Bucket="vault", Key=key)
            assert head["Metadata"] == {"depot-version-id": locked, "depot-lock-mode": "GOVERNANCE",
                                        "depot-retain-until": "2031-01-02T03:04:05.000Z", "depot-legal-hold": "ON"}, head
            # (moto's GetObjectRetention answers 500; HEAD shows the same retention.)
            assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"] == until, head
            assert head["ObjectLockLegalHoldStatus"] == "ON"
            assert tier.get_object_legal_hold(Bucket="vault", Key=key)["LegalHold"]["Status"] == "ON"
        # A version without a lock is copied without one.
        assert tier.head_object(Bucket="vault", Key="note.txt")["Metadata"] == {"depot-version-id": plain}
        assert "ObjectLockMode" not in tier.head_object(Bucket="vault", Key="note.txt")
    finally:
        server.cleanup()
