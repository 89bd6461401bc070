"""Cluster mode (issue 21): configuration made through one node reaches every node without a
restart. Two `depot serve` nodes share a private PostgreSQL index and a moto chunk store. Tiers,
policies, event sinks and accounts made through node A's admin API, and bucket settings set through
A's S3 API, take effect on node B within seconds (ConfigurationGeneration: a counter bumped in the
change's own transaction, polled every second by each node, which then rebuilds its configuration),
and so do their deletions."""
import os
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from admin_client import Admin
import waiting
from cluster_support import cluster_nodes, postgres  # noqa: F401 (fixture)

# One poll a second: a change is seen well within this (the bound also covers a loaded machine).
FOLLOW_SECONDS = 8


def wait_for(predicate, timeout=FOLLOW_SECONDS, what="condition"):
    return waiting.wait_for(predicate, timeout, what, every=0.1)


class Cluster:
    def __init__(self, postgres, database, moto, nodes):
        self.postgres = postgres
        self.database = database
        self.moto = moto
        self.a, self.b = nodes
        self.admin_a, self.admin_b = Admin(self.a.endpoint), Admin(self.b.endpoint)


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    with cluster_nodes(postgres, tmp_path_factory, ["node-a", "node-b"]) as started:
        started.moto.client.create_bucket(Bucket="archive")
        yield Cluster(postgres, started.database, started.moto, started.nodes)


def status_of(admin, path):
    return admin.get(path)[0]


def generation(cluster):
    return int(cluster.postgres.psql(
        "SELECT value FROM depot_generations WHERE name = 'configuration'", database=cluster.database))


def test_object_writes_leave_the_configuration_generation_alone(cluster):
    # Only configuration moves it: were every upload to, every node would rebuild its
    # configuration once a second under load.
    a = cluster.a.client()
    a.create_bucket(Bucket="busy")
    before = generation(cluster)
    for i in range(5):
        a.put_object(Bucket="busy", Key=f"clip-{i}.mp4", Body=os.urandom(1000))
    a.delete_object(Bucket="busy", Key="clip-0.mp4")
    assert generation(cluster) == before
    a.put_bucket_versioning(Bucket="busy", VersioningConfiguration={"Status": "Enabled"})
    assert generation(cluster) == before + 1


def test_a_tier_and_replicate_policy_made_through_a_are_used_by_uploads_through_b(cluster):
    a, b = cluster.a.client(), cluster.b.client()
    a.create_bucket(Bucket="rec")
    status, tier = cluster.admin_a.put("/admin/v1/tiers/cloud", {
        "type": "s3", "endpoint": cluster.moto.endpoint, "bucket": "archive", "accessKey": "tier-key",
        "secretKey": "tier-secret", "prefix": "api/"})
    assert status == 201, tier
    status, policy = cluster.admin_a.post("/admin/v1/policies", {
        "name": "cams", "match": {"bucket": "rec", "prefix": "cam/"}, "replicate": {"to": ["cloud"]}})
    assert status == 201, policy
    wait_for(lambda: status_of(cluster.admin_b, "/admin/v1/policies/cams") == 200, what="node B knowing policy cams")
    assert [t["name"] for t in cluster.admin_b.get("/admin/v1/tiers")[1]["tiers"]] == ["cloud"]

    # An upload through B is queued for the tier by B's own planner, with A's policy.
    b.put_object(Bucket="rec", Key="cam/one.mp4", Body=b"1" * 3000)
    wait_for(lambda: b.head_object(Bucket="rec", Key="cam/one.mp4").get("ReplicationStatus") == "COMPLETED",
             timeout=30, what="the copy of an upload through B under A's policy")
    assert cluster.moto.client.get_object(Bucket="archive", Key="api/cam/one.mp4")["Body"].read() == b"1" * 3000

    # Deletions follow too: without the policy B queues nothing, and the tier goes from B's list.
    assert cluster.admin_a.delete("/admin/v1/policies/cams")[0] == 200
    wait_for(lambda: status_of(cluster.admin_b, "/admin/v1/policies/cams") == 404, what="node B forgetting policy cams")
    b.put_object(Bucket="rec", Key="cam/two.mp4", Body=b"2" * 100)
    time.sleep(1.5)
    assert b.head_object(Bucket="rec", Key="cam/two.mp4").get("ReplicationStatus") is None
    assert cluster.admin_a.delete("/admin/v1/tiers/cloud")[0] == 200
    wait_for(lambda: status_of(cluster.admin_b, "/admin/v1/tiers/cloud") == 404, what="node B forgetting tier cloud")


