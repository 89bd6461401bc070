"""Cluster mode with several nodes (issue 21): three `depot serve` processes on their own ports
and data directories, one `cluster:` section (a private PostgreSQL as the shared index, moto_server
as the shared chunk store), serve one namespace. What one node writes, the others list and read
byte-identical; the same content uploaded through two nodes at once is stored once (one row per
chunk in depot_chunks); concurrent PUTs through all three nodes all commit (the nodes' batches
conflict in PostgreSQL and are re-run, PostgresIndex.write); a delete through one node is seen
by the others; while the shared index is unreachable writes get 503 SlowDown (not 500), and
they resume without a restart."""
import concurrent.futures
import hashlib
import os
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from cluster_support import cluster_nodes, postgres  # noqa: F401 (fixture)
from conftest import ROOT_PASSWORD, ROOT_USER


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    with cluster_nodes(postgres, tmp_path_factory, ["node-a", "node-b", "node-c"]) as started:
        assert "index in PostgreSQL at" in started.nodes[0].logs()
        yield started


def listed(client, bucket, prefix=""):
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def test_what_node_a_writes_nodes_b_and_c_list_and_read_byte_identical(cluster):
    a, b, c = (node.client() for node in cluster.nodes)
    a.create_bucket(Bucket="shared")
    body = os.urandom(700_000)
    a.put_object(Bucket="shared", Key="cam-1/clip.mp4", Body=body)
    for other in (b, c):
        assert [bucket["Name"] for bucket in other.list_buckets()["Buckets"]] == ["shared"]
        assert listed(other, "shared") == ["cam-1/clip.mp4"]
        assert other.get_object(Bucket="shared", Key="cam-1/clip.mp4")["Body"].read() == body
        ranged = other.get_object(Bucket="shared", Key="cam-1/clip.mp4", Range="bytes=100000-199999")
        assert ranged["Body"].read() == body[100_000:200_000]
    # The bucket is one record for all: creating it again through another node (us-east-1's
    # idempotent answer to its owner) leaves one bucket, with its object.
    b.create_bucket(Bucket="shared")
    assert [bucket["Name"] for bucket in c.list_buckets()["Buckets"]] == ["shared"]
    assert listed(c, "shared") == ["cam-1/clip.mp4"]


def test_the_same_content_through_two_nodes_at_once_is_indexed_once(cluster):
    a, b, c = (node.client() for node in cluster.nodes)
    a.create_bucket(Bucket="dedup")
    body = os.urandom(400_000)
    before = int(cluster.sql("SELECT count(*) FROM depot_chunks"))
    a.put_object(Bucket="dedup", Key="first.mp4", Body=body)
    one_copy = int(cluster.sql("SELECT count(*) FROM depot_chunks")) - before
    assert one_copy >= 1
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        puts = [pool.submit(client.put_object, Bucket="dedup", Key=key, Body=body)
                for client, key in [(b, "second.mp4"), (c, "third.mp4")]]
        for put in puts:
            put.result()
    assert int(cluster.sql("SELECT count(*) FROM depot_chunks")) - before == one_copy
    # References are counted across nodes: deleting two copies leaves the third readable.
    b.delete_object(Bucket="dedup", Key="first.mp4")
    c.delete_object(Bucket="dedup", Key="second.mp4")
    for client in (a, b, c):
        assert client.get_object(Bucket="dedup", Key="third.mp4")["Body"].read() == body


def test_concurrent_puts_of_different_keys_through_all_three_nodes_all_commit(cluster):
    clients = [node.client() for node in cluster.nodes]
    clients[0].create_bucket(Bucket="busy")
    bodies = {f"cam-{i % 5}/clip-{i}.mp4": os.urandom(20_000 + 997 * i) for i in range(30)}

    def put(item):
        index, (key, body) = item
        answer = clients[index % 3].put_object(Bucket="busy", Key=key, Body=body)
        return key, answer["ETag"].strip('"')

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        etags = dict(pool.map(put, enumerate(bodies.items())))
    assert all(etags[key] == hashlib.md5(body).hexdigest() for key, body in bodies.items())
    for client in clients:
        assert sorted(listed(client, "busy")) == sorted(bodies)
    for index, (key, body) in enumerate(bodies.items()):
        reader = clients[(index + 1) % 3]
        assert reader.get_object(Bucket="busy", Key=key)["Body"].read() == body, key


def test_a_delete_through_node_c_is_seen_by_node_a(cluster):
    a, _, c = (node.client() for node in cluster.nodes)
    a.create_bucket(Bucket="gone")
    a.put_object(Bucket="gone", Key="keep.mp4", Body=b"keep")
    a.put_object(Bucket="gone", Key="drop.mp4", Body=b"drop")
    c.delete_object(Bucket="gone", Key="drop.mp4")
    assert listed(a, "gone") == ["keep.mp4"]
    with pytest.raises(a.exceptions.NoSuchKey):
        a.get_object(Bucket="gone", Key="drop.mp4")
    c.delete_object(Bucket="gone", Key="keep.mp4")
    c.delete_bucket(Bucket="gone")
    assert "gone" not in [bucket["Name"] for bucket in a.list_buckets()["Buckets"]]


def test_writes_get_503_slowdown_while_the_shared_index_is_unreachable_and_resume_after(postgres, tmp_path_factory):  # noqa: F811
    with cluster_nodes(postgres, tmp_path_factory, ["node-o"], index_through_proxy=True) as started:
        node, proxy = started.nodes[0], started.proxy
        s3 = node.client()
        s3.create_bucket(Bucket="outage")
        s3.put_object(Bucket="outage", Key="before.mp4", Body=b"before")
        once = boto3.client(
            "s3", endpoint_url=node.endpoint, region_name="us-east-1", aws_access_key_id=ROOT_USER,
            aws_secret_access_key=ROOT_PASSWORD,
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, read_timeout=60))
        proxy.stop()
        started = time.time()
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            once.put_object(Bucket="outage", Key="during.mp4", Body=os.urandom(10_000))
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503, refused.value.response
        assert refused.value.response["Error"]["Code"] == "SlowDown"
        assert time.time() - started < 25
        proxy.start()
        deadline = time.time() + 30
        while True:
            try:
                once.put_object(Bucket="outage", Key="after.mp4", Body=b"after")
                break
            except botocore.exceptions.ClientError as error:
                assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503, error.response
                assert time.time() < deadline, "writes did not resume"
                time.sleep(0.5)
        assert sorted(item["Key"] for item in s3.list_objects_v2(Bucket="outage")["Contents"]) == ["after.mp4", "before.mp4"]
