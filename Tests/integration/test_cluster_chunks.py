"""Cluster mode's shared chunk store (issue 21 item 3) through the real server: with
`cluster.chunks` pointing at a real moto_server, objects written through the S3 API go into pack
objects (`<prefix>packs/<writer>/<sequence>`), nothing goes to the local segments, and after a
restart with the read cache emptied the objects read back byte-identical from the packs (an index
rebuild over the filled shared index is refused); with the
store gone, cached reads go on and writes fail in bounded time with 503 SlowDown (clients retry)."""
import os
import shutil
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from backends import Moto
from cluster_support import chunks_section, cluster_config, fresh_database, postgres  # noqa: F401 (fixtures)
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot


def pack_keys(moto):
    listed = moto.client.list_objects_v2(Bucket="depot-chunks", Prefix="site-a/packs/")
    return [item["Key"] for item in listed.get("Contents", [])]


def test_objects_go_into_packs_and_read_back_through_a_cold_cache(fresh_database, tmp_path):
    moto = Moto()
    server = None
    try:
        moto.client.create_bucket(Bucket="depot-chunks")
        cache = tmp_path / "cache"
        config = cluster_config(tmp_path / "depot.yaml", fresh_database, "node-a", chunks_section(moto, cache))
        server = DepotServer(config=config).start()
        s3 = server.client()
        s3.create_bucket(Bucket="recordings")
        bodies = {f"cam-{i}/clip.mp4": os.urandom(size) for i, size in enumerate([0, 1, 70_000, 3_000_000])}
        for key, body in bodies.items():
            s3.put_object(Bucket="recordings", Key=key, Body=body)
        # Acknowledged means stored: the packs are in the bucket before any read.
        keys = pack_keys(moto)
        assert keys and all(len(key.split("/")) == 4 for key in keys), keys
        stored = sum(moto.client.head_object(Bucket="depot-chunks", Key=key)["ContentLength"] for key in keys)
        assert stored >= sum(len(body) for body in bodies.values())
        segments = os.path.join(server.data_dir, "segments")
        assert not [name for name in os.listdir(segments) if name.endswith(".seg")], os.listdir(segments)
        assert "chunks go to pack objects at " + moto.endpoint in server.logs()

        server.stop()
        # The log is in the packs, and a rebuild from them (test_cluster_rebuild) goes only into an
        # empty database: over this filled index it is refused, not run.
        rebuild = run_depot("fsck", "--rebuild-index", "--config", config, "--data", server.data_dir, timeout=60)
        assert rebuild.returncode != 0 and "not empty" in rebuild.stdout + rebuild.stderr, rebuild
        shutil.rmtree(cache)
        server.start()
        s3 = server.client()
        for key, body in bodies.items():
            assert s3.get_object(Bucket="recordings", Key=key)["Body"].read() == body, key
        ranged = s3.get_object(Bucket="recordings", Key="cam-3/clip.mp4", Range="bytes=1000000-2000000")
        assert ranged["Body"].read() == bodies["cam-3/clip.mp4"][1_000_000:2_000_001]
        assert any(name.endswith(".blk") for name in os.listdir(cache))

        # The store goes away: cached chunks still serve reads; a write fails in bounded time
        # with an error instead of an acknowledgement its chunks would not back.
        moto.stop()
        assert s3.get_object(Bucket="recordings", Key="cam-2/clip.mp4")["Body"].read() == bodies["cam-2/clip.mp4"]
        once = boto3.client(
            "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=ROOT_USER,
            aws_secret_access_key=ROOT_PASSWORD, config=Config(retries={"total_max_attempts": 1}))
        started = time.time()
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            once.put_object(Bucket="recordings", Key="cam-9/late.mp4", Body=os.urandom(50_000))
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert refused.value.response["Error"]["Code"] == "SlowDown"
        assert time.time() - started < 15
        with pytest.raises(botocore.exceptions.ClientError):
            s3.head_object(Bucket="recordings", Key="cam-9/late.mp4")
    finally:
        if server:
            server.cleanup()
        moto.stop()
