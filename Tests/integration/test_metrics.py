"""`/metrics` in the Prometheus text format, parsed with prometheus_client's own parser after S3,
Vault and admin traffic: the expected series are there and move."""
import requests
from prometheus_client.parser import text_string_to_metric_families

from admin_client import Admin
from conftest import DepotServer


def scrape(server):
    r = requests.get(server.endpoint + "/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_metrics_after_traffic(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
storage: {{ }}
buckets: [rec]
accounts:
  - {{ name: cam, accessKey: CAMKEY, secretKey: cam-secret-1, allow: [{{ bucket: rec, actions: [read, write] }}],
      vault: {{ directory: "*", bucket: rec }} }}
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        before = scrape(server)
        s3 = server.client()
        data = b"d" * 100_000
        s3.put_object(Bucket="rec", Key="a.mp4", Body=data)
        s3.put_object(Bucket="rec", Key="b.mp4", Body=data)  # same bytes: deduplicated
        s3.get_object(Bucket="rec", Key="a.mp4")["Body"].read()
        s3.list_objects_v2(Bucket="rec")
        r = requests.post(server.endpoint + "/api/storage", data=b"v" * 1000, timeout=10, headers={
            "X-Kerberos-Storage-AccessKey": "CAMKEY", "X-Kerberos-Storage-SecretAccessKey": "cam-secret-1",
            "X-Kerberos-Storage-Directory": "cam", "X-Kerberos-Storage-FileName": "1_2_3_4_5_6.mp4"})
        assert r.status_code == 200
        assert Admin(server.endpoint).get("/admin/v1/status")[0] == 200
        server.restart()  # the storage gauges are computed at start and then on a schedule
        after = scrape(server)
        # Request counters survive only within one process: check the ones of this process.
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="c.mp4", Body=b"c" * 10)
        s3.head_object(Bucket="rec", Key="c.mp4")
        now = scrape(server)
        assert value(now, "depot_requests_total", api="s3", operation="PutObject", status="2xx") >= 1
        assert value(now, "depot_requests_total", api="s3", operation="HeadObject", status="2xx") >= 1
        assert value(now, "depot_request_duration_seconds_count", api="s3", operation="PutObject") >= 1
        assert value(now, "depot_bytes_received_total", api="s3") >= 10
        assert value(after, "depot_objects", bucket="rec") == 3
        assert value(after, "depot_logical_bytes", bucket="rec") == 2 * len(data) + 1000
        assert value(after, "depot_dedup_ratio") > 1.5
        assert value(after, "depot_segments") >= 1 and 0 < value(after, "depot_segment_live_ratio") <= 1
        assert value(after, "depot_index_used_bytes") > 0 and value(after, "depot_index_map_bytes") > 0
        assert ("depot_replication_backlog", (("tier", "nas"),)) in after
        assert value(before, "depot_objects", bucket="rec") == 0
    finally:
        server.cleanup()


def test_traffic_counters_by_api(tmp_path):
    server = DepotServer().start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="bkt")
        for i in range(3):
            s3.put_object(Bucket="bkt", Key=f"k{i}", Body=b"x" * 1000)
        s3.get_object(Bucket="bkt", Key="k0")["Body"].read()
        requests.post(server.endpoint + "/api/ping", timeout=10)
        Admin(server.endpoint).get("/admin/v1/tiers")
        samples = scrape(server)
        assert value(samples, "depot_requests_total", api="s3", operation="PutObject", status="2xx") == 3
        assert value(samples, "depot_requests_total", api="s3", operation="CreateBucket", status="2xx") == 1
        assert value(samples, "depot_bytes_sent_total", api="s3") >= 1000
        assert value(samples, "depot_requests_total", api="vault", operation="Ping", status="4xx") == 1
        assert value(samples, "depot_requests_total", api="admin", operation="GET /admin/v1/tiers", status="2xx") == 1
    finally:
        server.cleanup()
