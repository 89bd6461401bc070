"""Issue 14 #13: removing a tier (through the admin API, or from the configuration while Depot is
stopped) cancels its queued tasks visibly: each copy it was to make turns FAILED with the reason
"tier X was removed" (listed by the admin API's failed list), so nothing waits for ever on a tier
that will never answer again and the objects can expire."""
import socket

from admin_client import Admin
from conftest import DepotServer
from waiting import wait_for


def unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(s3, key):
    return s3.head_object(Bucket="rec", Key=key).get("ReplicationStatus")


def dead_tier():
    # Nothing listens there: every copy fails and waits out its backoff, PENDING.
    return {"type": "s3", "endpoint": f"http://127.0.0.1:{unused_port()}", "bucket": "b", "accessKey": "k",
            "secretKey": "s"}


def assert_cancelled(server, keys, tier):
    s3 = server.client()
    wait_for(lambda: all(status(s3, key) == "FAILED" for key in keys), 15, f"the copies to {tier} to be cancelled")
    admin = Admin(server.endpoint)
    code, failed = admin.get("/admin/v1/replication/failed")
    assert code == 200
    assert sorted((f["key"], f["tier"], f["lastError"]) for f in failed["failed"]) == [
        (key, tier, f"tier {tier} was removed") for key in sorted(keys)]
    assert f"tier {tier} was removed: {len(keys)} queued tasks cancelled" in server.logs()


def test_deleting_a_tier_through_the_admin_api_fails_its_queued_copies(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("buckets: [rec]\n")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        admin = Admin(server.endpoint)
        assert admin.put("/admin/v1/tiers/dead", dead_tier())[0] == 201
        assert admin.put("/admin/v1/policies/all", {"match": {"bucket": "rec"}, "replicate": {"to": ["dead"]}})[0] == 201
        keys = [f"cam/{i}.mp4" for i in range(5)]
        for key in keys:
            s3.put_object(Bucket="rec", Key=key, Body=b"x" * 100)
        assert all(status(s3, key) == "PENDING" for key in keys)
        assert admin.delete("/admin/v1/policies/all")[0] == 200
        code, body = admin.delete("/admin/v1/tiers/dead")
        assert code == 200, body
        assert_cancelled(server, keys, "dead")
        # A new object is no longer planned for the removed tier, and the queue holds nothing.
        s3.put_object(Bucket="rec", Key="after.mp4", Body=b"y")
        assert status(s3, "after.mp4") is None
    finally:
        server.cleanup()


def test_a_tier_removed_from_the_file_while_stopped_fails_its_queued_copies(tmp_path):
    config = tmp_path / "depot.yaml"
    tier = dead_tier()
    config.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: old, type: s3, endpoint: "{tier['endpoint']}", bucket: b, accessKey: k, secretKey: s }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [old] }} }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        keys = [f"cam/{i}.mp4" for i in range(3)]
        for key in keys:
            s3.put_object(Bucket="rec", Key=key, Body=b"x")
        server.stop()
        config.write_text("buckets: [rec]\n")
        server.start()
        assert_cancelled(server, keys, "old")
    finally:
        server.cleanup()
