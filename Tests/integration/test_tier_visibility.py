"""Replication visibility (issue 19 #4): a tier that cannot be reached shows in `depot status`
(and the admin API and metrics) its backlog, an oldest-pending age that keeps growing across
retries, its last error with its time and its circuit breaker; past the tier's `failingAfter`
it is failing: `depot_tier_failing` is 1 and one warning line (alert=tier_failing) is logged,
and one more (alert=tier_recovered) when a copy gets through again, never one per attempt."""
import json
import re
import time

import pytest
import requests

from admin_client import Admin
from backends import Moto, TcpProxy
from conftest import DepotServer, run_depot


@pytest.fixture
def moto():
    backend = Moto()
    yield backend
    backend.stop()


def metric(server, name, tier):
    text = requests.get(f"{server.endpoint}/metrics", timeout=10).text
    match = re.search(rf'^{name}\{{tier="{tier}"\}} (\S+)$', text, re.M)
    assert match, (name, text[-3000:])
    return float(match.group(1))


def status(server, *extra):
    done = run_depot("status", "--endpoint", server.endpoint, *extra, env={})
    assert done.returncode == 0, done.stderr
    return done.stdout


def tier_status(server, name):
    return next(t for t in json.loads(status(server, "--json"))["tiers"] if t["name"] == name)


def alert_lines(server, alert):
    return [line for line in open(server.log_path).read().splitlines() if f"alert={alert}" in line]


def test_a_dead_tier_shows_backlog_growing_age_last_error_breaker_and_alerts_once(tmp_path, moto):
    proxy = TcpProxy(moto.port)  # not started: its port is closed, as a dead endpoint's
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: cloud, type: s3, endpoint: "http://127.0.0.1:{proxy.port}", bucket: archive, accessKey: tier-key,
       secretKey: tier-secret, failingAfter: 2s, concurrency: 8 }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [cloud] }} }}
""")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        for i in range(6):  # enough failures in a row (all at once) to open the breaker
            s3.put_object(Bucket="rec", Key=f"cam7/{i}.mp4", Body=b"v" * 1000)
        # The HTTP client keeps trying to connect for 10 s before an attempt fails.
        deadline = time.time() + 30
        while not tier_status(server, "cloud")["failing"] and time.time() < deadline:
            time.sleep(0.3)
        first = tier_status(server, "cloud")
        assert first["failing"] is True and first["backlog"] == 6, first
        assert first["breaker"] in ("open", "half-open") and first["consecutiveFailures"] >= 5, first
        assert first["failingAfterSeconds"] == 2 and first["failingForSeconds"] >= 2
        error = first["lastError"]
        assert str(proxy.port) in error["message"] or "refused" in error["message"].lower(), error
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", error["time"]) and error["ageSeconds"] < 10
        assert metric(server, "depot_tier_failing", "cloud") == 1
        assert metric(server, "depot_tier_breaker_open", "cloud") == 1
        assert metric(server, "depot_replication_backlog", "cloud") == 6
        age_metric = metric(server, "depot_replication_oldest_pending_seconds", "cloud")
        time.sleep(2.2)
        # Retries move the tasks' due times on; the age counts from when each was first queued.
        later = tier_status(server, "cloud")
        assert later["oldestPendingAgeSeconds"] >= first["oldestPendingAgeSeconds"] + 2, (first, later)
        assert metric(server, "depot_replication_oldest_pending_seconds", "cloud") >= age_metric + 2
        text = status(server)
        line = next(l for l in text.splitlines() if l.startswith("cloud"))
        assert "FAILING for" in line and " 6 " in line, text
        assert "  last error " in text and " ago (" in text, text
        # Announced once, however many attempts failed.
        assert len(alert_lines(server, "tier_failing")) == 1, server.logs()
        assert not alert_lines(server, "tier_recovered")
        # The endpoint comes back: the breaker's next probe gets through, and the tier recovers.
        proxy.start()
        deadline = time.time() + 40
        while time.time() < deadline and tier_status(server, "cloud")["backlog"] > 0:
            time.sleep(0.5)
        recovered = tier_status(server, "cloud")
        assert recovered["backlog"] == 0 and recovered["failing"] is False and recovered["breaker"] == "closed", recovered
        assert "failingForSeconds" not in recovered and recovered["lastSuccess"]
        assert len(alert_lines(server, "tier_recovered")) == 1 and len(alert_lines(server, "tier_failing")) == 1
        assert metric(server, "depot_tier_failing", "cloud") == 0
        # The backlog gauges are refreshed at most once a second before a scrape.
        deadline = time.time() + 5
        while metric(server, "depot_replication_oldest_pending_seconds", "cloud") != 0 and time.time() < deadline:
            time.sleep(0.3)
        assert metric(server, "depot_replication_oldest_pending_seconds", "cloud") == 0
        # The admin API's replication view is the same report.
        code, body = Admin(server.endpoint).get("/admin/v1/replication")
        assert code == 200 and body["tiers"][0]["breaker"] == "closed"
    finally:
        server.cleanup()
        proxy.stop()


def test_failing_after_is_checked(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("""
tiers:
  - { name: cloud, type: filesystem, path: /tmp/x, failingAfter: 0s }
""")
    done = run_depot("config", "check", str(config))
    assert done.returncode != 0 and "tiers[0].failingAfter" in done.stdout + done.stderr, done
