"""`depot fsck --rebuild-index` rebuilds the LMDB index from the segment files alone."""
import os
import random
import shutil

from conftest import DepotServer, run_depot


def test_rebuilt_index_equals_original(tmp_path):
    server = DepotServer(data_dir=str(tmp_path / "data")).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="first")
        s3.create_bucket(Bucket="second")
        s3.put_bucket_tagging(Bucket="second", Tagging={"TagSet": [{"Key": "site", "Value": "a"}]})
        rng = random.Random(5)
        shared = os.urandom(600_000)
        expected = {}
        for i in range(300):
            bucket = "first" if i % 3 else "second"
            key = f"cam-{i % 7}/{i:04d}.mp4"
            size = rng.choice([0, 10, 4096, 300_000, 2_500_000])
            data = shared if i % 10 == 0 else os.urandom(size)
            s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata={"n": str(i)})
            expected[(bucket, key)] = data
        for i in range(0, 300, 11):
            bucket = "first" if i % 3 else "second"
            key = f"cam-{i % 7}/{i:04d}.mp4"
            s3.delete_object(Bucket=bucket, Key=key)
            expected.pop((bucket, key))
        s3.copy_object(Bucket="first", Key="copied.mp4", CopySource={"Bucket": "first", "Key": "cam-1/0001.mp4"})
        expected[("first", "copied.mp4")] = expected[("first", "cam-1/0001.mp4")]
        server.stop()

        before = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        assert before.count("\nobject ") + before.startswith("object ") >= len(expected) - 1
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        after = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
        assert after == before

        server.start()
        s3 = server.client()
        for (bucket, key), data in expected.items():
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data, key
    finally:
        server.cleanup()
