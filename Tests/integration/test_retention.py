"""Retention (policy `expire`): per-object age, on an injected clock; never an object whose
replication is still pending."""
import time

from conftest import DepotServer
from test_tiering import free_port


def test_expiry_by_age_keeps_pending_replications(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
storage: {{ lifecycleInterval: 1s }}
buckets: [recordings]
tiers:
  - {{ name: down, type: s3, endpoint: "http://127.0.0.1:{free_port()}", bucket: b, accessKey: a, secretKey: s }}
  - {{ name: nas, type: filesystem, path: "{nas}" }}
policies:
  - {{ name: short, match: {{ bucket: recordings, prefix: "expire/" }}, expire: {{ after: 1d }} }}
  - {{ name: unsafe, match: {{ bucket: recordings, prefix: "pending/" }}, replicate: {{ to: [down] }}, expire: {{ after: 1d }} }}
  - {{ name: both, match: {{ bucket: recordings, prefix: "both/" }}, replicate: {{ to: [nas] }}, expire: {{ after: 1d, where: everywhere }} }}
  - {{ name: long, match: {{ bucket: recordings, prefix: "year/" }}, expire: {{ after: 365d }} }}
""")
    # The server's retention clock runs two days ahead: everything stored now is two days old.
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(2 * 86400)}).start()
    try:
        s3 = server.client()
        for prefix in ["expire/", "pending/", "both/", "year/", "none/"]:
            s3.put_object(Bucket="recordings", Key=prefix + "clip.mp4", Body=b"v" * 5000)
        deadline = time.time() + 30
        remaining = None
        while time.time() < deadline:
            remaining = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="recordings").get("Contents", []))
            if remaining == ["none/clip.mp4", "pending/clip.mp4", "year/clip.mp4"]:
                break
            time.sleep(0.3)
        assert remaining == ["none/clip.mp4", "pending/clip.mp4", "year/clip.mp4"]
        assert s3.head_object(Bucket="recordings", Key="pending/clip.mp4")["ReplicationStatus"] == "PENDING"
        # "everywhere": the confirmed copy on the tier went too.
        assert not (nas / "both" / "clip.mp4").exists()
    finally:
        server.cleanup()


def test_vault_account_retention_days_apply_to_what_that_account_wrote(tmp_path):
    import boto3
    config = tmp_path / "depot.yaml"
    config.write_text("""
storage: { lifecycleInterval: 1s }
buckets: [recordings]
accounts:
  - name: short-lived
    accessKey: SHORT
    secretKey: short-secret
    allow: [{ bucket: recordings, actions: [read, write, list] }]
    vault: { directory: "*", bucket: recordings, retentionDays: 1 }
  - name: long-lived
    accessKey: LONG
    secretKey: long-secret
    allow: [{ bucket: recordings, actions: [read, write, list] }]
    vault: { directory: "*", bucket: recordings, retentionDays: 30 }
""")
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(2 * 86400)}).start()
    try:
        for key, secret, name in [("SHORT", "short-secret", "a/short.mp4"), ("LONG", "long-secret", "a/long.mp4")]:
            client = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                                  aws_access_key_id=key, aws_secret_access_key=secret)
            client.put_object(Bucket="recordings", Key=name, Body=b"x" * 100)
        server.client().put_object(Bucket="recordings", Key="a/root.mp4", Body=b"y")
        deadline = time.time() + 20
        keys = None
        while time.time() < deadline:
            keys = sorted(o["Key"] for o in server.client().list_objects_v2(Bucket="recordings").get("Contents", []))
            if keys == ["a/long.mp4", "a/root.mp4"]:
                break
            time.sleep(0.3)
        assert keys == ["a/long.mp4", "a/root.mp4"]
    finally:
        server.cleanup()
