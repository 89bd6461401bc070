"""The data directory's disk fills while uploads are being committed: each upload is stored whole
(object, its event, its replication task) or refused with 507 leaving none of them. The data
directory sits on a small tmpfs (mounting it needs root; the test is skipped otherwise)."""
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from admin_client import Admin
from backends import free_port
from conftest import DepotServer, run_depot

CONTENT = b"the same recording, so only its log record is written per upload " * 64


def test_uploads_on_a_filling_disk_are_all_or_nothing(tmp_path, small_disk):
    config = tmp_path / "depot.yaml"
    dead = f"http://127.0.0.1:{free_port()}"
    # The tier and the event sink are unreachable, so every task and event stays queued to be counted.
    config.write_text(f"""
storage: {{ segmentSize: 4MiB }}
buckets: [rec]
tiers:
  - {{ name: away, type: s3, endpoint: "{dead}", bucket: b, accessKey: k, secretKey: s }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [away] }} }}
events:
  sinks:
    - {{ name: hook, type: webhook, url: "{dead}/hook", match: {{ events: [created] }} }}
""")
    server = DepotServer(data_dir=str(small_disk / "data"), config=str(config)).start()
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="first", Body=CONTENT)
        # Leave a little room: the uploads below share one chunk, so each adds a log record and
        # index pages until the disk is full.
        free = os.statvfs(small_disk)
        filler = small_disk / "filler"
        with open(filler, "wb") as f:
            f.write(b"\0" * (free.f_bavail * free.f_frsize - 256 * 1024))

        def upload(i):
            key = f"cam/{i:04d}.mp4"
            try:
                s3.put_object(Bucket="rec", Key=key, Body=CONTENT)
                return key, 200
            except ClientError as error:
                return key, error.response["ResponseMetadata"]["HTTPStatusCode"]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(upload, range(1500)))
        stored = {key for key, status in results if status == 200} | {"first"}
        refused = {key for key, status in results if status != 200}
        assert {status for _, status in results} <= {200, 507}  # 507 InsufficientStorage
        assert refused, "the disk never filled"
        filler.unlink()

        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="rec"):
            listed |= {o["Key"] for o in page.get("Contents", [])}
        assert listed == stored
        for key in list(stored)[:50]:
            assert s3.get_object(Bucket="rec", Key=key)["Body"].read() == CONTENT

        # One queued copy and one event per stored object; none for a refused one.
        status, replication = Admin(server.endpoint).get("/admin/v1/replication")
        assert status == 200
        assert replication["tiers"][0]["backlog"] == len(stored)
        events = json.loads(run_depot("events", "status", "--json", env={"DEPOT_ENDPOINT": server.endpoint}).stdout)
        assert next(s for s in events["sinks"] if s["name"] == "hook")["backlog"] == len(stored)

        # With room again, uploads are stored again.
        s3.put_object(Bucket="rec", Key="after", Body=b"room again")
        assert s3.get_object(Bucket="rec", Key="after")["Body"].read() == b"room again"
        stored.add("after")

        # The index rebuilt from the segments alone holds what was acknowledged, no refused upload.
        server.stop()
        shutil.rmtree(os.path.join(server.data_dir, "index"))
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        server.start()
        s3 = server.client()
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="rec"):
            listed |= {o["Key"] for o in page.get("Contents", [])}
        assert len(listed - stored) == 0, f"{len(listed - stored)} refused uploads came back"
        assert listed == stored
    finally:
        server.cleanup()