def test_an_account_made_on_a_is_listed_and_authenticates_on_b_and_its_removal_follows(cluster):
    cluster.a.client().create_bucket(Bucket="cams")
    status, created = cluster.admin_a.post("/admin/v1/accounts", {
        "name": "cam-7", "allow": [{"bucket": "cams", "actions": ["read", "write", "list"]}]})
    assert status == 201, created
    key, secret = created["accessKey"], created["secretKey"]

    def listed_on_b():
        return {account["accessKey"] for account in cluster.admin_b.get("/admin/v1/accounts")[1]["accounts"]}

    wait_for(lambda: key in listed_on_b(), what="node B listing the account made on A")
    camera = boto3.client(
        "s3", endpoint_url=cluster.b.endpoint, region_name="us-east-1", aws_access_key_id=key,
        aws_secret_access_key=secret, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def authenticates_on_b():
        # B's listing reads the index; its request authentication follows with the next rebuild.
        try:
            camera.put_object(Bucket="cams", Key="clip.mp4", Body=b"from a camera")
            return True
        except botocore.exceptions.ClientError as refused:
            assert refused.response["Error"]["Code"] == "InvalidAccessKeyId"
            return False

    wait_for(authenticates_on_b, what="node B authenticating the account made on A")
    assert cluster.a.client().get_object(Bucket="cams", Key="clip.mp4")["Body"].read() == b"from a camera"

    assert cluster.admin_a.delete(f"/admin/v1/accounts/{key}")[0] == 200
    wait_for(lambda: key not in listed_on_b(), what="node B forgetting the deleted account")
    wait_for(lambda: not authenticates_on_b(), what="node B refusing the deleted account")


def test_a_bucket_policy_set_through_a_is_enforced_on_b(cluster):
    a, b = cluster.a.client(), cluster.b.client()
    a.create_bucket(Bucket="pol")
    a.put_object(Bucket="pol", Key="secret/x.mp4", Body=b"x")
    a.put_bucket_policy(Bucket="pol", Policy=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject",'
        '"Resource":"arn:aws:s3:::pol/secret/*"}]}'))
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        b.get_object(Bucket="pol", Key="secret/x.mp4")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    a.delete_bucket_policy(Bucket="pol")
    assert b.get_object(Bucket="pol", Key="secret/x.mp4")["Body"].read() == b"x"


def test_lifecycle_rules_set_through_a_become_policies_on_b_and_go_with_them(cluster):
    a = cluster.a.client()
    a.create_bucket(Bucket="lcy")
    a.put_bucket_lifecycle_configuration(Bucket="lcy", LifecycleConfiguration={"Rules": [
        {"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "old/"}, "Expiration": {"Days": 30}}]})

    def lifecycle_policies_on_b():
        policies = cluster.admin_b.get("/admin/v1/policies")[1]["policies"]
        return [p["name"] for p in policies if p["name"].startswith("s3-lifecycle:lcy:")]

    wait_for(lambda: lifecycle_policies_on_b() == ["s3-lifecycle:lcy:old"], what="node B carrying A's lifecycle rule")
    a.delete_bucket_lifecycle(Bucket="lcy")
    wait_for(lambda: lifecycle_policies_on_b() == [], what="node B dropping the deleted lifecycle rule")


def test_an_event_sink_made_on_a_is_known_to_b_and_its_deletion_too(cluster):
    status, sink = cluster.admin_a.put("/admin/v1/events/ops", {"type": "webhook", "url": "http://127.0.0.1:9/ops"})
    assert status in (200, 201), sink
    wait_for(lambda: status_of(cluster.admin_b, "/admin/v1/events/ops") == 200, what="node B knowing sink ops")
    assert cluster.admin_b.get("/admin/v1/events/ops")[1]["url"] == "http://127.0.0.1:9/ops"
    assert cluster.admin_a.delete("/admin/v1/events/ops")[0] == 200
    wait_for(lambda: status_of(cluster.admin_b, "/admin/v1/events/ops") == 404, what="node B forgetting sink ops")
